// `node bench/segments.mjs [--rows 2000] [--k 4] [--repeats 5] [--out f.json]`: CPU time of segment discovery with `--k auto`
// (SPEC 15, issue 14) on a planted sample: the CLI path (full silhouette, 4 restarts) and the
// bounded in-request path (api/segments/discover and the dashboard), with the work each did
// (distance computations) and how well each recovered the planted clusters (ARI).
import { writeFileSync } from 'node:fs'
import { cpuUsage } from 'node:process'
import { loadTs } from '../scripts/load-ts.mjs'

const args = process.argv.slice(2)
const ROWS = args.includes('--rows') ? Number(args[args.indexOf('--rows') + 1]) : 2000
const K = args.includes('--k') ? Number(args[args.indexOf('--k') + 1]) : 4
const REPEATS = args.includes('--repeats') ? Number(args[args.indexOf('--repeats') + 1]) : 5
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined

const planted = await loadTs('test/segments/planted.ts')
const disc = await loadTs('src/segments/discover.ts')
const features = await loadTs('src/segments/features.ts')

const p = planted.plantedSample(K, ROWS, 11)
const sample = features.parseSampleCsv(planted.toCsv(p))
const modes = [['cli', {}], ...(disc.REQUEST_DISCOVERY ? [['request', disc.REQUEST_DISCOVERY]] : [])]
const out = { rows: ROWS, plantedK: K, modes: {} }
for (const [name, opts] of modes) {
  const ms = []
  let r
  for (let i = 0; i < REPEATS; i++) {
    const t0 = cpuUsage()
    r = disc.discover(sample, { k: 'auto', assign: true, asOf: Date.UTC(2026, 5, 1), ...opts })
    const t = cpuUsage(t0)
    ms.push((t.user + t.system) / 1000)
  }
  ms.sort((a, b) => a - b)
  out.modes[name] = {
    cpuMsMedian: Number(ms[Math.floor(ms.length / 2)].toFixed(1)),
    cpuMs: ms.map((v) => Number(v.toFixed(1))),
    k: r.k,
    ari: Number(planted.adjustedRandIndex(r.assignments, p.labels).toFixed(4)),
    minAccuracy: Math.min(...r.clusters.map((c) => c.accuracy)),
    work: r.work,
  }
}
out.node = process.version
out.at = new Date().toISOString()
console.log(JSON.stringify(out, null, 2))
if (OUT !== undefined) writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`)
