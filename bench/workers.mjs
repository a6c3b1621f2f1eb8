// Builds and starts the Workers under test, each in its own Miniflare instance (so each runs in
// its own workerd process, whose CPU time and memory can be read from /proc): the passthrough,
// the floor (a bare HTMLRewriter applying the same changes as Veneer), Veneer (src/worker.ts,
// bundled with esbuild) with and without DB and EVENTS bound, Veneer with a ruleset that leaves
// the bench pages alone, and Veneer behind a stalled KV.
import { bundleWorker } from '../scripts/bundle-worker.mjs'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'

const COMPAT_DATE = '2026-04-20' // wrangler.toml
const SECRETS = {
  VISITOR_SECRET: 'bench-visitor-secret-0123456789abcdef',
  QA_SECRET: 'bench-qa-secret-0123456789abcdef',
  ADMIN_TOKEN: 'bench-admin-token',
  PROFILE_SECRET: 'bench-profile-secret-0123456789abcdef',
}

/** The passthrough baseline: fetch ORIGIN_URL + path, return the response as it is. */
export const PASSTHROUGH = `export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const headers = new Headers(request.headers)
    headers.set('accept-encoding', 'gzip, br')
    return fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: 'manual' })
  },
}`

/**
 * The cookie floor: the passthrough plus what any Worker must do to remember a new visitor on a
 * page it does not change, which Veneer does on a page it leaves alone (SPEC 5, 8): a random id,
 * an HS256-signed token of the same claims as \`veneer_visitor\`, the \`Set-Cookie\`, and the
 * response made private (\`Cache-Control: private\`, \`Vary: Cookie\`, the origin's validators
 * dropped). Written as a hand-written Worker would be, with none of Veneer's code: it is the floor
 * for the "page left alone" figure, as the bare HTMLRewriter is for the personalized page.
 */
export const COOKIE_FLOOR = `const enc = new TextEncoder()
let key
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, '').replace(/\\+/g, '-').replace(/\\//g, '_')
const HEADER = b64url(enc.encode(JSON.stringify({ alg: 'HS256', kid: 'default' })))
export default {
  async fetch(request, env) {
    key ??= await crypto.subtle.importKey('raw', enc.encode(env.VISITOR_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const url = new URL(request.url)
    const headers = new Headers(request.headers)
    headers.set('accept-encoding', 'gzip, br')
    const origin = await fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: 'manual' })
    if (origin.status !== 200 || !(origin.headers.get('content-type') ?? '').startsWith('text/html')) return origin
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: b64url(crypto.getRandomValues(new Uint8Array(16))), fs: now, ls: now, ss: 1, pv: 1, vw: {}, ca: 0, pu: 0, iat: now, exp: now + 400 * 86400 }
    const input = HEADER + '.' + b64url(enc.encode(JSON.stringify(claims)))
    const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(input)))
    const res = new Response(origin.body, origin)
    const h = res.headers
    h.delete('etag')
    h.delete('last-modified')
    h.append('set-cookie', 'veneer_visitor=' + input + '.' + b64url(signature) + '; Max-Age=' + 400 * 86400 + '; Path=/; HttpOnly; SameSite=Lax')
    const cc = h.get('cache-control')
    h.set('cache-control', cc === null ? 'private' : 'private, ' + cc)
    const vary = h.get('vary')
    h.set('vary', vary === null ? 'Cookie' : vary + ', Cookie')
    return res
  },
}`

/**
 * Wraps the Veneer Worker so that every request sees a fresh RULES binding whose reads stall
 * for STALL_MS: each request is a cold lookup against a stalled KV (SPEC 11, budget).
 */
const STALLED_KV_WRAPPER = `import veneer from './veneer.mjs'
export default {
  fetch(request, env, ctx) {
    const stalled = { get: (...args) => new Promise((resolve) => setTimeout(() => resolve(env.RULES.get(...args)), Number(env.STALL_MS))) }
    return veneer.fetch(request, { ...env, RULES: stalled }, ctx)
  },
}`

/**
 * The floor (SPEC 11): fetch the page, apply `ops` (selector → the operations Veneer applies for
 * the bench visitor, values filled) with HTMLRewriter, and nothing else: no decision, no cookie,
 * no JavaScript in the byte path. The operations are written as src/rewrite/apply.ts applies them.
 */
export function floorScript(ops) {
  return `const OPS = ${JSON.stringify(ops)}
function classes(el) { return (el.getAttribute('class') ?? '').split(/\\s+/).filter((c) => c !== '') }
function apply(el, op) {
  switch (op.op) {
    case 'setText': el.setInnerContent(op.value, { html: false }); break
    case 'setHtml': el.setInnerContent(op.value, { html: true }); break
    case 'append': el.append(op.value, { html: true }); break
    case 'setAttr': el.setAttribute(op.name, op.value); break
    case 'addClass': { const l = classes(el); if (!l.includes(op.className)) el.setAttribute('class', [...l, op.className].join(' ')); break }
    default: throw new Error('floor: unsupported op ' + op.op)
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const headers = new Headers(request.headers)
    headers.set('accept-encoding', 'gzip, br')
    const res = await fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: 'manual' })
    const rw = new HTMLRewriter()
    for (const [selector, list] of OPS) rw.on(selector, { element(el) { for (const op of list) apply(el, op) } })
    return rw.transform(res)
  },
}`
}

/** The D1 migrations, applied statement by statement (what `wrangler d1 migrations apply` does). */
async function migrate(db) {
  const dir = join(import.meta.dirname, '..', 'migrations')
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const sql = readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n')
    const statements = sql
      .split(';')
      .map((x) => x.trim())
      .filter((x) => x !== '')
    await db.batch(statements.map((x) => db.prepare(x)))
  }
}

export async function bundleVeneer() {
  return bundleWorker()
}

/** The workerd processes this Node process started (Miniflare's children), by pid. */
export function workerdPids() {
  const pids = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (comm.startsWith('workerd') && ppid === process.pid) pids.push(Number(name))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

/**
 * CPU time a process has used, in ms: the sum over its threads of the scheduler's own count
 * (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds), so short runs are not rounded to the 10 ms
 * clock ticks of utime + stime, which are the fallback where schedstat is missing.
 */
export function cpuMs(pid) {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // the thread ended while we looked
      }
    }
    if (ns > 0) return ns / 1e6
  } catch {
    // no schedstat: the clock ticks below
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime (fields 14 and 15)
}

/** Resident memory of a process, in MB. */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round((kb / 1024) * 10) / 10
}

export async function start(name, options) {
  const before = new Set(workerdPids())
  const mf = new Miniflare({ compatibilityDate: COMPAT_DATE, host: '127.0.0.1', ...options })
  const url = await mf.ready
  const pid = workerdPids().find((p) => !before.has(p))
  if (pid === undefined) throw new Error(`bench: no workerd process found for ${name}`)
  return { name, mf, url: url.href.replace(/\/$/, ''), pid }
}

/**
 * Starts every Worker of the bench on its port. `rulesets`: `veneer` (the bench ruleset) and
 * `alone` (one that leaves the bench pages alone); `floorOps`: the floor's operations. The
 * `fallback` Worker has no ruleset at all. With `processes` > 1, each Worker of the side-by-side
 * comparison also runs in that many more workerd processes (ports + 100, + 200, …), listed in
 * its `targets`; its `url` and `pid` are the first process's.
 */
export async function startWorkers({ originUrl, ports, rulesets, floorOps, stallMs = 2000, processes = 1 }) {
  const veneerCode = await bundleVeneer()
  const bindings = { ORIGIN_URL: originUrl, ...SECRETS }
  const veneerModules = [{ type: 'ESModule', path: 'veneer.mjs', contents: veneerCode }]
  const all = []
  /** One Worker in `processes` workerd processes; `setup` runs on each (ruleset, migrations). */
  const startAll = async (name, options, setup = async () => {}) => {
    const copies = []
    for (let i = 0; i < processes; i++) {
      const w = await start(name, { ...options, port: options.port + 100 * i })
      await setup(w)
      copies.push(w)
      all.push(w)
    }
    return { ...copies[0], targets: copies.map((w) => ({ url: w.url, pid: w.pid })) }
  }
  const ruleset = (text) => async (w) => (await w.mf.getKVNamespace('RULES')).put('ruleset', text)
  const passthrough = await startAll('passthrough', { port: ports.passthrough, modules: true, script: PASSTHROUGH, bindings })
  // The A/A control: the same passthrough again, in processes of its own.
  const passthroughAgain = await startAll('passthrough (again)', {
    port: ports.passthroughAgain,
    modules: true,
    script: PASSTHROUGH,
    bindings,
  })
  const floor = await startAll('floor', { port: ports.floor, modules: true, script: floorScript(floorOps), bindings })
  const veneer = await startAll(
    'veneer',
    { port: ports.veneer, modules: veneerModules, bindings, kvNamespaces: ['RULES'] },
    ruleset(rulesets.veneer),
  )
  const bound = await startAll(
    'veneer+DB+EVENTS',
    {
      port: ports.bound,
      modules: veneerModules,
      bindings,
      kvNamespaces: ['RULES'],
      d1Databases: ['DB'],
      queueProducers: { EVENTS: { queueName: 'veneer-events' } },
      queueConsumers: { 'veneer-events': { maxBatchSize: 100, maxBatchTimeout: 5, maxRetries: 5 } },
    },
    async (w) => {
      await migrate(await w.mf.getD1Database('DB'))
      await ruleset(rulesets.veneer)(w)
    },
  )
  const alone = await startAll(
    'veneer (page left alone)',
    { port: ports.alone, modules: veneerModules, bindings, kvNamespaces: ['RULES'] },
    ruleset(rulesets.alone),
  )
  const cookieFloor = await startAll('cookie floor', { port: ports.cookieFloor, modules: true, script: COOKIE_FLOOR, bindings })
  // No RULES binding: every page is the fallback (`x-veneer: fallback`), the origin's page as it is.
  const fallback = await startAll('veneer (fallback)', { port: ports.fallback, modules: veneerModules, bindings })
  const stalled = await start('veneer-kv-stalled', {
    port: ports.stalled,
    modules: [{ type: 'ESModule', path: 'wrapper.mjs', contents: STALLED_KV_WRAPPER }, ...veneerModules],
    bindings: { ...bindings, STALL_MS: String(stallMs) },
    kvNamespaces: ['RULES'],
  })
  await ruleset(rulesets.veneer)(stalled)
  all.push(stalled)
  return {
    passthrough,
    passthroughAgain,
    floor,
    veneer,
    bound,
    alone,
    cookieFloor,
    fallback,
    stalled,
    async dispose() {
      for (const w of all) await w.mf.dispose()
    },
  }
}
