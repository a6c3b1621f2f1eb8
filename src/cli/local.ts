// The `wrangler dev` local state of the project the CLI runs in, opened through that project's
// own wrangler (getPlatformProxy: same files, same format, same workerd as its `wrangler dev`).
// Never Veneer's own wrangler: a different workerd writes its state in a different schema, and the
// project's next `wrangler dev` then fails to start (issue 11: "_cf_ALARM has 3 columns").
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { TextStore } from '../admin/versions'
import { CliError, EXIT, type Flags, errorCode, str } from './io'

const CONFIG_NAMES = ['wrangler.toml', 'wrangler.jsonc', 'wrangler.json']

interface PlatformProxy {
  env: Record<string, unknown>
  dispose(): Promise<void>
}
type GetPlatformProxy = (options: {
  configPath: string
  persist: boolean | { path: string }
  remoteBindings?: boolean
}) => Promise<PlatformProxy>

/** The project's wrangler config: `--config`, else the first of wrangler.toml/.jsonc/.json here. */
export function findConfig(flags: Flags, cwd = process.cwd()): string {
  const given = str(flags, 'config')
  if (given !== undefined) {
    const path = resolve(cwd, given)
    if (!existsSync(path)) throw new CliError(EXIT.USAGE, `no ${path}: check --config`)
    return path
  }
  for (const name of CONFIG_NAMES) if (existsSync(join(cwd, name))) return join(cwd, name)
  throw new CliError(EXIT.USAGE, `no ${CONFIG_NAMES.join(', ')} in ${cwd}: run this in the Worker's folder, or pass --config`)
}

/** Where the project's own wrangler is installed, as seen from `projectDir`; undefined when none. */
export function projectWrangler(projectDir: string): { path: string; version: string } | undefined {
  const require = createRequire(join(projectDir, 'package.json'))
  let pkgPath: string
  try {
    pkgPath = require.resolve('wrangler/package.json')
  } catch {
    return undefined
  }
  const pkg: unknown = JSON.parse(readFileSync(pkgPath, 'utf8'))
  const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined
  return { path: require.resolve('wrangler'), version: typeof version === 'string' ? version : '?' }
}

async function loadGetPlatformProxy(projectDir: string): Promise<GetPlatformProxy> {
  const found = projectWrangler(projectDir)
  if (found === undefined)
    throw new CliError(
      EXIT.IO,
      `--local needs this project's own wrangler, and none is installed in ${projectDir} ` +
        '(npm install --save-dev wrangler), or use --remote --url <your Worker>. ' +
        'Veneer does not use a wrangler of its own here: its workerd could rewrite the local state in a format your `wrangler dev` cannot read.',
    )
  // wrangler's own info lines ("Using secrets defined in .dev.vars") would mix into our stdout,
  // which scripts parse as JSON; only its errors are of interest here.
  process.env.WRANGLER_LOG ??= 'error'
  const mod: unknown = await import(pathToFileURL(found.path).href)
  const fn = typeof mod === 'object' && mod !== null ? (mod as { getPlatformProxy?: unknown }).getPlatformProxy : undefined
  if (typeof fn !== 'function')
    throw new CliError(
      EXIT.IO,
      `the wrangler in ${projectDir} (${found.version}) has no getPlatformProxy: --local needs wrangler 3.45 or later`,
    )
  return fn as GetPlatformProxy
}

function isKv(v: unknown): v is KVNamespace {
  return typeof v === 'object' && v !== null && typeof (v as { get?: unknown }).get === 'function'
}

/**
 * Opens the project's local KV and gives `fn` a `TextStore` over its RULES binding (and the whole
 * local env). `--persist-to <dir>` is the same flag as `wrangler dev --persist-to`; `--config` the
 * wrangler config to read. Read-only commands never write.
 */
export async function withLocalRules<T>(
  flags: Flags,
  fn: (store: TextStore, env: Record<string, unknown>) => Promise<T>,
): Promise<T> {
  const configPath = findConfig(flags)
  const projectDir = dirname(configPath)
  const getPlatformProxy = await loadGetPlatformProxy(projectDir)
  const persistTo = str(flags, 'persist-to')
  const persist = persistTo === undefined ? true : { path: join(resolve(persistTo), 'v3') }
  let proxy: PlatformProxy
  try {
    proxy = await getPlatformProxy({ configPath, persist, remoteBindings: false })
  } catch (err) {
    throw new CliError(EXIT.IO, `cannot open the local wrangler state: ${errorCode(err)}`)
  }
  try {
    const kv = proxy.env.RULES
    if (!isKv(kv)) throw new CliError(EXIT.USAGE, `${configPath} has no RULES KV namespace`)
    const store: TextStore = { get: (key) => kv.get(key, 'text'), put: (key, value) => kv.put(key, value) }
    return await fn(store, proxy.env)
  } finally {
    await proxy.dispose()
  }
}
