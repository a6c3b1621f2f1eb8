// Loads one of the project's TypeScript modules in Node (the CLI and scripts share the
// Worker's own code): bundles it with esbuild into a temporary ES module and imports that.
import { build } from 'esbuild'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export async function loadTs(entry) {
  return loadBundle({ entryPoints: [entry] })
}

/**
 * Several modules (paths from the repository root) in ONE bundle (their exports merged), so that modules they share — and the
 * state those keep, e.g. a WeakMap — exist once, as in the Worker's own bundle.
 */
export async function loadTsTogether(entries) {
  const contents = entries.map((e) => `export * from ${JSON.stringify(`./${e}`)}`).join('\n')
  return loadBundle({ stdin: { contents, resolveDir: root, loader: 'ts' } })
}

async function loadBundle(input) {
  const dir = mkdtempSync(join(tmpdir(), 'veneer-'))
  const outfile = join(dir, 'module.mjs')
  try {
    await build({
      ...input,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile,
      logLevel: 'error',
      jsx: 'automatic',
      jsxImportSource: 'hono/jsx',
    })
    return await import(pathToFileURL(outfile).href)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
