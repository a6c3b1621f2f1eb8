import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { validateDocument } from '../../src/admin/validate'
import { compileRuleset } from '../../src/rules/compile'
import { clusterKmeans, silhouette } from '../../src/segments/cluster'
import { discover, REQUEST_DISCOVERY, requestWorkBound } from '../../src/segments/discover'
import { parseSampleCsv, rowContext, SampleError } from '../../src/segments/features'
import { roundBetween } from '../../src/segments/tree'
import reference from '../fixtures/segments/reference.json'
import { adjustedRandIndex, plantedSample, toCsv } from './planted'

const AS_OF = Date.UTC(2026, 10, 30, 15, 0, 0)

describe('reference figures (scikit-learn, test/fixtures/segments)', () => {
  it('adjusted Rand index matches sklearn.metrics.adjusted_rand_score', () => {
    for (const r of reference.ari) expect(adjustedRandIndex(r.a, r.b)).toBeCloseTo(r.ari, 12)
  })
  it('silhouette matches sklearn.metrics.silhouette_score', () => {
    for (const s of reference.silhouette) expect(silhouette(s.points, s.labels, s.k)).toBeCloseTo(s.silhouette, 10)
  })
  it('k-means reaches the inertia of sklearn.cluster.KMeans(n_init=50) on blobs', () => {
    for (const r of reference.kmeans) {
      const c = clusterKmeans(r.points, r.k, { seed: 5, restarts: 8 })
      expect(Math.abs(c.inertia - r.inertia) / r.inertia).toBeLessThan(1e-9)
    }
  })
})

describe('discovery inside a request (REQUEST_DISCOVERY) is bounded by the work it does', () => {
  it('does a fixed number of distance computations whatever the sample size, far fewer than the command line', () => {
    const bound = requestWorkBound(1_000_000)
    // The bound is a constant: 2 starts × 26 passes over 1,000 rows for k = 2…8, and 7 silhouettes on 300 rows.
    expect(bound).toBe(requestWorkBound(1000))
    expect(bound).toBe(2_147_950)
    const works: number[] = []
    for (const n of [3000, 20_000]) {
      const planted = plantedSample(4, n, 40)
      const r = discover(parseSampleCsv(toCsv(planted)), { k: 'auto', asOf: AS_OF, ...REQUEST_DISCOVERY })
      expect(r.rows).toBe(1000)
      expect(r.sampledFrom).toBe(n)
      expect(r.work.distances).toBeLessThanOrEqual(bound)
      expect(r.k).toBe(4)
      works.push(r.work.distances)
    }
    // The command line on the 3,000 rows does many times more.
    const cli = discover(parseSampleCsv(toCsv(plantedSample(4, 3000, 40))), { k: 'auto', asOf: AS_OF })
    expect(cli.work.distances).toBeGreaterThan(10 * (works[0] as number))
    console.log(
      `distance computations, k = auto: request ${works.join(' / ')} (bound ${bound}), command line ${cli.work.distances}`,
    )
  })

  it.each([3, 4, 5])('k = %i: still finds k, ARI ≥ 0.9 over every row, conditions ≥ 0.85', (k) => {
    const planted = plantedSample(k, 3000, 100 + k)
    const result = discover(parseSampleCsv(toCsv(planted)), {
      k: 'auto',
      assign: true,
      asOf: AS_OF,
      seed: 7,
      ...REQUEST_DISCOVERY,
    })
    expect(result.k).toBe(k)
    expect(result.assignments).toHaveLength(3000)
    expect(result.work.distances).toBeLessThanOrEqual(requestWorkBound(3000, true))
    const ari = adjustedRandIndex(planted.labels, result.assignments ?? [])
    expect(ari).toBeGreaterThanOrEqual(0.9)
    for (const c of result.clusters) expect(c.accuracy).toBeGreaterThanOrEqual(0.85)
    console.log(
      `request mode, planted k=${k}: found k=${result.k}, ARI ${ari.toFixed(4)}, accuracy ${result.clusters.map((c) => c.accuracy).join('/')}`,
    )
  })
})

describe('segments discover on planted clusters', () => {
  // 3000 generated visitors from k behaviour profiles (test/segments/planted.ts): counts, sessions,
  // days since first seen, device and continent one-hot columns; the truth is known per row.
  it.each([3, 4, 5])('k = %i: --k auto finds k, ARI ≥ 0.9, each condition agrees with its cluster ≥ 0.85', (k) => {
    const planted = plantedSample(k, 3000, 100 + k)
    const sample = parseSampleCsv(toCsv(planted))
    const result = discover(sample, { k: 'auto', assign: true, asOf: AS_OF, seed: 7 })
    expect(result.k).toBe(k)
    const ari = adjustedRandIndex(planted.labels, result.assignments ?? [])
    expect(ari).toBeGreaterThanOrEqual(0.9)
    expect(result.tried?.map((t) => t.k)).toEqual([2, 3, 4, 5, 6, 7, 8])
    expect(result.clusters.reduce((s, c) => s + c.size, 0)).toBe(3000)
    for (const c of result.clusters) {
      expect(c.when).not.toBeNull()
      expect(c.accuracy).toBeGreaterThanOrEqual(0.85)
      expect(c.precision).toBeGreaterThanOrEqual(0.85)
      expect(c.recall).toBeGreaterThanOrEqual(0.85)
    }

    // The conditions go into a real ruleset: it validates, compiles, and each compiled segment
    // matches the same rows (by its own evaluator, on the context each row stands for).
    const doc = { segments: result.clusters.map((c) => ({ id: `cluster-${c.id}`, when: c.when })) }
    expect(validateDocument(doc).ok).toBe(true)
    const compiled = compileRuleset(doc)
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues))
    let agree = 0
    sample.rows.forEach((row, i) => {
      const ctx = rowContext(sample.features, row, AS_OF)
      const cluster = result.assignments?.[i]
      compiled.ruleset.segments.forEach((seg, c) => {
        if (seg.matches(ctx) === (cluster === c)) agree++
      })
    })
    const accuracy = agree / (sample.rows.length * result.k)
    expect(accuracy).toBeGreaterThanOrEqual(0.85)
    console.log(
      `planted k=${k}: found k=${result.k}, silhouette ${result.silhouette}, ARI ${ari.toFixed(4)}, ` +
        `condition accuracy ${result.clusters.map((c) => c.accuracy).join('/')}, precision ${result.clusters.map((c) => c.precision).join('/')}, recall ${result.clusters.map((c) => c.recall).join('/')}`,
    )
  })

  it('describes days since first seen as visitor.firstSeen dates, and one-hot columns as equality', () => {
    const planted = plantedSample(3, 1500, 5)
    const result = discover(parseSampleCsv(toCsv(planted)), { k: 3, asOf: AS_OF, seed: 3 })
    const text = JSON.stringify(result.clusters.map((c) => c.when))
    expect(text).not.toContain('daysSinceFirstSeen')
    expect(text).not.toMatch(/device\.type=|geo\.continent=/)
    expect(result.asOf).toBe('2026-11-30')
    // Same seed, same answer.
    expect(discover(parseSampleCsv(toCsv(planted)), { k: 3, asOf: AS_OF, seed: 3 })).toEqual(result)
  })

  it('--k N returns N clusters, and columns that are not attributes are clustered but not described', () => {
    const planted = plantedSample(3, 600, 9)
    const csv = toCsv(planted).replace('behavior.pageViews', 'engagement')
    const result = discover(parseSampleCsv(csv), { k: 3, asOf: AS_OF })
    expect(result.k).toBe(3)
    expect(result.undescribed).toEqual(['engagement'])
    expect(JSON.stringify(result.clusters)).not.toContain('"engagement":{')
    expect(result.assignments).toBeUndefined()
  })
})

describe('sample CSV', () => {
  it('rejects bad input with the line and column', () => {
    expect(() => parseSampleCsv('')).toThrow(SampleError)
    expect(() => parseSampleCsv('id,a\n1,2')).toThrow(/first column must be "visitor"/)
    expect(() => parseSampleCsv('visitor\nx')).toThrow(/no feature columns/)
    expect(() => parseSampleCsv('visitor,a,a\nx,1,2')).toThrow(/appears twice/)
    expect(() => parseSampleCsv('visitor,behavior.pageViews\nx,1\ny,abc')).toThrow(/line 3, column "behavior.pageViews": "abc"/)
    expect(() => parseSampleCsv('visitor,behavior.pageViews\nx,1,2')).toThrow(/line 2: 3 fields/)
    expect(() => parseSampleCsv('visitor,a\nx,')).toThrow(/not a number/)
  })
  it('accepts CRLF, blank lines and quoted numbers', () => {
    const s = parseSampleCsv('visitor,"behavior.cartAdds",device.type=mobile\r\n\r\nv1,"2",1\r\nv2,0,0\r\n')
    expect(s.rows).toEqual([
      [2, 1],
      [0, 0],
    ])
    expect(s.features.map((f) => f.spec.kind)).toEqual(['number', 'oneHot'])
    expect(rowContext(s.features, [2, 1], AS_OF)).toEqual({ behavior: { cartAdds: 2 }, device: { type: 'mobile' } })
  })
  it('refuses to cluster too few rows or identical rows', () => {
    expect(() => discover(parseSampleCsv('visitor,behavior.pageViews\nx,1'), {})).toThrow(/at least 20/)
    const same = ['visitor,behavior.pageViews', ...Array.from({ length: 30 }, (_, i) => `v${i},4`)].join('\n')
    expect(() => discover(parseSampleCsv(same), {})).toThrow(/nothing to cluster/)
    expect(() => discover(parseSampleCsv(same), { k: 3 })).toThrow(/only 1 distinct/)
  })
})

describe('round thresholds', () => {
  it('lie in (a, b] so the condition splits the training rows exactly as the tree did', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (a, gap) => {
        const b = a + gap
        fc.pre(b > a)
        const t = roundBetween(a, b)
        return t > a && t <= b
      }),
    )
    expect(roundBetween(2, 3)).toBe(3)
    expect(roundBetween(0, 1)).toBe(1)
    expect(roundBetween(2.31, 2.87)).toBe(2.5)
    expect(roundBetween(7, 19)).toBe(10)
  })
})
