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

/** Per-visitor measurement rows (migration 0001): `n` visitors of `arm` exposed at `at`, `conv` of them converted. */
export async function seedRows(db: D1Database, arm: string, at: number, n: number, conv: number, tag = ''): Promise<void> {
  const statements: D1PreparedStatement[] = []
  for (let i = 0; i < n; i++) {
    const visitor = `${tag}${arm}-${at}-${i}`
    statements.push(
      db
        .prepare('INSERT INTO exposures (visitor, experiment, variant, placement, exposed_at) VALUES (?1, ?2, ?3, ?4, ?5)')
        .bind(visitor, BANDIT_ID, arm, 'hero', at + i),
    )
    if (i < conv)
      statements.push(
        db
          .prepare('INSERT INTO conversions (visitor, experiment, variant, goal, converted_at) VALUES (?1, ?2, ?3, ?4, ?5)')
          .bind(visitor, BANDIT_ID, arm, 'purchase', at + 3_600_000 * 5),
      )
  }
  for (let i = 0; i < statements.length; i += 500) await db.batch(statements.slice(i, i + 500))
}

export async function clearBandit(db: D1Database, kv: KVNamespace): Promise<void> {
  await db.batch(['exposures', 'conversions', 'bandit_periods'].map((t) => db.prepare(`DELETE FROM ${t}`)))
  await kv.delete(`bandit:${BANDIT_ID}`)
  await kv.delete('ruleset')
}
