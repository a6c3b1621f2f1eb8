import { buildContext, contextualContext } from '../context/build'
import { EU_COUNTRIES } from '../context/geo'
import type { Context, VisitorState } from '../context/types'
import { decide } from '../decide/decide'
import type { Decision, DecideHooks } from '../decide/types'
import type { Env } from '../env'
import { rewriterFor } from '../rewrite/apply'
import { ineligibility } from '../rewrite/eligible'
import { planRewrite } from '../rewrite/plan'
import { isKnownUnparseable, rewriteStream } from '../rewrite/stream'
import type { CompiledRuleset } from '../rules/compile'
import type { SettingsDoc } from '../rules/schema'
import type { RulesetLookup } from '../rules/store'
import { logError } from '../util/log'
import { appendServerTiming, privateCacheControl, withMutableHeaders, type VeneerState } from './headers'

export interface PipelineInput {
  request: Request
  env: Env
  /** The origin response; its fetch was started before the ruleset lookup. */
  origin: Response
  /** The ruleset lookup, started at the same time as the origin fetch and bounded by the budget. */
  lookup: Promise<RulesetLookup>
  waitUntil: (p: Promise<unknown>) => void
  /** `performance.now()` when Veneer first saw the request. */
  startedAt: number
  /** Request time for the context (local time); injectable for tests and QA. */
  at?: Date
}

/** What Veneer may know about the visitor. The consent/identity layer fills this in later. */
export function anonymousVisitorState(settings: SettingsDoc, ctx: Pick<Context, 'geo'>): VisitorState {
  const country = ctx.geo.country
  const optInHere =
    country !== undefined &&
    settings.consent.optInCountries.some((c) => c === country || (c === 'EU' && EU_COUNTRIES.has(country)))
  const granted = settings.consent.default === 'opt-out' && !optInHere
  return { consent: { personalization: granted, analytics: granted, gpc: false } }
}

/** The decision for one request: context, segments and variants. Pure apart from the clock. */
export interface RequestDecision {
  ctx: Context
  decision: Decision
  state: VeneerState
}

function decideRequest(ruleset: CompiledRuleset, request: Request, at: Date): RequestDecision | VeneerState {
  const settings = ruleset.settings
  const contextual = contextualContext(request, at)
  if (contextual.device.isBot && settings.bots === 'generic') return 'generic'
  const visitor = anonymousVisitorState(settings, contextual)
  if (!visitor.consent.personalization && !settings.contextualWithoutConsent) return 'generic'
  const ctx = buildContext(contextual, visitor)
  const hooks: DecideHooks = {}
  const decision = decide(ruleset, ctx, ctx.request.path, hooks)
  return { ctx, decision, state: decision.holdout ? 'holdout' : 'generic' }
}

/**
 * The request path (SPEC 2), top to bottom: eligibility → ruleset → context → decide →
 * rewrite → headers. Any fault returns the origin response unchanged (fail open).
 */
export async function personalizeResponse(input: PipelineInput): Promise<Response> {
  const { request, origin } = input
  try {
    if (ineligibility(request.method, origin) !== undefined) return origin
    const url = new URL(request.url)
    const lookup = await input.lookup
    const ruleset = lookup.ruleset
    const timing = (state: VeneerState) => [
      { name: 'veneer', dur: performance.now() - input.startedAt, desc: state },
      { name: 'veneer-kv', dur: lookup.waitedMs, desc: lookup.source },
    ]
    if (ruleset === undefined) return finish(origin, 'fallback', timing('fallback'))
    const path = safePath(url)
    if (!ruleset.included(path) || ruleset.excluded(path)) return origin
    if (isKnownUnparseable(request.url)) return finish(origin, 'bypass', timing('bypass'))

    const decided = decideRequest(ruleset, request, input.at ?? new Date())
    if (typeof decided === 'string') return finish(origin, decided, timing(decided))
    const plan = planRewrite(ruleset, decided.decision.placements, decided.ctx)
    if (plan.size === 0) return finish(origin, decided.state, timing(decided.state))
    const body = rewriteStream(origin.body as ReadableStream<Uint8Array>, rewriterFor(plan), request.url)
    return finish(origin, 'personalized', timing('personalized'), body)
  } catch (err) {
    logError('pipeline_failed', err)
    return origin
  }
}

function safePath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname)
  } catch {
    return url.pathname
  }
}

function finish(origin: Response, state: VeneerState, timing: { name: string; dur: number; desc?: string }[], body?: ReadableStream<Uint8Array>): Response {
  const res = withMutableHeaders(origin, body ?? origin.body)
  const h = res.headers
  h.set('x-veneer', state)
  appendServerTiming(h, timing)
  if (body !== undefined) {
    // The body changed: its length and validators no longer describe it.
    h.delete('content-length')
    h.delete('etag')
    h.delete('last-modified')
  }
  if (state === 'personalized' || state === 'holdout') h.set('cache-control', privateCacheControl(h.get('cache-control')))
  return res
}
