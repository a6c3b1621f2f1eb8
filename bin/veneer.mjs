#!/usr/bin/env node
// The `veneer` command (package.json "bin"); see `veneer --help` and docs/admin.md.
import { main } from '../src/cli/main.mjs'

process.exitCode = await main(process.argv.slice(2))
