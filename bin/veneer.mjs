#!/usr/bin/env node
// The `veneer` command (package.json "bin"); see `veneer --help` and docs/admin.md.
// A packed package carries the CLI built (dist/cli.mjs, made by `npm pack`); a checkout or a
// `file:` install runs the TypeScript source through esbuild (the bundler wrangler itself uses).
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli.mjs', import.meta.url)
let main
if (existsSync(built)) ({ main } = await import(built.href))
else {
  let loadTs
  try {
    ;({ loadTs } = await import('../scripts/load-ts.mjs'))
  } catch {
    process.stderr.write(
      'veneer: this copy has neither dist/cli.mjs nor esbuild to run its TypeScript source.\n' +
        'Install Veneer from a packed tarball (npm pack), or add esbuild (npm install --save-dev esbuild).\n',
    )
    process.exit(2)
  }
  ;({ main } = await loadTs(new URL('../src/cli/main.ts', import.meta.url).pathname))
}
process.exitCode = await main(process.argv.slice(2))
