// `node bench/profile-recs.mjs [--legacy] [--static] [--seconds 10]`: a JS CPU profile of the
// Veneer Worker serving the recs bench page (bench/recs.mjs's setup) through workerd's inspector
// (Chrome DevTools protocol): self time summed by function and file, the share spent in GC, and the
// isolate's heap in use before the run (the model held in memory, plus garbage not yet collected).
import { Miniflare } from 'miniflare'
import WebSocket from 'ws'
import { closeAgent, HEADERS, load } from './measure.mjs'
import { startOrigin } from './origin.mjs'
import { modelDoc, modelEntries, recommendOp, recsRuleset, staticHtml } from './recs-fixtures.mjs'
import { bundleVeneer } from './workers.mjs'

const args = process.argv.slice(2)
const LEGACY = args.includes('--legacy')
const STATIC = args.includes('--static')
const SECONDS = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 10
const PORTS = { origin: 9570, veneer: 9571, inspector: 9572 }

const r = recsRuleset(STATIC ? { op: 'setHtml', value: staticHtml } : recommendOp, 50)
const entries = await modelEntries(modelDoc(5000), { legacy: LEGACY })
const origin = await startOrigin(PORTS.origin)
const mf = new Miniflare({
  compatibilityDate: '2026-04-20',
  host: '127.0.0.1',
  port: PORTS.veneer,
  inspectorPort: PORTS.inspector,
  modules: [{ type: 'ESModule', path: 'veneer.mjs', contents: await bundleVeneer() }],
  bindings: { ORIGIN_URL: `http://127.0.0.1:${PORTS.origin}`, VISITOR_SECRET: 'bench-visitor-secret-0123456789abcdef' },
  kvNamespaces: ['RULES'],
})
const base = (await mf.ready).href.replace(/\/$/, '')
const kv = await mf.getKVNamespace('RULES')
await kv.put('ruleset', JSON.stringify(r))
for (const [k, v] of entries) await kv.put(k, v)
const url = `${base}/page-100KB`
for (let i = 0; i < 20; i++) await (await fetch(url, { headers: HEADERS })).text()
const targets = await (await fetch(`http://127.0.0.1:${PORTS.inspector}/json`)).json()
const ws = new WebSocket(targets[0].webSocketDebuggerUrl)
await new Promise((res, rej) => ws.once('open', res).once('error', rej))
let id = 0
const pending = new Map()
ws.on('message', (m) => {
  const msg = JSON.parse(m.toString())
  if (msg.id !== undefined) pending.get(msg.id)?.(msg.result ?? { error: msg.error })
})
const send = (method, params = {}) =>
  new Promise((res) => {
    pending.set(++id, res)
    ws.send(JSON.stringify({ id, method, params }))
  })
const heap = await send('Runtime.getHeapUsage')
if (heap.error) console.error('heap usage:', heap.error)
await send('Profiler.enable')
await send('Profiler.setSamplingInterval', { interval: 200 })
await send('Profiler.start')
const run = await load(url, { connections: 10, duration: SECONDS })
const { profile } = await send('Profiler.stop')
ws.close()
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i])
  const f = n.callFrame
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`
  self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)
console.log(
  `${LEGACY ? 'legacy' : 'v2'}${STATIC ? ' static' : ''}: ${run.requests} requests, profile ${(total / 1000).toFixed(0)} ms sampled, ${(total / 1000 / run.requests).toFixed(3)} ms per request`,
)
const recsRows = [...self].filter(([k]) =>
  /recommend|Recs|recs|ranking|fits|renderItem|escapeHtml|isSafeUrl|garbage|compileModel|decode|parse/i.test(k),
)
const recsUs = recsRows.filter(([k]) => !/garbage/.test(k)).reduce((a, [, us]) => a + us, 0)
for (const [k, us] of [...rows, ['--- recommendations and GC ---', 0], ...recsRows.sort((a, b) => b[1] - a[1])])
  console.log(`${(us / 1000 / run.requests).toFixed(4).padStart(8)} ms/req ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
console.log(`isolate heap in use before the run: ${(heap.usedSize / 1e6).toFixed(1)} MB used`)
console.log(`recommendations code (self time, excl. GC): ${(recsUs / 1000 / run.requests).toFixed(4)} ms per request`)
closeAgent()
await mf.dispose()
origin.close()
origin.closeAllConnections?.()
