#!/usr/bin/env node
// `npm run check:example` (and CI): examples/hono-embed works as its README says, offline.
// 1. `npm ci` there (Veneer installed from ../.. as a copy, as from a tarball) and its typecheck
//    (a typical Workers tsconfig compiling against Veneer's shipped sources);
// 2. `npm start` serves http://localhost:8788 and its home page answers `x-veneer: personalized`,
//    with no stack trace on the way;
// 3. the `npm pack` tarball installs there too, and its `veneer` binary (built dist/cli.mjs) runs.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const example = join(root, 'examples', 'hono-embed')
const port = process.env.EXAMPLE_PORT ?? '8788'
const step = (s) => console.log(`check-example: ${s}`)
const sh = (cmd, args, cwd = example) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] })

step('npm ci in examples/hono-embed')
sh('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'])
step('typecheck (tsc against the installed package)')
sh('npm', ['run', 'typecheck'])

step(`npm start on port ${port}`)
const child = spawn('npm', ['start'], { cwd: example, env: { ...process.env, PORT: port }, detached: true })
let output = ''
child.stdout.on('data', (d) => (output += d))
child.stderr.on('data', (d) => (output += d))
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {}
}
let failure
try {
  const deadline = Date.now() + 90_000
  let res
  while (Date.now() < deadline) {
    try {
      res = await fetch(`http://localhost:${port}/`, { signal: AbortSignal.timeout(5_000) })
      break
    } catch {
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  if (res === undefined) failure = 'the example did not answer within 90 s'
  else {
    const body = await res.text()
    const x = res.headers.get('x-veneer')
    if (x !== 'personalized') failure = `GET / answered x-veneer: ${x}, not personalized`
    else if (!body.includes('free delivery this week')) failure = 'GET / is not the personalized page'
    else step(`GET / → ${res.status}, x-veneer: ${x}`)
    const health = await fetch(`http://localhost:${port}/__veneer/health`)
    if (!health.ok) failure ??= `GET /__veneer/health answered ${health.status}`
  }
} finally {
  stop()
  await new Promise((r) => setTimeout(r, 1000))
}
if (/ENOTFOUND|\n\s+at .+:\d+:\d+\)?\n/.test(output)) failure ??= 'npm start printed a stack trace or ENOTFOUND'
if (failure !== undefined) {
  console.error(`check-example: FAILED: ${failure}\n--- npm start output ---\n${output}`)
  process.exit(1)
}

step('npm pack, then install the tarball in the example')
const packDir = mkdtempSync(join(tmpdir(), 'veneer-pack-'))
try {
  sh('npm', ['pack', '--pack-destination', packDir], root)
  const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'))
  if (tgz === undefined) throw new Error('npm pack wrote no tarball')
  sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, tgz)])
  sh('npx', ['--no-install', 'veneer', 'validate', 'ruleset.json'])
  sh('npm', ['run', 'typecheck'])
} finally {
  rmSync(packDir, { recursive: true, force: true })
}
step('ok')
