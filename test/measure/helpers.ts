import { env as workersEnv } from 'cloudflare:workers'
import { buildContext, contextualContext } from '../../src/context/build'
import type { ConsentContext, Context } from '../../src/context/types'
import { decide } from '../../src/decide/decide'
import type { Decision, DecideHooks } from '../../src/decide/types'
import type { Env } from '../../src/env'
import { type AggregateKind, registerKind, writeRows } from '../../src/measure/aggregate'
import { compileRuleset, type CompiledRuleset } from '../../src/rules/compile'
import type { RulesetInput } from '../../src/rules/schema'
import { CF } from '../helpers'

/** The test Worker's bindings (wrangler.toml + vitest.config.ts), typed as Veneer reads them. */
export const env = workersEnv as unknown as Env & { DB: D1Database; EVENTS: Queue<unknown>; RULES: KVNamespace }

/** The same bindings without the queue: measurement writes straight to D1. */
export const directEnv: Env = { ...env, EVENTS: undefined }

export const BERLIN_CF = CF.berlin

export const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'

export const RULESET_DOC: RulesetInput = {
  version: 'measure-test-1',
  settings: { holdoutPercent: 10 },
  segments: [{ id: 'mobile', when: { 'device.type': 'mobile' } }],
  placements: [
    {
      id: 'hero',
      paths: ['/', '/thanks'],
      selector: '#hero h1',
      variants: [{ id: 'bold', ops: [{ op: 'setText', value: 'Bold' }] }],
      rules: [{ experiment: { id: 'hero-copy', split: { control: 50, bold: 50 } } }],
    },
    {
      id: 'promo',
      paths: ['/*'],
      selector: '#promo',
      variants: [{ id: 'sale', ops: [{ op: 'setText', value: 'Sale' }] }],
      rules: [{ segment: 'mobile', variant: 'sale' }],
    },
  ],
  goals: [
    { id: 'purchase', event: 'purchase' },
    { id: 'signup', path: '/thanks' },
  ],
}

export function compiled(doc: RulesetInput = RULESET_DOC): CompiledRuleset {
  const r = compileRuleset(doc)
  if (!r.ok) throw new Error(`test ruleset invalid: ${JSON.stringify(r.issues)}`)
  return r.ruleset
}

export interface VisitorSpec {
  id?: string
  consent?: Partial<ConsentContext>
  path?: string
  userAgent?: string
}

/** A context as the pipeline builds it, with the visitor id issue 3's cookie layer provides. */
export function visitorContext({
  id = 'visitor-1',
  consent = {},
  path = '/',
  userAgent = DESKTOP_UA,
}: VisitorSpec = {}): Context {
  const request = new Request(`https://shop.example${path}`, { headers: { 'user-agent': userAgent }, cf: BERLIN_CF })
  const full: ConsentContext = { personalization: true, analytics: true, gpc: false, ...consent }
  return buildContext(contextualContext(request, new Date('2026-06-01T12:00:00Z')), {
    consent: full,
    visitor: { id, isNew: false, sessions: 1, firstSeen: '2026-05-01T00:00:00Z' },
  })
}

/** A real decision from `decide`, with the experiment arm forced (the experiments layer is issue 4). */
export function decision(ruleset: CompiledRuleset, ctx: Context, arm: string | undefined, extra: DecideHooks = {}): Decision {
  const hooks: DecideHooks = {
    assign: () => (arm === undefined ? { enter: false, why: 'not in traffic' } : { enter: true, variant: arm }),
    ...extra,
  }
  return decide(ruleset, ctx, ctx.request.path, hooks)
}

export type Row = Record<string, unknown>

export async function rows(db: D1Database, table: 'exposures' | 'conversions' | 'served' | 'stats_daily'): Promise<Row[]> {
  const order = {
    exposures: 'experiment, visitor',
    conversions: 'experiment, goal, visitor',
    served: 'day, placement, variant, source',
    stats_daily: 'experiment, segment, goal, arm, day',
  }[table]
  return (await db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all<Row>()).results
}

export async function clearTables(db: D1Database): Promise<void> {
  await db.batch(['exposures', 'conversions', 'served', 'stats_daily'].map((t) => db.prepare(`DELETE FROM ${t}`)))
}

/** Stores rows of one aggregate kind as the queue consumer would (one UPSERT per merged row). */
export async function storeRows<Row>(db: D1Database, kind: AggregateKind<Row>, list: readonly Row[]): Promise<void> {
  registerKind(kind)
  const merged = new Map<string, Row>()
  for (const r of list) merged.set(kind.key(r), kind.merge(merged.get(kind.key(r)), r))
  await writeRows(db, new Map([[kind.kind, merged]]))
}
