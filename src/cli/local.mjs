// The `wrangler dev` local state: the RULES namespace as `wrangler dev` and `wrangler kv --local`
// see it, opened through wrangler's own getPlatformProxy (same files, same format).
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CliError, EXIT } from './env.mjs'

/**
 * Opens local KV; `fn(store)` gets a `TextStore` over the RULES binding. `--persist-to <dir>` is the
 * same flag as `wrangler dev --persist-to`; `--config` the wrangler.toml to read.
 */
export async function withLocalRules(flags, fn) {
  const configPath = resolve(flags.config ?? 'wrangler.toml')
  if (!existsSync(configPath))
    throw new CliError(EXIT.USAGE, `no ${configPath}: run this in the Worker's folder, or pass --config`)
  let getPlatformProxy
  // wrangler's own info lines ("Using secrets defined in .dev.vars") would mix into our stdout,
  // which scripts parse as JSON; only its errors are of interest here.
  process.env.WRANGLER_LOG ??= 'error'
  try {
    ;({ getPlatformProxy } = await import('wrangler'))
  } catch {
    throw new CliError(EXIT.IO, 'wrangler is not installed here (npm install --save-dev wrangler): --local needs it')
  }
  const persist = flags['persist-to'] === undefined ? true : { path: join(resolve(flags['persist-to']), 'v3') }
  let proxy
  try {
    proxy = await getPlatformProxy({ configPath, persist, remoteBindings: false })
  } catch (err) {
    throw new CliError(EXIT.IO, `cannot open the local wrangler state: ${err.message}`)
  }
  try {
    const kv = proxy.env.RULES
    if (kv === undefined) throw new CliError(EXIT.USAGE, `${configPath} has no RULES KV namespace`)
    const store = { get: (key) => kv.get(key, 'text'), put: (key, value) => kv.put(key, value) }
    return await fn(store, proxy.env)
  } finally {
    await proxy.dispose()
  }
}

/** Opens local D1 (the DB binding) the same way, for `veneer segments discover` without a file. */
export function withLocalDb(flags, fn) {
  return withLocalRules(flags, (_store, env) => {
    if (env.DB === undefined) throw new CliError(EXIT.USAGE, 'the wrangler config has no D1 database bound as DB')
    return fn(env.DB)
  })
}

/** What `veneer segments` needs from Node (src/segments/cli.ts is Worker-typed TypeScript). */
export const segmentsDeps = { withLocalDb, readText: (path) => readFileSync(path, 'utf8'), env: process.env }
