import { createExecutionContext, createMessageBatch, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { kvStore, listVersions, rollbackTo } from '../../src/admin/versions'
import type { Env } from '../../src/env'
import { experimentHooks } from '../../src/experiments/hooks'
import { consumeAggregateBatch } from '../../src/measure/aggregate'
import { checkGuardrails, resetGuardrailClock } from '../../src/measure/guardrails'
import { experimentResults } from '../../src/measure/results'
import { EXPOSURE_GOAL, type StatsRow, statsRow } from '../../src/measure/stats-row'
import { compileRulesetText } from '../../src/rules/compile'
import type { RulesetInput } from '../../src/rules/schema'
import { forgetRuleset, RULESET_KEY } from '../../src/rules/store'
import worker from '../../src/worker'
import { clearTables, env } from './helpers'

const DOC: RulesetInput = {
  version: 'guard-1',
  placements: [
    {
      id: 'hero',
      paths: ['/*'],
      selector: '#hero h1',
      variants: [{ id: 'bold', ops: [{ op: 'setText', value: 'Bold' }] }],
      rules: [{ experiment: { id: 'hero-copy', split: { control: 50, bold: 50 }, guardrails: ['purchase'] } }],
    },
  ],
  goals: [
    { id: 'signup', path: '/thanks' },
    { id: 'purchase', event: 'purchase' },
  ],
}

/** Daily rows of 5,000 visitors per arm, with the purchase rates given. */
function rows(control: number, bold: number): StatsRow[] {
  const out: StatsRow[] = []
  for (const [arm, rate] of [
    ['control', control],
    ['bold', bold],
  ] as const) {
    out.push({ ...statsRow('2026-06-01', 'hero-copy', arm, EXPOSURE_GOAL, '*'), visitors: 5000 })
    out.push({ ...statsRow('2026-06-01', 'hero-copy', arm, 'purchase', '*'), conversions: Math.round(5000 * rate) })
    out.push({ ...statsRow('2026-06-01', 'hero-copy', arm, 'signup', '*'), conversions: 500 })
  }
  return out
}

async function consume(list: StatsRow[]): Promise<void> {
  const batch = createMessageBatch<unknown>('veneer-events', [
    { id: 'm1', timestamp: new Date(), attempts: 1, body: { v: 2, kind: 'stats', rows: list } },
  ])
  await consumeAggregateBatch(batch, env as Env)
}

async function active(): Promise<RulesetInput & { version: string }> {
  return JSON.parse((await env.RULES.get(RULESET_KEY)) ?? 'null')
}

beforeEach(async () => {
  await clearTables(env.DB)
  await env.RULES.put(RULESET_KEY, JSON.stringify(DOC))
  await env.RULES.put('ruleset:v:guard-1', JSON.stringify(DOC))
  await env.RULES.delete('ruleset:versions')
  forgetRuleset(env.RULES)
  resetGuardrailClock()
  vi.spyOn(console, 'log').mockImplementation(() => undefined)
})

describe('guardrails (SPEC 12.2)', () => {
  it('the consumer stops an experiment whose arm is worse on a guardrail: a new version, control served, reversible', async () => {
    await consume(rows(0.2, 0.1))
    const doc = await active()
    const exp = doc.placements?.[0]?.rules?.[0]?.experiment
    expect(exp?.stopped?.reason).toMatch(/guardrail "purchase": "bold" is worse/)
    expect(doc.version).toMatch(/^v\d+-/)
    const history = await listVersions(kvStore(env.RULES))
    expect(history.versions[0]?.note).toBe('guardrail stop: hero-copy (purchase)')

    // Stopped: every visitor gets control, and the results say so (and keep their figures).
    const compiled = compileRulesetText(JSON.stringify(doc))
    if (!compiled.ok) throw new Error('stopped ruleset invalid')
    const placement = compiled.ruleset.placements[0]
    const experiment = compiled.ruleset.doc.placements[0]?.rules[0]?.experiment
    if (placement === undefined || experiment === undefined) throw new Error('fixture')
    const hooks = experimentHooks(
      compiled.ruleset,
      undefined as never,
      {
        consent: { personalization: true, analytics: true, gpc: false },
        visitor: { id: 'v1', isNew: false, sessions: 1, firstSeen: '' },
      },
      new Date(),
    )
    expect(hooks.assign?.(experiment, placement, placement.rules[0] as never)).toEqual({
      enter: false,
      why: 'experiment stopped',
    })
    const results = await experimentResults(env.DB, compiled.ruleset, 'hero-copy')
    expect(results?.decision).toBe('stop')
    expect(results?.arms[1]?.visitors).toBe(5000)

    // Reversible: rolling back to the previous version resumes the experiment.
    expect((await rollbackTo(kvStore(env.RULES), 'guard-1')).ok).toBe(true)
    expect((await active()).placements?.[0]?.rules?.[0]?.experiment?.stopped).toBeUndefined()
  })

  it('leaves an experiment alone when no arm is worse by the anytime-valid interval', async () => {
    await consume(rows(0.2, 0.195))
    expect((await active()).version).toBe('guard-1')
    const out = await checkGuardrails(env as Env)
    expect(out).toMatchObject({ checked: ['hero-copy'], stopped: [] })
  })

  it('a worse primary goal alone is not a guardrail stop', async () => {
    const list = rows(0.2, 0.2).map((r) => (r.goal === 'signup' && r.arm === 'bold' ? { ...r, conversions: 250 } : r))
    await consume(list)
    expect((await active()).version).toBe('guard-1')
  })

  it('the scheduled handler checks every guarded experiment (the backstop without a queue)', async () => {
    const { storeRows } = await import('./helpers')
    const { statsKind } = await import('../../src/measure/stats-row')
    await storeRows(env.DB, statsKind, rows(0.2, 0.1))
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 3 * * *' }), env as Env, ctx)
    await waitOnExecutionContext(ctx)
    expect((await active()).placements?.[0]?.rules?.[0]?.experiment?.stopped).toBeDefined()
  })
})
