#!/usr/bin/env node
// `npm start`: the demo on http://localhost:8787.
// 1. secrets into .dev.vars when missing (random, git-ignored);
// 2. the demo ruleset into local KV when none is there (or an older demo one);
// 3. local D1 migrations applied, when there are any;
// 4. `wrangler dev` in front of the bundled demo shop.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { seedRecs } from './seed-recs.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const wrangler = join(root, 'node_modules', '.bin', 'wrangler')
const port = process.env.PORT ?? '8787'
// Offline and quiet: miniflare would download request.cf data from workers.cloudflare.com (a
// stack trace per start when offline; its local placeholder is used either way) and wrangler
// would send usage metrics. Set either variable yourself to change that.
const env = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', ...process.env }

function run(args, opts = {}) {
  return execFileSync(wrangler, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env, ...opts })
}

// 1. Secrets.
const devVars = join(root, '.dev.vars')
const wanted = ['VISITOR_SECRET', 'QA_SECRET', 'ADMIN_TOKEN', 'PROFILE_SECRET']
const existing = existsSync(devVars) ? readFileSync(devVars, 'utf8') : ''
const missing = wanted.filter((k) => !new RegExp(`^${k}=`, 'm').test(existing))
if (missing.length > 0) {
  const lines = missing.map((k) => `${k}=${randomBytes(24).toString('base64url')}`)
  writeFileSync(devVars, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${lines.join('\n')}\n`, { mode: 0o600 })
  console.log(`veneer: wrote ${missing.join(', ')} to .dev.vars`)
}

// 2. Demo ruleset.
const demoPath = join(root, 'demo', 'ruleset.json')
const demo = JSON.parse(readFileSync(demoPath, 'utf8'))
let stored
try {
  const out = run(['kv', 'key', 'get', 'ruleset', '--binding', 'RULES', '--local'])
  stored = out.trim().startsWith('{') ? JSON.parse(out) : undefined
} catch {
  stored = undefined
}
const storedVersion = stored?.version === undefined ? undefined : String(stored.version)
if (stored === undefined || (storedVersion?.startsWith('demo-') && storedVersion !== demo.version)) {
  run(['kv', 'key', 'put', 'ruleset', '--path', demoPath, '--binding', 'RULES', '--local'])
  run(['kv', 'key', 'put', `ruleset:v:${demo.version}`, '--path', demoPath, '--binding', 'RULES', '--local'])
  console.log(`veneer: seeded the demo ruleset (${demo.version}) into local KV`)
} else {
  console.log(`veneer: local KV already holds ruleset ${storedVersion ?? '(no version)'}; keeping it (npm run seed to reset)`)
}

// 2b. Demo recommendations (catalog and model), when local KV has no model yet.
let hasModel = false
try {
  const stored = run(['kv', 'key', 'get', 'recs:model', '--binding', 'RULES', '--local']).trim()
  hasModel = stored.startsWith('{') || stored.startsWith('VENEER-RECS/') // format 1 or 2 (src/recs/model-codec.ts)
} catch {
  hasModel = false
}
if (!hasModel) {
  const recs = await seedRecs()
  console.log(`veneer: seeded the demo catalog (${recs.catalog}) and recommendations model (${recs.model})`)
}

// 3. D1 migrations.
const migrations = join(root, 'migrations')
if (existsSync(migrations) && readdirSync(migrations).some((f) => f.endsWith('.sql'))) {
  run(['d1', 'migrations', 'apply', 'DB', '--local'], { env: { ...env, CI: '1' } })
  console.log('veneer: local D1 migrations applied')
}

// 4. The Worker.
console.log(`veneer: starting wrangler dev on http://localhost:${port}`)
const child = spawn(wrangler, ['dev', '--port', port, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env })
child.on('exit', (code) => process.exit(code ?? 0))
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
