import { env as workersEnv } from 'cloudflare:workers'
import type { Env } from '../../src/env'
import type { RulesetInput } from '../../src/rules/schema'

/** The test Worker's bindings, typed as Veneer reads them. */
export const env = workersEnv as unknown as Env & { DB: D1Database; RULES: KVNamespace }

export const BANDIT_ID = 'hero-bandit'

/** A ruleset whose hero placement runs a bandit between `control` and `bold`. */
export function banditRuleset(experiment: Record<string, unknown> = {}, over: Partial<RulesetInput> = {}): RulesetInput {
  return {
    version: 'bandit-test',
    placements: [
      {
        id: 'hero',
        paths: ['/*'],
        selector: '#hero h1',
        variants: [{ id: 'bold', ops: [{ op: 'setText', value: 'Bold' }] }],
        rules: [
          {
            experiment: {
              id: BANDIT_ID,
              split: { control: 1, bold: 1 },
              allocation: 'bandit',
              burnIn: 20,
              floor: 5,
              every: 60,
              ...experiment,
            } as never,
          },
        ],
      },
    ],
    goals: [{ id: 'purchase', event: 'purchase' }],
    ...over,
  }
}

/** Writes a weights document the way the scheduled handler does. */
export async function putWeights(
  kv: KVNamespace,
  version: number,
  periods: { from: number; weights: Record<string, number>; phase?: 'burn-in' | 'adaptive' }[],
): Promise<void> {
  await kv.put(
    `bandit:${BANDIT_ID}`,
    JSON.stringify({
      version,
      experiment: BANDIT_ID,
      updatedAt: 0,
      periods: periods.map((p) => ({ phase: 'adaptive', ...p })),
    }),
  )
}

/** Cohort counts (`bandit_counts`, migration 0005): `n` visitors of `arm` exposed at `at`, `conv` of them converted. */
export async function seedRows(db: D1Database, arm: string, at: number, n: number, conv: number): Promise<void> {
  const bucket = Math.floor(at / 3_600_000) * 3_600_000 // every: 60 in these tests
  const upsert = `INSERT INTO bandit_counts (experiment, bucket, arm, goal, visitors, conversions) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (experiment, goal, arm, bucket) DO UPDATE SET visitors = visitors + excluded.visitors, conversions = conversions + excluded.conversions`
  await db.batch([
    db.prepare(upsert).bind(BANDIT_ID, bucket, arm, '', n, 0),
    db.prepare(upsert).bind(BANDIT_ID, bucket, arm, 'purchase', 0, conv),
  ])
}

export async function clearBandit(db: D1Database, kv: KVNamespace): Promise<void> {
  await db.batch(
    ['exposures', 'conversions', 'bandit_periods', 'bandit_counts', 'stats_daily'].map((t) => db.prepare(`DELETE FROM ${t}`)),
  )
  await kv.delete(`bandit:${BANDIT_ID}`)
  await kv.delete('ruleset')
}
