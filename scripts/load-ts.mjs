// Loads one of the project's TypeScript modules in Node (the CLI and scripts share the
// Worker's own code): bundles it with esbuild into a temporary ES module and imports that.
import { build } from 'esbuild'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export async function loadTs(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'veneer-'))
  const outfile = join(dir, 'module.mjs')
  try {
    await build({
      entryPoints: [entry],
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
