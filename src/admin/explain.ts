import { isRecord } from '../util/guards'
import { localTime } from '../context/time'
import type { Context, ContextualContext, VisitorState } from '../context/types'
import type { DecisionReason } from '../decide/types'
import type { Env } from '../env'
import { decideRequest, type ContextAdjust } from '../pipeline/personalize'
import { planRewrite, type FilledOp } from '../rewrite/plan'
import type { CompiledRuleset } from '../rules/compile'

/**
 * `explain` (SPEC 7): a simulated visitor in, the full decision trace out, computed by the very
 * function a page request uses (`decideRequest`). The input becomes a synthetic request
 * (geo → `request.cf`, device → User-Agent, hour → the request time in the visitor's timezone,
 * path/query/language/referrer → URL and headers, `headers` as given, cookies included), and
 * explicit attributes are then laid over the context it yields.
 *
 * Input: a partial context, nested or dotted:
 * `{ "geo": { "country": "DE" }, "device": { "type": "mobile" }, "time": { "hour": 20 }, "path": "/" }`
 * or `{ "geo.country": "DE", "device.type": "mobile" }`. Extra keys: `path`, `at` (ISO time),
 * `headers` (object), `profile`, `consent`, `behavior`, `visitor`.
 */
export interface ExplainResult {
  rulesetVersion: string
  path: string
  /** The `x-veneer` value the page response would carry; null when Veneer leaves the path alone. */
  xVeneer: 'personalized' | 'generic' | 'holdout' | null
  /** Why there is no decision, when there is none. */
  note?: string
  request: { url: string; cf: Record<string, unknown>; headers: Record<string, string>; at: string }
  context?: Omit<Context, 'visitor'> & { visitor?: Omit<NonNullable<Context['visitor']>, 'id'> }
  segments: { id: string; matched: boolean }[]
  holdout: boolean
  placements: {
    placement: string
    variant: string
    reason: DecisionReason
    experiment?: string
    rules: { index: number; segment?: string; matched: boolean; decided: boolean }[]
  }[]
  /** Selector → operations, exactly as the rewriter would apply them. */
  rewrite: { selector: string; ops: FilledOp[] }[]
}

export type ExplainInput = Record<string, unknown>

const DEVICE_UA: Record<string, string> = {
  mobile:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  tablet:
    'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  desktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  bot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
}
const ROOTS = ['geo', 'device', 'time', 'request', 'consent', 'visitor', 'behavior', 'profile'] as const

/** Nested and dotted keys into one nested object (`"geo.country": "DE"` → `{ geo: { country: "DE" } }`). */
export function normalizeInput(input: ExplainInput): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const set = (keys: string[], value: unknown) => {
    let cur = out
    keys.slice(0, -1).forEach((k) => {
      if (!isRecord(cur[k])) cur[k] = {}
      cur = cur[k] as Record<string, unknown>
    })
    const last = keys[keys.length - 1] as string
    if (isRecord(value) && isRecord(cur[last])) Object.assign(cur[last] as object, value)
    else cur[last] = value
  }
  for (const [k, v] of Object.entries(input)) {
    if (k === '__proto__' || k === 'constructor') continue
    set(
      k.split('.').filter((p) => p !== '__proto__' && p !== 'constructor' && p !== ''),
      v,
    )
  }
  return out
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined
}

function deepAssign(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue
    if (isRecord(v) && isRecord(target[k])) deepAssign(target[k] as Record<string, unknown>, v)
    else target[k] = v
  }
}

/** The request time whose local hour/minute in `tz` are the ones asked for, on the same local date. */
function timeFor(base: Date, tz: string | undefined, hour: unknown, minute: unknown): Date {
  const local = localTime(base, tz)
  const h = typeof hour === 'number' && Number.isInteger(hour) && hour >= 0 && hour < 24 ? hour : local.hour
  const m = typeof minute === 'number' && Number.isInteger(minute) && minute >= 0 && minute < 60 ? minute : local.minute
  const delta = (h - local.hour) * 60 + (m - local.minute)
  return new Date(base.getTime() + delta * 60_000)
}

/** The synthetic request an input stands for, exactly as a visitor's browser would send it. */
export function syntheticRequest(
  attrs: Record<string, unknown>,
  base: string,
  now: Date,
): { request: Request; cf: Record<string, unknown>; headers: Record<string, string>; at: Date } {
  const geo = isRecord(attrs.geo) ? attrs.geo : {}
  const device = isRecord(attrs.device) ? attrs.device : {}
  const time = isRecord(attrs.time) ? attrs.time : {}
  const req = isRecord(attrs.request) ? attrs.request : {}
  const cf: Record<string, unknown> = {}
  for (const k of ['country', 'city', 'region', 'regionCode', 'continent', 'postalCode', 'timezone', 'latitude', 'longitude']) {
    const v = str(geo[k])
    if (v !== undefined) cf[k] = v
  }
  if (typeof geo.isEU === 'boolean') cf.isEUCountry = geo.isEU ? '1' : '0'
  const headers: Record<string, string> = {}
  const type = str(device.type) ?? 'desktop'
  headers['user-agent'] = DEVICE_UA[type] ?? DEVICE_UA.desktop!
  const language = str(req.language)
  if (language !== undefined) headers['accept-language'] = language
  const referrer = str(req.referrer)
  if (referrer !== undefined) headers.referer = referrer
  if (isRecord(attrs.headers))
    for (const [k, v] of Object.entries(attrs.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v
  const path = str(attrs.path) ?? str(req.path) ?? '/'
  const url = new URL(path.startsWith('/') ? path : `/${path}`, base)
  const host = str(req.host)
  if (host !== undefined && /^[a-z0-9.-]+(?::\d+)?$/i.test(host)) url.host = host
  if (isRecord(req.query))
    for (const [k, v] of Object.entries(req.query)) if (str(v) !== undefined) url.searchParams.set(k, str(v)!)
  if (isRecord(req.utm))
    for (const [k, v] of Object.entries(req.utm)) if (str(v) !== undefined) url.searchParams.set(`utm_${k}`, str(v)!)
  const atInput = str(attrs.at)
  const baseTime = atInput !== undefined && !Number.isNaN(Date.parse(atInput)) ? new Date(atInput) : now
  const at =
    time.hour === undefined && time.minute === undefined ? baseTime : timeFor(baseTime, str(geo.timezone), time.hour, time.minute)
  const request = new Request(url.toString(), { headers, cf } as RequestInit)
  // Outside workerd (the CLI in Node) `cf` in the init is ignored: attach it the same way.
  if ((request as { cf?: unknown }).cf === undefined) Object.defineProperty(request, 'cf', { value: cf })
  return { request, cf, headers, at }
}

/**
 * Explains what a visitor described by `input` gets from `ruleset`, through `decideRequest`.
 * `env` supplies the secrets the request path would use (cookies in `headers` are read with them).
 */
export async function explain(
  ruleset: CompiledRuleset,
  input: ExplainInput,
  env: Env,
  options: { base?: string; now?: Date } = {},
): Promise<ExplainResult> {
  const attrs = normalizeInput(input)
  const { request, cf, headers, at } = syntheticRequest(attrs, options.base ?? 'https://veneer.local', options.now ?? new Date())
  const path = new URL(request.url).pathname
  const result: ExplainResult = {
    rulesetVersion: ruleset.version,
    path,
    xVeneer: null,
    request: { url: request.url, cf, headers, at: at.toISOString() },
    segments: [],
    holdout: false,
    placements: [],
    rewrite: [],
  }
  if (!ruleset.included(path) || ruleset.excluded(path)) {
    result.note = 'the path is not in settings.include or is in settings.exclude: Veneer passes the page through untouched'
    return result
  }
  const explicit = (root: string) => (isRecord(attrs[root]) ? (attrs[root] as Record<string, unknown>) : undefined)
  const adjust: ContextAdjust = {
    contextual: (c: ContextualContext) => {
      // The request context has getters only (src/context/request.ts), and `request` itself is
      // a getter of the contextual context (src/context/build.ts): adjust a plain copy, put in its place.
      if (explicit('request') !== undefined)
        Object.defineProperty(c, 'request', { value: { ...c.request }, writable: true, enumerable: true, configurable: true })
      for (const root of ['geo', 'device', 'time', 'request'] as const) {
        const v = explicit(root)
        if (v !== undefined) deepAssign(c[root] as unknown as Record<string, unknown>, v)
      }
      if (explicit('device')?.type === 'bot') c.device.isBot = true
    },
    state: (s: VisitorState) => {
      for (const root of ROOTS.slice(4)) {
        const v = explicit(root)
        if (v === undefined) continue
        const target = s as unknown as Record<string, unknown>
        // A plain copy to adjust: the visitor's `firstSeen` is a getter (src/identity/state.ts).
        target[root] = isRecord(target[root]) ? { ...target[root] } : {}
        deepAssign(target[root] as Record<string, unknown>, v)
      }
    },
  }
  const decided = await decideRequest(ruleset, request, env, at, adjust)
  if ('generic' in decided) {
    result.xVeneer = 'generic'
    result.note =
      decided.generic === undefined
        ? 'a bot (settings.bots is "generic"): the generic page, nothing decided'
        : 'no personalization consent and settings.contextualWithoutConsent is false: the generic page'
    return result
  }
  const { ctx, decision } = decided
  const matched = new Set(decision.segments)
  result.segments = ruleset.segments.map((s) => ({ id: s.id, matched: matched.has(s.id) }))
  result.holdout = decision.holdout
  const byId = new Map(ruleset.placements.map((p) => [p.id, p]))
  result.placements = decision.placements.map((d) => {
    const pl = byId.get(d.placement)
    const decidedRule = 'rule' in d.reason ? d.reason.rule : undefined
    const rules = (pl?.rules ?? []).map((r) => ({
      index: r.index,
      segment: ruleset.doc.placements.find((p) => p.id === d.placement)?.rules[r.index]?.segment,
      matched: r.matches(ctx),
      decided: r.index === decidedRule,
    }))
    return { placement: d.placement, variant: d.variant, reason: d.reason, experiment: d.experiment, rules }
  })
  const plan = planRewrite(ruleset, decision.placements, ctx)
  result.rewrite = [...plan].map(([selector, ops]) => ({ selector, ops }))
  result.xVeneer = decision.holdout ? 'holdout' : plan.size > 0 ? 'personalized' : 'generic'
  const { visitor, ...rest } = ctx
  result.context =
    visitor === undefined
      ? rest
      : { ...rest, visitor: { isNew: visitor.isNew, sessions: visitor.sessions, firstSeen: visitor.firstSeen } }
  return result
}
