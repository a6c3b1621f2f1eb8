// Bundles the Veneer Worker (src/worker.ts) for miniflare, the way wrangler would: one ES module
// for workerd. Shared by the benchmark and the Node tests that run the Worker outside vitest.
import { build } from 'esbuild'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The bundle's text; with `outfile`, it is also written there. */
export async function bundleWorker({ outfile } = {}) {
  const result = await build({
    entryPoints: [join(root, 'src', 'worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'error',
    jsx: 'automatic',
    jsxImportSource: 'hono/jsx',
    external: ['cloudflare:*', 'node:*'],
  })
  const text = result.outputFiles[0].text
  if (outfile !== undefined) {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(outfile, text)
  }
  return text
}
