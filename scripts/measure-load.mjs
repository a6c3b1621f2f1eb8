#!/usr/bin/env node
// The load simulation of issue 12 (docs/measurement.md, "Scale"):
//   node scripts/measure-load.mjs [visitors]      (default 1,000,000)
// Visitors' events go through the edge counting code and the queue consumer into Miniflare's
// local D1; prints the rows stored, the time taken, and whether the results equal an exact
// per-visitor computation on the same data.
import { spawn } from 'node:child_process'

const visitors = process.argv[2] ?? '1000000'
const child = spawn('npx', ['vitest', 'run', '-c', 'scripts/vitest.measure-load.config.ts'], {
  stdio: 'inherit',
  env: { ...process.env, LOAD_VISITORS: visitors },
})
child.on('exit', (code) => process.exit(code ?? 1))
