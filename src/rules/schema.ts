import { z } from 'zod'
import { STRATEGIES } from '../recs/recommend'
import { selectorProblem } from './selector'

/**
 * The ruleset document (SPEC 4), as a zod schema. `npm run schema` exports it as JSON Schema
 * to `schema/ruleset.schema.json` for editors. Structural checks live here; checks that need
 * the whole document (references, unique ids) are in `refineRuleset`, and condition semantics
 * (operators, regex safety) in `conditions.ts`: all report errors with their JSON path.
 */

const Id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'ids are letters, digits, "_", "-", ".", ":"')
const Glob = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[/*?]/, 'a path pattern starts with "/", "*" or "?"')
const ItemPath = z
  .string()
  .max(500)
  .regex(/^\/[^:]*:id[^:]*$/, 'an item path starts with "/" and holds ":id" once, e.g. "/products/:id"')
const Scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()])
const IsoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO date or date-time')

/** A saved list's name (KV key `list:<name>`). */
export const ListName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'list names are letters, digits, "_", "-", "."')

const OperatorTest = z.strictObject({
  $eq: Scalar.optional(),
  $ne: Scalar.optional(),
  $in: z.array(Scalar).max(1000).optional(),
  $nin: z.array(Scalar).max(1000).optional(),
  $gt: z.union([z.number(), z.string()]).optional(),
  $gte: z.union([z.number(), z.string()]).optional(),
  $lt: z.union([z.number(), z.string()]).optional(),
  $lte: z.union([z.number(), z.string()]).optional(),
  $exists: z.boolean().optional(),
  $contains: Scalar.optional(),
  $startsWith: z.string().max(1000).optional(),
  $regex: z.string().max(256).optional(),
  /** Flags of `$regex`: only `i` (case-insensitive). */
  $options: z.literal('i').optional(),
  /** Case-insensitive equality with a string (Unicode lower case, no locale). */
  $ieq: z.string().max(1000).optional(),
  /** Case-insensitive `$in` over strings. */
  $iin: z.array(z.string().max(1000)).max(1000).optional(),
  /** Membership in a saved id list (KV key `list:<name>`, published with the admin API or CLI). */
  $inList: ListName.optional(),
})

/** A test on one attribute: a scalar (equality) or an operator object. */
export const AttributeTest = z.union([Scalar, OperatorTest])

export interface ConditionDoc {
  $and?: ConditionDoc[]
  $or?: ConditionDoc[]
  $not?: ConditionDoc
  [attribute: string]: unknown
}

/** `attribute: test` pairs, all of which must hold, plus `$and` / `$or` / `$not`. */
export const Condition: z.ZodType<ConditionDoc> = z.lazy(() =>
  z
    .object({
      $and: z.array(Condition).min(1, '$and needs at least one condition').max(100).optional(),
      $or: z.array(Condition).min(1, '$or needs at least one condition (an empty $or would never match)').max(100).optional(),
      $not: Condition.optional(),
    })
    .catchall(AttributeTest),
)

const PlaceholderText = z.string().max(100_000)
const AttrName = z.string().regex(/^[A-Za-z_:][A-Za-z0-9_.:-]*$/, 'not a valid attribute name')
const ClassName = z.string().regex(/^[^\s"'<>]+$/, 'one class name, no spaces')
const Selector = z.string().superRefine((s, ctx) => {
  const problem = selectorProblem(s)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

const opBase = { selector: Selector.optional() }
export const Operation = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.enum(['setText', 'setHtml', 'replace', 'before', 'after', 'prepend', 'append']),
    value: PlaceholderText,
    ...opBase,
  }),
  z.strictObject({ op: z.literal('remove'), ...opBase }),
  z.strictObject({ op: z.literal('setAttr'), name: AttrName, value: PlaceholderText, ...opBase }),
  z.strictObject({ op: z.literal('removeAttr'), name: AttrName, ...opBase }),
  z.strictObject({ op: z.enum(['addClass', 'removeClass']), value: ClassName, ...opBase }),
  // Recommendations (SPEC 13, docs/recommendations.md): fills the element with `count` items.
  z.strictObject({
    op: z.literal('recommend'),
    strategy: z.enum(STRATEGIES),
    count: z.number().int().min(1).max(50).default(4),
    template: z.string().min(1).max(10_000),
    exclude: z.enum(['viewed', 'purchased']).optional(),
    perCategory: z.number().int().min(1).max(50).optional(),
    explore: z.number().min(0).max(1).optional(),
    ...opBase,
  }),
])

export const Variant = z.strictObject({
  id: Id,
  description: z.string().max(1000).optional(),
  ops: z.array(Operation).max(50),
})

export const Experiment = z
  .strictObject({
    id: Id,
    split: z
      .record(Id, z.number().min(0).max(1_000_000))
      .refine((s) => Object.values(s).some((w) => w > 0), 'a split needs at least one weight above 0'),
    traffic: z.number().min(0).max(100).optional(),
    start: IsoDate.optional(),
    end: IsoDate.optional(),
    layer: Id.optional(),
    /** Goal ids that stop the experiment when an arm is worse on them (SPEC 12.2). */
    guardrails: z.array(Id).max(20).optional(),
    /** Set when the experiment was stopped (by a guardrail or by hand): every visitor sees control. */
    stopped: z.strictObject({ at: z.string().max(40), reason: z.string().max(500) }).optional(),
    /**
     * `split` (default): fixed weights. `bandit`: weights recomputed by Thompson sampling (SPEC 14,
     * docs/experiments.md "Bandits"); `split` is then the allocation until the first update.
     */
    allocation: z.enum(['split', 'bandit']).optional(),
    /** Bandit: visitors every arm needs before the weights adapt (default 100). */
    burnIn: z.number().int().min(0).max(10_000_000).optional(),
    /** Bandit: percent of new visitors each arm keeps at least (default 1). */
    floor: z.number().min(0).max(50).optional(),
    /** Bandit: minutes between weight updates (default 60; the cron runs every 5 minutes). */
    every: z.number().int().min(5).max(10_080).optional(),
    /** Bandit: the goal whose conversion rate it maximises (default the ruleset's first goal). */
    goal: Id.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.allocation !== 'bandit') {
      for (const k of ['burnIn', 'floor', 'every', 'goal'] as const) {
        if (e[k] !== undefined)
          ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" applies only with "allocation": "bandit"` })
      }
      return
    }
    const arms = Object.values(e.split).filter((w) => w > 0).length
    if (arms < 2)
      ctx.addIssue({ code: 'custom', path: ['split'], message: 'a bandit needs at least two arms of positive weight in "split"' })
    if (e.floor !== undefined && e.floor * arms > 100)
      ctx.addIssue({ code: 'custom', path: ['floor'], message: `a floor of ${e.floor}% for ${arms} arms is more than 100%` })
  })

export const Rule = z
  .strictObject({
    segment: Id.optional(),
    when: Condition.optional(),
    variant: Id.optional(),
    experiment: Experiment.optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.variant === undefined) === (r.experiment === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a rule has exactly one of "variant" or "experiment"' })
    }
  })

export const Placement = z.strictObject({
  id: Id,
  description: z.string().max(1000).optional(),
  paths: z.array(Glob).min(1).max(100),
  selector: Selector,
  variants: z.array(Variant).max(50),
  rules: z.array(Rule).max(200).default([]),
})

export const Segment = z.strictObject({
  id: Id,
  description: z.string().max(1000).optional(),
  when: Condition,
})

export const Goal = z
  .strictObject({ id: Id, event: Id.optional(), path: Glob.optional(), description: z.string().max(1000).optional() })
  .superRefine((g, ctx) => {
    if ((g.event === undefined) === (g.path === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a goal has exactly one of "event" or "path"' })
    }
  })

export const Settings = z.strictObject({
  /** Bound on a cold ruleset lookup, in ms (SPEC 2.3). */
  budgetMs: z.number().int().min(1).max(10_000).default(50),
  /** How old the in-memory ruleset may get before a background refresh. */
  refreshSeconds: z.number().int().min(1).max(3600).default(10),
  holdoutPercent: z.number().min(0).max(100).default(0),
  consent: z
    .strictObject({
      default: z.enum(['opt-in', 'opt-out']).default('opt-out'),
      optInCountries: z.array(z.string().regex(/^(?:[A-Z]{2}|EU)$/, 'a two-letter country code or "EU"')).default([]),
    })
    .default({ default: 'opt-out', optInCountries: [] }),
  contextualWithoutConsent: z.boolean().default(true),
  include: z.array(Glob).max(200).default(['/*']),
  exclude: z.array(Glob).max(200).default([]),
  bots: z.enum(['generic', 'personalize']).default('generic'),
  categories: z.record(Id, z.union([Glob, z.array(Glob).min(1).max(50)])).default({}),
  originCacheTtl: z.number().int().min(0).max(86_400).default(0),
  /** Days raw measurement rows (exposures, conversions, served counts) are kept (docs/measurement.md). */
  retentionDays: z.number().int().min(1).max(3650).default(90),
  /** Measurement options (docs/measurement.md): `rawEvents` keeps per-visitor rows for audits. */
  measurement: z.strictObject({ rawEvents: z.boolean().default(false) }).default({ rawEvents: false }),
  /** Lifetime of the `veneer_visitor` cookie, in days (SPEC 5). */
  visitorMaxAgeDays: z.number().int().min(1).max(395).default(30),
  /** Lifetime of the `veneer_consent` cookie the preference center writes, in days. */
  consentMaxAgeDays: z.number().int().min(1).max(395).default(180),
  /** Item pages for recommendations (SPEC 13): `{ "path": "/products/:id" }` maps a path to an item id. */
  items: z
    .strictObject({
      path: z.union([ItemPath, z.array(ItemPath).min(1).max(20)]),
    })
    .optional(),
  /** Claims a `veneer_profile` token must carry when set (`iss`, `aud`). */
  profile: z
    .strictObject({ issuer: z.string().min(1).max(500).optional(), audience: z.string().min(1).max(500).optional() })
    .default({}),
})

export const RulesetDocument = z.strictObject({
  $schema: z.string().optional(),
  version: z.union([z.string().min(1).max(100), z.number()]).optional(),
  description: z.string().max(10_000).optional(),
  settings: Settings.default(Settings.parse({})),
  segments: z.array(Segment).max(5000).default([]),
  placements: z.array(Placement).max(1000).default([]),
  goals: z.array(Goal).max(500).default([]),
})

export type RulesetDoc = z.output<typeof RulesetDocument>
export type RulesetInput = z.input<typeof RulesetDocument>
export type SettingsDoc = z.output<typeof Settings>
export type PlacementDoc = z.output<typeof Placement>
export type RuleDoc = z.output<typeof Rule>
export type ExperimentDoc = z.output<typeof Experiment>
export type OperationDoc = z.output<typeof Operation>
export type SegmentDoc = z.output<typeof Segment>
export type GoalDoc = z.output<typeof Goal>
