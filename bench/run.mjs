// `npm run bench`: Veneer side by side with the passthrough and the floor (a bare HTMLRewriter
// Worker applying the same changes), each in its own workerd process, in one run with the rounds
// interleaved, against a local origin on 127.0.0.1 (SPEC 11). See docs/performance.md.
//
//   npm run bench                  everything (about 6 minutes)
//   npm run bench -- --rounds-ab 9 interleaved rounds of the side-by-side comparison (default 7)
//   npm run bench -- --processes 3 workerd processes per Worker in those rounds (default 2)
//   npm run bench -- --skip-load   without the 200-connection load rounds
//   npm run bench -- --only ab     only the side-by-side rounds, TTFB, slow origin, KV stalled, request input
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
import { aloneRuleset, benchRuleset, floorOps } from './fixtures.mjs'
import { burst, burstAcross, closeAgent, getText, load, timedGet, ttfbLoop } from './measure.mjs'
import { PAGES, SLOW, startOrigin } from './origin.mjs'
import { measureScale } from './scale.mjs'
import { rssMb, startWorkers } from './workers.mjs'

const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const QUICK = flag('quick')
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'bench/results.json'
const PORTS = {
  origin: 9141,
  passthrough: 9142,
  veneer: 9143,
  stalled: 9144,
  floor: 9145,
  bound: 9146,
  alone: 9147,
  passthroughAgain: 9160,
  cookieFloor: 9159,
  fallback: 9158,
}
const AB_ROUNDS = args.includes('--rounds-ab') ? Number(args[args.indexOf('--rounds-ab') + 1]) : QUICK ? 2 : 7
/** workerd processes per Worker in the side-by-side rounds (see burstAcross in measure.mjs). */
const PROCESSES = args.includes('--processes') ? Number(args[args.indexOf('--processes') + 1]) : QUICK ? 1 : 2
/**
 * Unmeasured requests each Worker process serves before the side-by-side rounds (the 100 KB page,
 * 8 at a time): the rounds then read the steady state of an isolate on a busy site, not V8 still
 * compiling the Worker's functions (docs/performance.md, "Warm-up, and the A/A control"). `--warmup 0`: none.
 */
const WARMUP = args.includes('--warmup') ? Number(args[args.indexOf('--warmup') + 1]) : QUICK ? 0 : 3000
/**
 * Requests per Worker per page per round. Readings of 1,000 requests moved from round to round as
 * much as readings of 300 (docs/performance.md, "Warm-up, and the A/A control"): the spread is
 * the machine's, so the rounds stay short and the passthrough's A/A control shows the spread.
 */
const AB_PAGES = {
  '100KB': QUICK ? 60 : 300,
  '1MB': QUICK ? 12 : 60,
  '100KB-select': QUICK ? 60 : 300,
  '100KB-guarded': QUICK ? 60 : 300,
}
const BUDGET_MS = 50 // the cold-lookup budget of the personalize middleware (its default)
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
  // The floor must do Veneer's work exactly: the same bytes out, for every page measured.
  for (const name of ['100KB', '1MB', '100KB-select']) {
    for (const w of [workers.veneer, workers.bound]) {
      const [a, b] = await Promise.all([getText(`${w.url}/page-${name}`), getText(`${workers.floor.url}/page-${name}`)])
      if (a.text !== b.text) {
        let at = 0
        while (a.text[at] === b.text[at]) at++
        throw new Error(
          `bench: ${w.name} and the floor differ on /page-${name} at byte ${at}: ${JSON.stringify(a.text.slice(at - 30, at + 50))} vs ${JSON.stringify(b.text.slice(at - 30, at + 50))}`,
        )
      }
    }
  }
  // The page the floor cannot parse: Veneer rewrites it up to the ambiguous <select>, then sends
  // the rest as the origin did.
  const [g, go] = await Promise.all([
    getText(`${workers.veneer.url}/page-100KB-guarded`),
    getText(`${originUrl}/page-100KB-guarded`),
  ])
  const rest = go.text.slice(go.text.indexOf('<select name="size">'))
  if (!g.text.endsWith(rest) || !g.text.includes('data-variant="rich-desktop"'))
    throw new Error('bench: Veneer did not deliver the guarded page whole and personalized')
  const alone = await timedGet(`${workers.alone.url}/page-100KB`)
  if (alone.headers['x-veneer'] !== 'generic' || alone.bytes !== o.bytes)
    throw new Error(`bench: the page-left-alone Worker answered ${alone.headers['x-veneer']} with ${alone.bytes} bytes`)
  // The cookie floor answers what the left-alone Worker answers: the same page, a visitor cookie
  // Veneer itself accepts (same claims, same key), and a private response.
  const cf = await timedGet(`${workers.cookieFloor.url}/page-100KB`)
  const cfCookie = [cf.headers['set-cookie']].flat().find((c) => c?.startsWith('veneer_visitor='))
  const aloneCookie = [alone.headers['set-cookie']].flat().find((c) => c?.startsWith('veneer_visitor='))
  if (
    cf.bytes !== o.bytes ||
    cfCookie === undefined ||
    aloneCookie === undefined ||
    !/^private/.test(cf.headers['cache-control'] ?? '')
  )
    throw new Error('bench: the cookie floor and the left-alone Worker do not both send the page whole with a visitor cookie')
  const back = await timedGet(`${workers.alone.url}/page-100KB`, { cookie: cfCookie.split(';')[0] })
  const pv = JSON.parse(
    Buffer.from(
      [back.headers['set-cookie']]
        .flat()
        .find((c) => c?.startsWith('veneer_visitor='))
        .split('.')[1],
      'base64url',
    ),
  )
  if (pv.pv !== 2) throw new Error(`bench: Veneer did not accept the cookie floor's token as its own (pv ${pv.pv})`)
  const fallback = await timedGet(`${workers.fallback.url}/page-100KB`)
  if (fallback.headers['x-veneer'] !== 'fallback' || fallback.bytes !== o.bytes)
    throw new Error(`bench: the fallback Worker answered ${fallback.headers['x-veneer']} with ${fallback.bytes} bytes`)
  return {
    veneerBytes: v.bytes,
    originBytes: o.bytes,
    xVeneer: v.headers['x-veneer'],
    serverTiming: v.headers['server-timing'],
    floorMatchesVeneer: true,
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * The comparison SPEC 11 asks for: every Worker on the same page, one after another, round after
 * round (the order rotates each round), so that load from elsewhere on the machine falls on all of
 * them. Ratios are taken within a round, then the median over rounds.
 */
async function interleaved(workers) {
  const list = [
    workers.passthrough,
    workers.passthroughAgain,
    workers.floor,
    workers.veneer,
    workers.bound,
    workers.alone,
    workers.cookieFloor,
    workers.fallback,
  ]
  if (WARMUP > 0)
    for (const w of list) {
      log(`warm-up: ${w.name} (${WARMUP} requests per process, unmeasured)`)
      for (const t of w.targets) await burst(`${t.url}/page-100KB`, { n: WARMUP, concurrency: 8, warmup: 0 })
    }
  const rounds = []
  for (let r = 0; r < AB_ROUNDS; r++) {
    const row = {}
    for (const [name, n] of Object.entries(AB_PAGES)) {
      row[name] = {}
      const order = list.map((_, i) => list[(i + r) % list.length])
      for (const w of order) {
        // The floor cuts the guarded page short (lol-html fails on it): nothing to compare.
        if (name === '100KB-guarded' && w === workers.floor) continue
        log(`round ${r + 1}/${AB_ROUNDS}, ${name}: ${w.name} (${n} requests, 8 at a time)`)
        const targets = w.targets.map((t) => ({ url: `${t.url}/page-${name}`, pid: t.pid }))
        row[name][w.name] = await burstAcross(targets, { n, concurrency: 8 })
      }
    }
    rounds.push(row)
  }
  const ratio = (page, a, b, field) => round(median(rounds.map((x) => x[page][a][field] / x[page][b][field])), 3)
  const medianOf = (page, w, field) => round(median(rounds.map((x) => x[page][w][field])), 3)
  const summary = {}
  for (const page of Object.keys(AB_PAGES)) {
    const workersOut = {}
    const measured = list.filter((w) => rounds[0][page][w.name] !== undefined)
    for (const w of measured) {
      workersOut[w.name] = {
        cpuMsPerRequest: medianOf(page, w.name, 'cpuMsPerRequest'),
        p50Ms: medianOf(page, w.name, 'p50Ms'),
        p99Ms: medianOf(page, w.name, 'p99Ms'),
        rps: medianOf(page, w.name, 'rps'),
        xVeneer: rounds[0][page][w.name].xVeneer,
      }
    }
    const of = (a, b) =>
      rounds[0][page][a] === undefined || rounds[0][page][b] === undefined
        ? undefined
        : { cpu: ratio(page, a, b, 'cpuMsPerRequest'), p50: ratio(page, a, b, 'p50Ms'), throughput: ratio(page, a, b, 'rps') }
    summary[page] = {
      workers: workersOut,
      veneerOverFloor: of(workers.veneer.name, workers.floor.name),
      boundOverFloor: of(workers.bound.name, workers.floor.name),
      floorOverPassthrough: of(workers.floor.name, workers.passthrough.name),
      veneerOverPassthrough: of(workers.veneer.name, workers.passthrough.name),
      aloneOverPassthrough: of(workers.alone.name, workers.passthrough.name),
      cookieFloorOverPassthrough: of(workers.cookieFloor.name, workers.passthrough.name),
      aloneOverCookieFloor: of(workers.alone.name, workers.cookieFloor.name),
      // The A/A control: the same passthrough in other processes. Its spread over the rounds is
      // the machine's, the spread any other ratio of this run carries too.
      passthroughAA: of(workers.passthroughAgain.name, workers.passthrough.name),
      spread: Object.fromEntries(
        [
          ['passthroughAA', workers.passthroughAgain.name, workers.passthrough.name],
          ['aloneOverPassthrough', workers.alone.name, workers.passthrough.name],
        ].map(([k, a, b]) => {
          const xs = rounds.map((x) => x[page][a]?.cpuMsPerRequest / x[page][b]?.cpuMsPerRequest)
          return [k, { min: round(Math.min(...xs), 2), max: round(Math.max(...xs), 2) }]
        }),
      ),
      fallbackOverPassthrough: of(workers.fallback.name, workers.passthrough.name),
    }
  }
  // The guarded path's price: the same Worker on the page that always needs the guard, against
  // the 100 KB page it carries natively (same round; the pages differ by one <select>).
  if (summary['100KB-guarded'] !== undefined) {
    const v = workers.veneer.name
    summary['100KB-guarded'].guardedOverNative = {
      cpu: round(median(rounds.map((x) => x['100KB-guarded'][v].cpuMsPerRequest / x['100KB'][v].cpuMsPerRequest)), 3),
      p50: round(median(rounds.map((x) => x['100KB-guarded'][v].p50Ms / x['100KB'][v].p50Ms)), 3),
      throughput: round(median(rounds.map((x) => x['100KB-guarded'][v].rps / x['100KB'][v].rps)), 3),
    }
  }
  return { rounds: AB_ROUNDS, warmup: WARMUP, requests: AB_PAGES, concurrency: 8, processes: PROCESSES, summary, raw: rounds }
}

/**
 * Request input of any length (SPEC 11): CPU per request for a path of 300 slashes against the
 * glob `/*\/*\/*\/*.html` (the page-left-alone Worker's ruleset has a placement on it) and for a
 * 4,000-character query, each over the same page at a plain path.
 */
async function requestInput(workers) {
  const cpuPer = async (w, path, n) => {
    await timedGet(`${w.url}${path}`)
    const c0 = (await import('./workers.mjs')).cpuMs(w.pid)
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await timedGet(`${w.url}${path}`)
    const wall = Number(process.hrtime.bigint() - t0) / 1e6 / n
    return {
      cpuMsPerRequest: round(((await import('./workers.mjs')).cpuMs(w.pid) - c0) / n, 2),
      wallMsPerRequest: round(wall, 2),
    }
  }
  log('request input: the slash bomb and a 4,000-character query')
  const n = QUICK ? 3 : 10
  const bombPath = `/bomb${'/'.repeat(300)}`
  const plainAlone = await cpuPer(workers.alone, '/bomb', n)
  const bomb = await cpuPer(workers.alone, bombPath, n)
  const plain = await cpuPer(workers.veneer, '/page-20KB', n * 5)
  const query = await cpuPer(workers.veneer, `/page-20KB?q=${'x'.repeat(3996)}`, n * 5)
  return {
    slashBomb: {
      path: `/bomb + 300 slashes`,
      glob: '/*/*/*/*.html',
      ...bomb,
      baseline: plainAlone,
      addedCpuMs: round(bomb.cpuMsPerRequest - plainAlone.cpuMsPerRequest, 2),
    },
    longQuery: { chars: 4000, ...query, baseline: plain, addedCpuMs: round(query.cpuMsPerRequest - plain.cpuMsPerRequest, 2) },
  }
}

async function ttfbPages(workers) {
  const rows = []
  for (const name of Object.keys(PAGES)) {
    const n = QUICK ? 5 : name === '5MB' ? 20 : name === '1MB' ? 40 : 100
    for (const w of [workers.passthrough, workers.floor, workers.veneer]) {
      log(`${name} ${w.name}: time to first byte (${n} sequential requests)`)
      rows.push({ page: name, worker: w.name, ...(await ttfbLoop(w.url + `/page-${name}`, { n, warmup: QUICK ? 2 : 5 })) })
    }
  }
  return rows
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
  const ab = r.interleaved?.summary
  if (ab !== undefined) {
    for (const page of ['100KB', '1MB']) {
      const v = ab[page].veneerOverFloor
      const b = ab[page].boundOverFloor
      t.push({ target: `${page}: Veneer CPU ≤ 1.2× the floor's`, measured: `${v.cpu}×`, met: v.cpu <= 1.2 })
      t.push({ target: `${page}: Veneer p50 ≤ 1.15× the floor's`, measured: `${v.p50}×`, met: v.p50 <= 1.15 })
      t.push({
        target: `${page}: Veneer throughput ≥ 0.85× the floor's`,
        measured: `${v.throughput}×`,
        met: v.throughput >= 0.85,
      })
      t.push({
        target: `${page}: Veneer with DB and EVENTS bound, CPU ≤ 1.3× the floor's`,
        measured: `${b.cpu}× (p50 ${b.p50}×, throughput ${b.throughput}×)`,
        met: b.cpu <= 1.3,
      })
      const a = ab[page].aloneOverPassthrough
      t.push({
        target: `${page}: a page Veneer leaves alone (no placement on its path), CPU ≤ 1.2× the passthrough's`,
        // The cookie floor, for scale: what any Worker that remembers the new visitor costs.
        measured:
          ab[page].cookieFloorOverPassthrough === undefined
            ? `${a.cpu}×`
            : `${a.cpu}× (the cookie floor ${ab[page].cookieFloorOverPassthrough.cpu}×; Veneer over it ${ab[page].aloneOverCookieFloor.cpu}×)`,
        met: a.cpu <= 1.2,
      })
      const fb = ab[page].fallbackOverPassthrough
      if (fb !== undefined)
        t.push({
          target: `${page}: a page Veneer leaves alone (fallback: no ruleset), CPU ≤ 1.2× the passthrough's`,
          measured: `${fb.cpu}×`,
          met: fb.cpu <= 1.2,
        })
    }
  }
  if (r.ttfb !== undefined) {
    const at = (w, page) => r.ttfb.find((x) => x.worker === w && x.page === page)
    const growthV = at('veneer', '5MB').ttfbP50Ms - at('veneer', '20KB').ttfbP50Ms
    const growthP = at('passthrough', '5MB').ttfbP50Ms - at('passthrough', '20KB').ttfbP50Ms
    t.push({
      target: 'time to first byte does not grow with page size (20 KB → 5 MB)',
      measured: `Veneer ${at('veneer', '20KB').ttfbP50Ms} → ${at('veneer', '5MB').ttfbP50Ms} ms; floor ${at('floor', '20KB').ttfbP50Ms} → ${at('floor', '5MB').ttfbP50Ms}; passthrough ${at('passthrough', '20KB').ttfbP50Ms} → ${at('passthrough', '5MB').ttfbP50Ms} ms`,
      met: growthV <= growthP + 2,
    })
  }
  if (r.slowOrigin !== undefined) {
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
  if (r.requestInput !== undefined) {
    const q = r.requestInput
    t.push({
      target: 'a path of 300 slashes against /*/*/*/*.html costs < 5 ms of CPU',
      measured: `${q.slashBomb.cpuMsPerRequest} ms per request (${q.slashBomb.addedCpuMs} ms over the same page at /bomb)`,
      met: q.slashBomb.addedCpuMs < 5,
    })
    t.push({
      target: 'a 4,000-character query costs < 5 ms of CPU',
      measured: `${q.longQuery.cpuMsPerRequest} ms per request (${q.longQuery.addedCpuMs} ms over the same page without it)`,
      met: q.longQuery.addedCpuMs < 5,
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
  }
  return t
}

const f = (x, d = 1) => (x === undefined ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x))
const pad = (s, n) => String(s).padStart(n)

export function table(r) {
  const lines = []
  const ab = r.interleaved
  if (ab !== undefined) {
    lines.push(
      `side by side: ${ab.rounds} interleaved rounds, ${Object.entries(ab.requests)
        .map(([p, n]) => `${p} × ${n}`)
        .join(
          ', ',
        )} requests per Worker per round, 8 at a time, spread over ${ab.processes ?? 1} workerd process(es) per Worker, after ${ab.warmup ?? 0} unmeasured requests per process; medians over rounds`,
    )
    lines.push('page   worker                     CPU ms/req   p50 ms   p99 ms    req/s  x-veneer')
    for (const [page, s] of Object.entries(ab.summary)) {
      for (const [name, x] of Object.entries(s.workers))
        lines.push(
          `${page.padEnd(6)} ${name.padEnd(26)} ${pad(f(x.cpuMsPerRequest, 3), 10)} ${pad(f(x.p50Ms, 2), 8)} ${pad(f(x.p99Ms, 2), 8)} ${pad(f(x.rps, 0), 8)}  ${x.xVeneer ?? '-'}`,
        )
      const line = (label, q) =>
        q !== undefined &&
        lines.push(
          `${''.padEnd(6)} ${label.padEnd(26)} ${pad(f(q.cpu, 2) + '×', 10)} ${pad(f(q.p50, 2) + '×', 8)} ${''.padEnd(8)} ${pad(f(q.throughput, 2) + '×', 8)}`,
        )
      line('Veneer / floor', s.veneerOverFloor)
      line('Veneer+DB+EVENTS / floor', s.boundOverFloor)
      line('floor / passthrough', s.floorOverPassthrough)
      line('Veneer / passthrough', s.veneerOverPassthrough)
      line('left alone / passthrough', s.aloneOverPassthrough)
      line('cookie floor / passthrough', s.cookieFloorOverPassthrough)
      line('left alone / cookie floor', s.aloneOverCookieFloor)
      line('fallback / passthrough', s.fallbackOverPassthrough)
      line('passthrough A/A', s.passthroughAA)
      if (s.spread !== undefined)
        lines.push(
          `${''.padEnd(6)} per-round CPU ratios ranged: passthrough A/A ${s.spread.passthroughAA.min}–${s.spread.passthroughAA.max}×, left alone / passthrough ${s.spread.aloneOverPassthrough.min}–${s.spread.aloneOverPassthrough.max}×`,
        )
      if (s.guardedOverNative !== undefined) line('Veneer guarded / native', s.guardedOverNative)
    }
  }
  if (r.ttfb !== undefined) {
    lines.push('', 'time to first byte, sequential (ms)       TTFB p50  TTFB p99  full p50')
    for (const x of r.ttfb)
      lines.push(
        `${x.page.padEnd(6)} ${x.worker.padEnd(34)} ${pad(f(x.ttfbP50Ms, 2), 9)} ${pad(f(x.ttfbP99Ms, 2), 9)} ${pad(f(x.totalP50Ms, 2), 9)}`,
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
  if (r.requestInput !== undefined) {
    const q = r.requestInput
    lines.push(
      `request input: 300 slashes vs /*/*/*/*.html ${q.slashBomb.cpuMsPerRequest} ms CPU/request (+${q.slashBomb.addedCpuMs}); 4,000-character query ${q.longQuery.cpuMsPerRequest} ms (+${q.longQuery.addedCpuMs})`,
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
    const last = JSON.parse(readFileSync(OUT, 'utf8'))
    last.targets = targets(last)
    last.table = table(last)
    writeFileSync(OUT, JSON.stringify(last, null, 2) + '\n')
    console.log(last.table)
    return
  }
  const results = {
    meta: meta(),
    config: { ports: PORTS, budgetMs: BUDGET_MS, quick: QUICK, args },
  }
  if (only === 'scale') {
    log('decision time scale (Node)')
    results.scale = await measureScale({ minMs: QUICK ? 100 : 500 })
  } else {
    const origin = await startOrigin(PORTS.origin)
    const originUrl = `http://127.0.0.1:${PORTS.origin}`
    const ruleset = benchRuleset({ segments: 50, placements: 10, budgetMs: BUDGET_MS })
    const rulesets = { veneer: JSON.stringify(ruleset), alone: JSON.stringify(aloneRuleset(ruleset)) }
    log('building and starting the Workers')
    const workers = await startWorkers({ originUrl, ports: PORTS, rulesets, floorOps: floorOps(ruleset), processes: PROCESSES })
    try {
      results.config.ruleset = { segments: 50, placements: 10, bytes: rulesets.veneer.length }
      results.config.workerdPids = Object.fromEntries(
        ['passthrough', 'passthroughAgain', 'floor', 'veneer', 'bound', 'alone', 'cookieFloor', 'fallback', 'stalled'].map(
          (k) => [k, workers[k].pid],
        ),
      )
      results.sanity = await sanity(workers, originUrl)
      if (only !== 'load') {
        results.interleaved = await interleaved(workers)
        results.ttfb = await ttfbPages(workers)
        results.slowOrigin = await slowOrigin(workers)
        results.kvStalled = await kvStalled(workers)
        results.requestInput = await requestInput(workers)
        if (only !== 'ab') {
          log('decision time scale (Node)')
          results.scale = await measureScale({ minMs: QUICK ? 100 : 500 })
        }
      }
      if (only === 'load' || (!flag('skip-load') && only !== 'ab')) results.load = await stress(workers)
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
