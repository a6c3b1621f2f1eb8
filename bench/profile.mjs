// `node bench/profile.mjs [--page /page-100KB] [--n 2000] [--variant full|alone|fallback] [--top 40]`:
// a JavaScript CPU profile of the Veneer Worker under sequential requests, taken through workerd's
// inspector (Chrome DevTools protocol). Prints self time by function (top N) and writes the
// profile to /tmp/veneer.cpuprofile (open it in Chrome DevTools). Native time spent inside
// HTMLRewriter or fetch shows as "(program)" or the calling function; workerd's CPU from /proc is
// printed alongside so the JavaScript share can be read. See docs/performance.md.
import { readFileSync, writeFileSync } from 'node:fs'
import { Miniflare } from 'miniflare'
import WebSocket from 'ws'
import { aloneRuleset, benchRuleset } from './fixtures.mjs'
import { closeAgent, timedGet } from './measure.mjs'
import { startOrigin } from './origin.mjs'
import { bundleVeneer, cpuMs, workerdPids } from './workers.mjs'

const args = process.argv.slice(2)
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt)
const PAGE = arg('--page', '/page-100KB')
const N = Number(arg('--n', '2000'))
const VARIANT = arg('--variant', 'full')
const TOP = Number(arg('--top', '40'))
const PORT = 9149
const INSPECTOR = 9150
const ORIGIN_PORT = 9151

async function devtools(port) {
  let targets
  for (let i = 0; i < 50; i++) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json()
      if (targets.length > 0) break
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  const target = targets.find((t) => t.webSocketDebuggerUrl !== undefined) ?? targets[0]
  const ws = new WebSocket(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${port}/${target.id}`)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let id = 0
  const pending = new Map()
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data))
    if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)(msg)
      pending.delete(msg.id)
    }
  })
  return {
    send(method, params = {}) {
      const mid = ++id
      ws.send(JSON.stringify({ id: mid, method, params }))
      return new Promise((resolve) => pending.set(mid, resolve))
    },
    close: () => ws.close(),
  }
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  const dt = profile.timeDeltas
  for (let i = 0; i < profile.samples.length; i++)
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0))
  const byFn = new Map()
  let total = 0
  for (const [nid, us] of self) {
    const n = byId.get(nid)
    const cf = n.callFrame
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').pop()}:${cf.lineNumber + 1}`
    byFn.set(key, (byFn.get(key) ?? 0) + us)
    total += us
  }
  return { total, rows: [...byFn].sort((a, b) => b[1] - a[1]) }
}

async function main() {
  const origin = await startOrigin(ORIGIN_PORT)
  const code = process.env.BUNDLE ? readFileSync(process.env.BUNDLE, 'utf8') : await bundleVeneer()
  const full = benchRuleset()
  const ruleset = VARIANT === 'alone' ? aloneRuleset(full) : VARIANT === 'fallback' ? undefined : full
  const before = new Set(workerdPids())
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: 'veneer.mjs', contents: code }],
    kvNamespaces: ruleset === undefined ? [] : ['RULES'],
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: PORT,
    inspectorPort: INSPECTOR,
    bindings: { ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}`, VISITOR_SECRET: 'bench-visitor-secret-0123456789abcdef' },
  })
  await mf.ready
  const pid = workerdPids().find((p) => !before.has(p))
  if (ruleset !== undefined) await (await mf.getKVNamespace('RULES')).put('ruleset', JSON.stringify(ruleset))
  const url = `http://127.0.0.1:${PORT}${PAGE}`
  let state
  for (let i = 0; i < 50; i++) state = (await timedGet(url)).headers['x-veneer']
  const dt = await devtools(INSPECTOR)
  await dt.send('Profiler.enable')
  await dt.send('Profiler.setSamplingInterval', { interval: 50 })
  await dt.send('Profiler.start')
  const c0 = cpuMs(pid)
  for (let i = 0; i < N; i++) await timedGet(url)
  const cpu = (cpuMs(pid) - c0) / N
  const { profile } = (await dt.send('Profiler.stop')).result
  dt.close()
  writeFileSync('/tmp/veneer.cpuprofile', JSON.stringify(profile))
  const { total, rows } = summarize(profile)
  console.log(`${VARIANT} ${PAGE}: x-veneer ${state}; workerd CPU ${cpu.toFixed(3)} ms/request (profiler on)`)
  console.log(`sampled ${(total / 1000 / N).toFixed(3)} ms/request; self time per request, top ${TOP}:`)
  for (const [k, us] of rows.slice(0, TOP)) console.log(`${(us / 1000 / N).toFixed(4).padStart(8)} ms  ${k}`)
  await mf.dispose()
  closeAgent()
  origin.close()
  origin.closeAllConnections?.()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
