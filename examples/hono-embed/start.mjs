#!/usr/bin/env node
// `npm start`: this example on http://localhost:8788, offline.
// 1. secrets into .dev.vars when missing (random, git-ignored);
// 2. ruleset.json into local KV (as the active ruleset) unless one is there;
// 3. Veneer's D1 migrations applied to the local database;
// 4. `wrangler dev` on port 8788.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const wrangler = join(here, 'node_modules', '.bin', 'wrangler')
const port = process.env.PORT ?? '8788'
// Offline and quiet: no download of request.cf data (the local placeholder is used), no telemetry.
const env = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', ...process.env }

if (!existsSync(wrangler)) {
  console.error('hono-embed: run `npm install` in this folder first')
  process.exit(1)
}
const run = (args) => execFileSync(wrangler, args, { cwd: here, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

const devVars = join(here, '.dev.vars')
const existing = existsSync(devVars) ? readFileSync(devVars, 'utf8') : ''
const missing = ['VISITOR_SECRET', 'QA_SECRET', 'ADMIN_TOKEN'].filter((k) => !new RegExp(`^${k}=`, 'm').test(existing))
if (missing.length > 0) {
  const lines = missing.map((k) => `${k}=${randomBytes(24).toString('base64url')}`)
  writeFileSync(devVars, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${lines.join('\n')}\n`, { mode: 0o600 })
  console.log(`hono-embed: wrote ${missing.join(', ')} to .dev.vars`)
}

let stored = ''
try {
  stored = run(['kv', 'key', 'get', 'ruleset', '--binding', 'RULES', '--local']).trim()
} catch {
  stored = ''
}
if (!stored.startsWith('{')) {
  run(['kv', 'key', 'put', 'ruleset', '--path', 'ruleset.json', '--binding', 'RULES', '--local'])
  console.log('hono-embed: seeded ruleset.json into local KV')
} else console.log('hono-embed: local KV already holds a ruleset; keeping it (npx veneer push ruleset.json to replace it)')

execFileSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local'], {
  cwd: here,
  env: { ...env, CI: '1' },
  stdio: ['ignore', 'pipe', 'pipe'],
})
console.log('hono-embed: local D1 migrations applied')
console.log(`hono-embed: starting wrangler dev on http://localhost:${port}`)
const child = spawn(wrangler, ['dev', '--port', port, ...process.argv.slice(2)], { cwd: here, env, stdio: 'inherit' })
child.on('exit', (code) => process.exit(code ?? 0))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
