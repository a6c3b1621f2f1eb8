#!/usr/bin/env node
// Full versions of the simulations in test/measure/simulation.test.ts (docs/measurement.md):
//   node scripts/measure-simulate.mjs [--quick]
// Prints the figures the issue asks for: the share of A/A experiments ever declared significant
// when read daily (cs95 vs the fixed interval), coverage and detection with a true lift, and
// CUPED's variance reduction against theory. Seeded: the same figures on every run.
import { loadTs } from './load-ts.mjs'

const quick = process.argv.includes('--quick')
const sim = await loadTs(new URL('../test/measure/simulate.ts', import.meta.url).pathname)
const pct = (x) => `${(x * 100).toFixed(1)}%`
const t0 = Date.now()

for (const visitorsPerDay of quick ? [200] : [200, 1_000, 5_000]) {
  const f = sim.simulatePeeking({ experiments: 500, days: 30, visitorsPerDay, controlRate: 0.1, lift: 0, seed: 1 })
  console.log(
    `A/A: 500 experiments × 30 daily reads, ${visitorsPerDay} visitors/day: ever significant cs95 ${pct(f.csEverSignificant)}, fixed 95% interval ${pct(f.fixedEverSignificant)}; cs95 covered 0 every day ${pct(f.csCoveredEveryDay)}`,
  )
}
for (const [visitorsPerDay, lift] of quick
  ? [[1_000, 0.02]]
  : [
      [1_000, 0.02],
      [5_000, 0.01],
    ]) {
  const f = sim.simulatePeeking({ experiments: 500, days: 30, visitorsPerDay, controlRate: 0.1, lift, seed: 2 })
  console.log(
    `lift +${lift * 100} points: 500 × 30 daily reads, ${visitorsPerDay} visitors/day: cs95 covered the truth every day ${pct(f.csCoveredEveryDay)} (fixed ${pct(f.fixedCoveredEveryDay)}); detected by day 30 ${pct(f.csDetectedAtEnd)}`,
  )
}
const c = sim.simulateCuped(quick ? 40 : 200, 20_000, 3)
console.log(
  `CUPED: ${c.runs} runs × 20,000 visitors: variance reduction ${pct(c.meanVarianceReduction)} (theory ρ² = ${pct(c.theoryVarianceReduction)}); interval narrower by ${pct(c.meanNarrowing)} (theory ${pct(c.theoryNarrowing)})`,
)
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`)
