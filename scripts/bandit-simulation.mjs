#!/usr/bin/env node
// The bandit simulation of issue 13 / SPEC 14 (docs/experiments.md "Bandits"): arms at 10%, 11%
// and 12% conversion, 30 periods of 1,000 visitors, 200 runs, Thompson sampling with 10,000
// Monte Carlo draws per update, burn-in 100 visitors per arm, floor 1%. Prints the share of
// traffic on the best arm in the last period, the regret against a fixed even split, and the
// estimates' bias (mean estimate − true rate per arm, in points) for the period-weighted
// estimator and, for comparison, the pooled rate. `--trend` adds a base rate that moves over
// time (×0.6 … ×1.4), where pooled rates suffer from Simpson's paradox.
//
//   node scripts/bandit-simulation.mjs [--runs 200] [--draws 10000] [--visitors 1000] [--trend] [--json]
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTs } from './load-ts.mjs'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { simulate } = await loadTs(join(root, 'src/bandit/simulate.ts'))

const options = {
  rates: [0.1, 0.11, 0.12],
  periods: opt('periods', 30),
  visitorsPerPeriod: opt('visitors', 1000),
  runs: opt('runs', 200),
  draws: opt('draws', 10_000),
  burnIn: 100,
  floor: 1,
  seed: opt('seed', 1),
  trend: args.includes('--trend') ? (t) => 1 + 0.4 * Math.sin((2 * Math.PI * t) / 7) : undefined,
}
const started = Date.now()
const s = simulate(options)
const points = (xs) => xs.map((x) => Number((100 * x).toFixed(3)))
const report = {
  setup: { ...options, trend: options.trend === undefined ? 'none' : '1 + 0.4·sin(2πt/7)' },
  lastPeriodShareOnBest: Number(s.meanLastShareBest.toFixed(4)),
  regret: { bandit: Number(s.meanRegret.toFixed(1)), evenSplit: Number(s.meanEvenRegret.toFixed(1)) },
  conversionsGainedOverEvenSplit: Number((s.meanEvenRegret - s.meanRegret).toFixed(1)),
  biasPoints: {
    periodWeighted: points(s.weightedBias),
    periodWeightedSe: points(s.weightedBiasSe),
    pooled: points(s.pooledBias),
    pooledSe: points(s.pooledBiasSe),
  },
  seconds: (Date.now() - started) / 1000,
}
if (args.includes('--json')) console.log(JSON.stringify(report, null, 2))
else {
  console.log(
    `bandit simulation: ${options.runs} runs × ${options.periods} periods × ${options.visitorsPerPeriod} visitors, rates 10/11/12%`,
  )
  console.log(`  share of the last period on the best arm: ${(100 * report.lastPeriodShareOnBest).toFixed(1)}%`)
  console.log(
    `  regret (expected conversions lost vs always-best): bandit ${report.regret.bandit}, even split ${report.regret.evenSplit}`,
  )
  console.log(
    `  bias, period-weighted (points): ${report.biasPoints.periodWeighted.join(' / ')} (se ${report.biasPoints.periodWeightedSe.join(' / ')})`,
  )
  console.log(
    `  bias, pooled rate (points):     ${report.biasPoints.pooled.join(' / ')} (se ${report.biasPoints.pooledSe.join(' / ')})`,
  )
  console.log(`  ${report.seconds} s`)
}
const worst = Math.max(...s.weightedBias.map(Math.abs))
process.exitCode = worst <= 0.003 ? 0 : 1
