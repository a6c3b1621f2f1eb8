// `npm run bench`: the Veneer Worker side by side with a passthrough Worker, in one process
// and one run, against a local origin on 127.0.0.1 (SPEC 11). See docs/performance.md.
//
//   npm run bench                  everything (about 5 minutes)
//   npm run bench -- --skip-load   without the 200-connection load rounds
//   npm run bench -- --only load   (or npm run bench:load) only the load rounds
//   npm run bench -- --only scale  only the decision-time scale test (Node, no Workers)
//   npm run bench -- --quick       short runs, to check the bench itself works
//   npm run bench -- --rounds 5    more load rounds (default 3)
//   npm run bench -- --only load --load-worker passthrough   the load rounds against the passthrough (control)
//   npm run bench -- --out f.json  write the results elsewhere than bench/results.json
//   npm run bench -- --report      re-print the table and targets of bench/results.json
import { execSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { benchRuleset } from './fixtures.mjs'
import { closeAgent, load, timedGet, ttfbLoop } from './measure.mjs'
import { PAGES, SLOW, startOrigin } from './origin.mjs'
import { measureScale } from './scale.mjs'
import { rssMb, startWorkers } from './workers.mjs'

const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const QUICK = flag('quick')
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'bench/results.json'
const PORTS = { origin: 8841, passthrough: 8842, veneer: 8843, stalled: 8844 }
const BUDGET_MS = 50 // the cold-lookup budget of the personalize middleware (its default)
const LOAD_DURATION_S = QUICK ? 3 : 10
const STRESS = {
  connections: 200,
  durationS: QUICK ? 3 : 20,
  rounds: args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3,
}

const started = Date.now()
const log = (...a) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s]`, ...a)
const round = (x, d = 2) => (x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 10 ** d) / 10 ** d)

function meta() {
  let commit
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
  } catch {
    commit = undefined
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadAverageAtStart: os.loadavg().map((x) => round(x)),
    note: 'Loopback on one machine: origin, both Workers (each its own workerd process) and the load generator share the same cores, possibly with other work.',
  }
}

async function sanity(workers, originUrl) {
  const page = `${workers.veneer.url}/page-100KB`
  const v = await timedGet(page)
  const p = await timedGet(`${workers.passthrough.url}/page-100KB`)
  const o = await timedGet(`${originUrl}/page-100KB`)
  if (v.headers['x-veneer'] !== 'personalized')
    throw new Error(`bench: the Veneer Worker did not personalize (x-veneer: ${v.headers['x-veneer']})`)
  if (p.bytes !== o.bytes) throw new Error('bench: the passthrough Worker changed the page')
  return { veneerBytes: v.bytes, originBytes: o.bytes, xVeneer: v.headers['x-veneer'], serverTiming: v.headers['server-timing'] }
}

async function sideBySide(workers) {
  const rows = []
  for (const name of Object.keys(PAGES)) {
    const path = `/page-${name}`
    const n = QUICK ? 10 : name === '5MB' ? 20 : name === '1MB' ? 50 : 150
    for (const w of [workers.passthrough, workers.veneer]) {
      log(`${name} ${w.name}: time to first byte (${n} sequential requests)`)
      const ttfb = await ttfbLoop(w.url + path, { n, warmup: QUICK ? 2 : 10 })
      log(`${name} ${w.name}: load, 10 connections, ${LOAD_DURATION_S} s`)
      const l = await load(w.url + path, { connections: 10, duration: LOAD_DURATION_S, pid: w.pid })
      rows.push({ page: name, worker: w.name, ...l, ...ttfb })
    }
  }
  return rows
}

function ratios(rows) {
  const out = []
  for (const name of Object.keys(PAGES)) {
    const p = rows.find((r) => r.page === name && r.worker === 'passthrough')
    const v = rows.find((r) => r.page === name && r.worker === 'veneer')
    out.push({
      page: name,
      throughputRatio: round(v.rps / p.rps, 3),
      cpuRatio: round(v.cpuMsPerRequest / p.cpuMsPerRequest, 3),
      addedLatencyP50Ms: round(v.latencyP50Ms - p.latencyP50Ms),
      addedLatencyP99Ms: round(v.latencyP99Ms - p.latencyP99Ms),
      addedTtfbP50Ms: round(v.ttfbP50Ms - p.ttfbP50Ms),
      addedTtfbP99Ms: round(v.ttfbP99Ms - p.ttfbP99Ms),
      addedTotalP50Ms: round(v.totalP50Ms - p.totalP50Ms),
      addedTotalP99Ms: round(v.totalP99Ms - p.totalP99Ms),
    })
  }
  return out
}

async function slowOrigin(workers) {
  const out = {}
  for (const w of [workers.passthrough, workers.veneer]) {
    log(`slow origin ${w.name}`)
    out[w.name] = await ttfbLoop(`${w.url}/slow`, { n: QUICK ? 2 : 5, warmup: 1 })
  }
  out.originStreamsOverMs = SLOW.chunks * SLOW.intervalMs - SLOW.intervalMs
  return out
}

async function kvStalled(workers) {
  log(`KV stalled for 2 s: time to first byte, every request a cold lookup (budget ${BUDGET_MS} ms)`)
  const n = QUICK ? 5 : 30
  const stalled = await ttfbLoop(`${workers.stalled.url}/page-20KB`, { n, warmup: 2 })
  const baseline = await ttfbLoop(`${workers.passthrough.url}/page-20KB`, { n, warmup: 2 })
  const one = await timedGet(`${workers.stalled.url}/page-20KB`)
  return {
    stallMs: 2000,
    budgetMs: BUDGET_MS,
    limitMs: BUDGET_MS + 5,
    stalled,
    passthrough: baseline,
    serverTiming: one.headers['server-timing'],
    xVeneer: one.headers['x-veneer'],
    // Time to first byte over the passthrough's: what the stalled lookup costs the visitor.
    addedTtfbP50Ms: round(stalled.ttfbP50Ms - baseline.ttfbP50Ms),
    addedTtfbMaxMs: round(stalled.ttfbMaxMs - baseline.ttfbP50Ms),
  }
}

async function stress(workers) {
  const rounds = []
  // `--load-worker passthrough`: the same rounds against the passthrough, as a control.
  const w =
    args.includes('--load-worker') && args[args.indexOf('--load-worker') + 1] === 'passthrough'
      ? workers.passthrough
      : workers.veneer
  for (let i = 1; i <= STRESS.rounds; i++) {
    log(`load round ${i}/${STRESS.rounds}: ${STRESS.connections} connections, ${STRESS.durationS} s, ${w.name} /page-100KB`)
    const rssBefore = rssMb(w.pid)
    const l = await load(`${w.url}/page-100KB`, { connections: STRESS.connections, duration: STRESS.durationS, pid: w.pid })
    await new Promise((r) => setTimeout(r, 1000))
    rounds.push({ round: i, ...l, rssBeforeMb: rssBefore, rssAfterMb: rssMb(w.pid) })
  }
  const errors = rounds.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0)
  const growth = round(rounds[rounds.length - 1].rssAfterMb - rounds[0].rssAfterMb, 1)
  return { ...STRESS, worker: w.name, rounds, errors, rssGrowthRound1To3Mb: growth }
}

function targets(r) {
  const t = []
  const r100 = r.ratios?.find((x) => x.page === '100KB')
  if (r100 !== undefined) {
    t.push({
      target: 'added latency p50 ≤ 1 ms (100 KB page, sequential, full response)',
      measured: `${r100.addedTotalP50Ms} ms`,
      met: r100.addedTotalP50Ms <= 1,
    })
    t.push({
      target: 'added latency p99 ≤ 3 ms (100 KB page, sequential, full response)',
      measured: `${r100.addedTotalP99Ms} ms`,
      met: r100.addedTotalP99Ms <= 3,
    })
    t.push({
      target: 'added latency under load (10 connections) p50 ≤ 1 ms / p99 ≤ 3 ms',
      measured: `${r100.addedLatencyP50Ms} / ${r100.addedLatencyP99Ms} ms`,
      met: r100.addedLatencyP50Ms <= 1 && r100.addedLatencyP99Ms <= 3,
    })
    t.push({
      target: 'throughput ≥ 90% of passthrough (100 KB page)',
      measured: `${Math.round(r100.throughputRatio * 1000) / 10}%`,
      met: r100.throughputRatio >= 0.9,
    })
    t.push({
      target: 'workerd CPU per request ≤ 1.2× passthrough (100 KB page)',
      measured: `${r100.cpuRatio}×`,
      met: r100.cpuRatio <= 1.2,
    })
  }
  if (r.workers !== undefined) {
    const v = (name) => r.workers.find((x) => x.page === name && x.worker === 'veneer')
    const p = (name) => r.workers.find((x) => x.page === name && x.worker === 'passthrough')
    const growthV = v('5MB').ttfbP50Ms - v('20KB').ttfbP50Ms
    const growthP = p('5MB').ttfbP50Ms - p('20KB').ttfbP50Ms
    t.push({
      target: 'time to first byte does not grow with page size (20 KB → 5 MB)',
      measured: `Veneer ${v('20KB').ttfbP50Ms} → ${v('5MB').ttfbP50Ms} ms; passthrough ${p('20KB').ttfbP50Ms} → ${p('5MB').ttfbP50Ms} ms`,
      met: growthV <= growthP + 2,
    })
    const slow = r.slowOrigin
    t.push({
      target: 'streaming: first byte of a slowly streamed page before its last (slow origin)',
      measured: `Veneer TTFB ${slow.veneer.ttfbP50Ms} ms of ${slow.veneer.totalP50Ms} ms; passthrough ${slow.passthrough.ttfbP50Ms} of ${slow.passthrough.totalP50Ms} ms`,
      met: slow.veneer.ttfbP50Ms < slow.veneer.totalP50Ms / 4,
    })
  }
  if (r.kvStalled !== undefined) {
    const k = r.kvStalled
    const added = (x) => round(x - k.passthrough.ttfbP50Ms)
    t.push({
      target: `KV stalled: response starts within budgetMs + 5 ms (${k.limitMs} ms), median`,
      measured: `TTFB p50 ${k.stalled.ttfbP50Ms} ms, ${added(k.stalled.ttfbP50Ms)} ms over the passthrough's ${k.passthrough.ttfbP50Ms} ms`,
      met: added(k.stalled.ttfbP50Ms) <= k.limitMs,
    })
    t.push({
      target: `KV stalled: response starts within budgetMs + 5 ms (${k.limitMs} ms), every request`,
      measured: `TTFB p99 ${k.stalled.ttfbP99Ms} ms, max ${k.stalled.ttfbMaxMs} ms (${k.stalled.n} requests)`,
      met: added(k.stalled.ttfbMaxMs) <= k.limitMs,
    })
  }
  if (r.scale !== undefined) {
    t.push({
      target: '1,000 segments × 200 placements: decision ≤ 1 ms after compile',
      measured: `${r.scale.worstUs} µs (CPU)`,
      met: r.scale.worstWithin1ms,
    })
    t.push({
      target: 'decision cost grows about linearly',
      measured: r.scale.steps.map((s) => `${s.step}: ×${s.costFactor}`).join('; '),
      met: r.scale.linear,
    })
  }
  if (r.load !== undefined) {
    t.push({
      target: `load: ${r.load.connections} connections × ${r.load.durationS} s × ${r.load.rounds.length} rounds, zero errors (reported, not asserted)`,
      measured: `${r.load.errors} errors/timeouts/non-2xx`,
      met: r.load.errors === 0,
    })
    const rss = r.load.rounds.map((x) => x.rssAfterMb)
    const lastStep = round(rss[rss.length - 1] - rss[rss.length - 2], 1)
    t.push({
      target: 'load: no memory growth across rounds (workerd RSS after each round)',
      measured: `${r.load.rounds[0].rssBeforeMb} MB before, then ${rss.map((x) => `${x} MB`).join(' → ')} (last round +${lastStep} MB)`,
      met: lastStep <= 2,
    })
  }
  return t
}

const f = (x, d = 1) => (x === undefined ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x))
const pad = (s, n) => String(s).padStart(n)

export function table(r) {
  const lines = []
  if (r.workers !== undefined) {
    lines.push('page   worker       req/s  lat p50  lat p99  TTFB p50  TTFB p99  full p50  full p99  CPU ms/req')
    for (const name of Object.keys(PAGES)) {
      for (const w of ['passthrough', 'veneer']) {
        const x = r.workers.find((y) => y.page === name && y.worker === w)
        lines.push(
          `${name.padEnd(6)} ${w.padEnd(11)} ${pad(f(x.rps), 7)} ${pad(f(x.latencyP50Ms), 8)} ${pad(f(x.latencyP99Ms), 8)} ${pad(f(x.ttfbP50Ms, 2), 9)} ${pad(f(x.ttfbP99Ms, 2), 9)} ${pad(f(x.totalP50Ms, 2), 9)} ${pad(f(x.totalP99Ms, 2), 9)} ${pad(f(x.cpuMsPerRequest, 3), 11)}`,
        )
      }
      const q = r.ratios.find((y) => y.page === name)
      lines.push(
        `${''.padEnd(6)} ${'V/P'.padEnd(11)} ${pad(f(q.throughputRatio, 2) + '×', 7)} ${pad('+' + f(q.addedLatencyP50Ms), 8)} ${pad('+' + f(q.addedLatencyP99Ms), 8)} ${pad('+' + f(q.addedTtfbP50Ms, 2), 9)} ${pad('+' + f(q.addedTtfbP99Ms, 2), 9)} ${pad('+' + f(q.addedTotalP50Ms, 2), 9)} ${pad('+' + f(q.addedTotalP99Ms, 2), 9)} ${pad(f(q.cpuRatio, 2) + '×', 11)}`,
      )
    }
    lines.push(
      '(ms; req/s and latency: autocannon, 10 connections; TTFB and full: sequential requests on one kept-alive connection)',
    )
  }
  if (r.slowOrigin !== undefined) {
    const s = r.slowOrigin
    lines.push(
      '',
      `slow origin (100 KB in ${SLOW.chunks} chunks, ${SLOW.intervalMs} ms apart): TTFB / full p50  passthrough ${f(s.passthrough.ttfbP50Ms, 2)} / ${f(s.passthrough.totalP50Ms, 0)} ms, Veneer ${f(s.veneer.ttfbP50Ms, 2)} / ${f(s.veneer.totalP50Ms, 0)} ms`,
    )
  }
  if (r.kvStalled !== undefined) {
    const k = r.kvStalled
    lines.push(
      `KV stalled 2 s (x-veneer: ${k.xVeneer}): TTFB p50 ${f(k.stalled.ttfbP50Ms, 2)} ms, p99 ${f(k.stalled.ttfbP99Ms, 2)}, max ${f(k.stalled.ttfbMaxMs, 2)} (limit ${k.limitMs}); passthrough p50 ${f(k.passthrough.ttfbP50Ms, 2)} ms`,
    )
  }
  if (r.scale !== undefined) {
    lines.push(
      '',
      'decision time (µs of CPU per decision, compile excluded)',
      'segments \\ placements       10       50      200',
    )
    for (const s of [10, 100, 1000]) {
      const row = [10, 50, 200].map((p) =>
        pad(f(r.scale.rows.find((x) => x.segments === s && x.placements === p)?.usPerDecision), 8),
      )
      lines.push(`${String(s).padEnd(24)} ${row.join(' ')}`)
    }
  }
  if (r.load !== undefined) {
    lines.push(
      '',
      `load: ${r.load.connections} connections × ${r.load.durationS} s against ${r.load.worker ?? 'veneer'}, /page-100KB`,
    )
    for (const x of r.load.rounds)
      lines.push(
        `  round ${x.round}: ${f(x.rps)} req/s, p50 ${x.latencyP50Ms} ms, p99 ${x.latencyP99Ms} ms, errors ${x.errors}, timeouts ${x.timeouts}, non-2xx ${x.non2xx}, workerd RSS ${x.rssBeforeMb} → ${x.rssAfterMb} MB`,
      )
  }
  if (r.targets !== undefined) {
    lines.push('', 'SPEC 11 targets')
    for (const t of r.targets) lines.push(`  [${t.met ? 'met' : 'GAP'}] ${t.target}: ${t.measured}`)
  }
  return lines.join('\n')
}

async function main() {
  if (flag('report')) {
    // Re-derive the targets and the table from the last results (after changing how they read).
    const last = JSON.parse(readFileSync('bench/results.json', 'utf8'))
    last.targets = targets(last)
    last.table = table(last)
    writeFileSync('bench/results.json', JSON.stringify(last, null, 2) + '\n')
    console.log(last.table)
    return
  }
  const results = {
    meta: meta(),
    config: { ports: PORTS, budgetMs: BUDGET_MS, loadDurationS: LOAD_DURATION_S, quick: QUICK, args },
  }
  if (only === 'scale') {
    log('decision time scale (Node)')
    results.scale = await measureScale({ minMs: QUICK ? 100 : 500 })
  } else {
    const origin = await startOrigin(PORTS.origin)
    const originUrl = `http://127.0.0.1:${PORTS.origin}`
    const rulesetText = JSON.stringify(benchRuleset({ segments: 50, placements: 10, budgetMs: BUDGET_MS }))
    log('building and starting the Workers')
    const workers = await startWorkers({ originUrl, ports: PORTS, rulesetText })
    try {
      results.config.ruleset = { segments: 50, placements: 10, bytes: rulesetText.length }
      results.config.workerdPids = {
        passthrough: workers.passthrough.pid,
        veneer: workers.veneer.pid,
        stalled: workers.stalled.pid,
      }
      results.sanity = await sanity(workers, originUrl)
      if (only !== 'load') {
        results.workers = await sideBySide(workers)
        results.ratios = ratios(results.workers)
        results.slowOrigin = await slowOrigin(workers)
        results.kvStalled = await kvStalled(workers)
        log('decision time scale (Node)')
        results.scale = await measureScale({ minMs: QUICK ? 100 : 500 })
      }
      if (only === 'load' || !flag('skip-load')) results.load = await stress(workers)
    } finally {
      closeAgent()
      await workers.dispose()
      origin.close()
      origin.closeAllConnections?.()
    }
  }
  results.targets = targets(results)
  results.meta.durationS = Math.round((Date.now() - started) / 1000)
  results.meta.loadAverageAtEnd = os.loadavg().map((x) => round(x))
  results.table = table(results)
  writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n')
  console.log(results.table)
  log(`wrote ${OUT}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
