// Measurement helpers: bounded autocannon runs, a raw HTTP loop for time to first byte
// (autocannon does not report it), workerd CPU time per request, percentiles.
import autocannon from 'autocannon'
import http from 'node:http'
import { cpuMs } from './workers.mjs'

/** Request headers of a desktop browser that takes no compression (see docs/performance.md). */
export const HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
  accept: 'text/html',
  'accept-language': 'en-US,en;q=0.9',
  'accept-encoding': 'identity',
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d

/** autocannon against one URL, with the workerd process's CPU time read before and after. */
export async function load(url, { connections = 10, duration = 10, pid } = {}) {
  const cpuBefore = pid === undefined ? undefined : cpuMs(pid)
  const r = await autocannon({ url, connections, duration, headers: HEADERS, timeout: 30 })
  const cpuAfter = pid === undefined ? undefined : cpuMs(pid)
  const served = r['2xx'] + r.non2xx
  return {
    connections,
    durationS: duration,
    requests: r.requests.total,
    rps: round(r.requests.average, 1),
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    throughputMBs: round(r.throughput.average / 1e6, 1),
    cpuMsTotal: cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    cpuMsPerRequest: cpuAfter === undefined || served === 0 ? undefined : round((cpuAfter - cpuBefore) / served, 3),
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One GET: ms to the response head, to the first body byte, to the last byte; the headers. */
export function timedGet(url, extraHeaders) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const ms = () => Number(process.hrtime.bigint() - t0) / 1e6
    let head
    let first
    let bytes = 0
    const req = http.get(
      url,
      { agent, headers: extraHeaders === undefined ? HEADERS : { ...HEADERS, ...extraHeaders } },
      (res) => {
        head = ms()
        res.on('data', (d) => {
          if (first === undefined) first = ms()
          bytes += d.length
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            headMs: head,
            firstByteMs: first ?? head,
            totalMs: ms(),
            bytes,
            headers: res.headers,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
  })
}

/**
 * Sequential requests on one kept-alive connection (no queueing): time to first body byte and
 * to the last byte, as percentiles.
 */
export async function ttfbLoop(url, { n = 100, warmup = 10 } = {}) {
  for (let i = 0; i < warmup; i++) await timedGet(url)
  const first = []
  const total = []
  const states = new Map()
  let bytes = 0
  for (let i = 0; i < n; i++) {
    const r = await timedGet(url)
    first.push(r.firstByteMs)
    total.push(r.totalMs)
    bytes = r.bytes
    const s = String(r.headers['x-veneer'] ?? '-')
    states.set(s, (states.get(s) ?? 0) + 1)
  }
  first.sort((a, b) => a - b)
  total.sort((a, b) => a - b)
  return {
    n,
    bytes,
    ttfbP50Ms: round(percentile(first, 50)),
    ttfbP99Ms: round(percentile(first, 99)),
    ttfbMaxMs: round(first[first.length - 1]),
    totalP50Ms: round(percentile(total, 50)),
    totalP99Ms: round(percentile(total, 99)),
    xVeneer: Object.fromEntries(states),
  }
}

export function closeAgent() {
  agent.destroy()
}

/**
 * `n` GETs of `url`, `concurrency` at a time on kept-alive connections: per-request time to the
 * last byte (p50, p99), requests per second of wall time, and the workerd process's CPU per
 * request (`pid`). What the interleaved rounds compare between Workers.
 */
export async function burst(url, { n = 300, concurrency = 8, pid, warmup = 16 } = {}) {
  const burstAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const get = () =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint()
      const req = http.get(url, { agent: burstAgent, headers: HEADERS }, (res) => {
        let bytes = 0
        res.on('data', (d) => {
          bytes += d.length
        })
        res.on('end', () =>
          resolve({
            ms: Number(process.hrtime.bigint() - t0) / 1e6,
            bytes,
            status: res.statusCode,
            xVeneer: res.headers['x-veneer'],
          }),
        )
        res.on('error', reject)
      })
      req.on('error', reject)
    })
  const run = async (count, times) => {
    let next = 0
    let last
    const worker = async () => {
      while (next < count) {
        next++
        const r = await get()
        times?.push(r.ms)
        last = r
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    return last
  }
  await run(warmup)
  const times = []
  const cpu0 = pid === undefined ? undefined : cpuMs(pid)
  const t0 = process.hrtime.bigint()
  const last = await run(n, times)
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  const cpu1 = pid === undefined ? undefined : cpuMs(pid)
  burstAgent.destroy()
  times.sort((a, b) => a - b)
  return {
    n,
    concurrency,
    bytes: last?.bytes,
    xVeneer: last?.xVeneer,
    p50Ms: round(percentile(times, 50), 3),
    p99Ms: round(percentile(times, 99), 3),
    rps: round((n / wallMs) * 1000, 1),
    cpuMsPerRequest: cpu0 === undefined ? undefined : round((cpu1 - cpu0) / n, 3),
    times,
    wallMs,
    cpuMs: cpu0 === undefined ? undefined : cpu1 - cpu0,
  }
}

/**
 * {@link burst} spread over several processes running the same Worker (`targets`: url and pid
 * each), one after another, `n` requests in all: CPU per request is the total over the
 * processes, latency percentiles over all requests, throughput over the summed wall time. One
 * workerd process's JIT settles its own way, and two processes running the same code differ by up
 * to ~15% in CPU per request (docs/performance.md): spreading the requests evens that out.
 */
export async function burstAcross(targets, { n = 300, concurrency = 8 } = {}) {
  const per = Math.ceil(n / targets.length)
  const parts = []
  for (const t of targets) parts.push(await burst(t.url, { n: per, concurrency, pid: t.pid }))
  const times = parts.flatMap((p) => p.times).sort((a, b) => a - b)
  const total = per * parts.length
  const wallMs = parts.reduce((a, p) => a + p.wallMs, 0)
  const cpu = parts.every((p) => p.cpuMs !== undefined) ? parts.reduce((a, p) => a + p.cpuMs, 0) : undefined
  return {
    n: total,
    concurrency,
    processes: targets.length,
    bytes: parts.at(-1)?.bytes,
    xVeneer: parts.at(-1)?.xVeneer,
    p50Ms: round(percentile(times, 50), 3),
    p99Ms: round(percentile(times, 99), 3),
    rps: round((total / wallMs) * 1000, 1),
    cpuMsPerRequest: cpu === undefined ? undefined : round(cpu / total, 3),
  }
}

/** One GET's full body, as text (for comparing two Workers' pages byte for byte). */
export function getText(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { ...HEADERS, ...headers } }, (res) => {
        const parts = []
        res.on('data', (d) => parts.push(d))
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(parts).toString('latin1') }),
        )
        res.on('error', reject)
      })
      .on('error', reject)
  })
}
