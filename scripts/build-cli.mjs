#!/usr/bin/env node
// `npm pack` (prepack): bundles the TypeScript CLI into dist/cli.mjs so that an installed tarball
// runs `veneer` without esbuild; `--clean` (postpack) removes it again, so a checkout always runs
// its current source (bin/veneer.mjs prefers dist/ when present).
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
if (process.argv.includes('--clean')) {
  rmSync(dist, { recursive: true, force: true })
} else {
  await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: join(dist, 'cli.mjs'),
    packages: 'external',
    logLevel: 'error',
    jsx: 'automatic',
    jsxImportSource: 'hono/jsx',
  })
  console.log('veneer: built dist/cli.mjs')
}
