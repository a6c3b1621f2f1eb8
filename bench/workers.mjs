// Builds and starts the two Workers under test, each in its own Miniflare instance (so each
// runs in its own workerd process, whose CPU time and memory can be read from /proc):
// the Veneer Worker (src/worker.ts, bundled with esbuild) and a passthrough Worker.
import { bundleWorker } from '../scripts/bundle-worker.mjs'
import { readdirSync, readFileSync } from 'node:fs'
import { Miniflare } from 'miniflare'

const COMPAT_DATE = '2026-04-20' // wrangler.toml
const SECRETS = {
  VISITOR_SECRET: 'bench-visitor-secret-0123456789abcdef',
  QA_SECRET: 'bench-qa-secret-0123456789abcdef',
  ADMIN_TOKEN: 'bench-admin-token',
  PROFILE_SECRET: 'bench-profile-secret-0123456789abcdef',
}

/** The passthrough baseline: fetch ORIGIN_URL + path, return the response as it is. */
const PASSTHROUGH = `export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const headers = new Headers(request.headers)
    headers.set('accept-encoding', 'gzip, br')
    return fetch(env.ORIGIN_URL + url.pathname + url.search, { method: request.method, headers, redirect: 'manual' })
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

export async function bundleVeneer() {
  return bundleWorker()
}

function workerdPids() {
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

/** utime + stime of a process, in ms of CPU (clock ticks of 10 ms on Linux). */
export function cpuMs(pid) {
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

async function start(name, options) {
  const before = new Set(workerdPids())
  const mf = new Miniflare({ compatibilityDate: COMPAT_DATE, host: '127.0.0.1', ...options })
  const url = await mf.ready
  const pid = workerdPids().find((p) => !before.has(p))
  if (pid === undefined) throw new Error(`bench: no workerd process found for ${name}`)
  return { name, mf, url: url.href.replace(/\/$/, ''), pid }
}

/** Starts the passthrough, Veneer and Veneer-with-stalled-KV Workers on the given ports. */
export async function startWorkers({ originUrl, ports, rulesetText, stallMs = 2000 }) {
  const veneerCode = await bundleVeneer()
  const bindings = { ORIGIN_URL: originUrl, ...SECRETS }
  const passthrough = await start('passthrough', { port: ports.passthrough, modules: true, script: PASSTHROUGH, bindings })
  const veneer = await start('veneer', {
    port: ports.veneer,
    modules: [{ type: 'ESModule', path: 'veneer.mjs', contents: veneerCode }],
    bindings,
    kvNamespaces: ['RULES'],
  })
  const stalled = await start('veneer-kv-stalled', {
    port: ports.stalled,
    modules: [
      { type: 'ESModule', path: 'wrapper.mjs', contents: STALLED_KV_WRAPPER },
      { type: 'ESModule', path: 'veneer.mjs', contents: veneerCode },
    ],
    bindings: { ...bindings, STALL_MS: String(stallMs) },
    kvNamespaces: ['RULES'],
  })
  for (const w of [veneer, stalled]) await (await w.mf.getKVNamespace('RULES')).put('ruleset', rulesetText)
  return {
    passthrough,
    veneer,
    stalled,
    async dispose() {
      for (const w of [passthrough, veneer, stalled]) await w.mf.dispose()
    },
  }
}
