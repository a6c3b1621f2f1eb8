import { banditWeightsFor, type BanditWeightsLookup } from '../bandit/store'
import { buildContext, contextualContext, type ParsedUrl } from '../context/build'
import type { Context, ContextualContext, VisitorState } from '../context/types'
import { decide, placementsOnPath } from '../decide/decide'
import type { Decision, DecideHooks } from '../decide/types'
import type { Env } from '../env'
import type { RequestLike } from '../http/request-view'
import { experimentHooks } from '../experiments/hooks'
import { readVisitorState, visitorCookies } from '../identity/visitor-state'
import { recordPageView } from '../measure/record'
import { qaBadge } from '../qa/badge'
import { applyQaContext } from '../qa/context'
import { coerceQaValue } from '../qa/fields'
import { qaSecret, readQaRequest, type QaRequest } from '../qa/overrides'
import { rewriterFor } from '../rewrite/apply'
import { ineligibility, stillEncoded } from '../rewrite/eligible'
import { planRewrite } from '../rewrite/plan'
import { pageKey, pageKind } from '../rewrite/known'
import { rewriteResponse } from '../rewrite/stream'
import { decisionRecommends, requestRecs, startRecsModel } from '../recs/request'
import type { CompiledPlacement, CompiledRuleset } from '../rules/compile'
import type { RulesetLookup } from '../rules/store'
import { logError } from '../util/log'
import { isRuntimeDecoded } from './origin'
import { requestPath } from '../util/path'
import { appendServerTiming, privateCacheControl, withMutableHeaders, type TimingEntry, type VeneerState } from './headers'
import { offerSample } from '../segments/record'

export interface PipelineInput {
  /** The request, or its view read once ({@link requestView}). */
  request: RequestLike
  env: Env
  /** The origin response; its fetch was started before the ruleset lookup. */
  origin: Response
  /** The ruleset lookup, started at the same time as the origin fetch and bounded by the budget. */
  lookup: Promise<RulesetLookup>
  waitUntil: (p: Promise<unknown>) => void
  /** `performance.now()` when Veneer first saw the request. */
  startedAt: number
  /** Request time for the context (local time); injectable for tests. */
  at?: Date
}

/** Everything decided for one page request, before a byte of it is rewritten. */
export interface RequestDecision {
  ctx: Context
  state: VisitorState
  decision: Decision
  qa?: QaRequest
}

/** Forces variants from a QA request, by placement id or by the id of its experiment. */
function qaOverride(qa: QaRequest): DecideHooks['override'] {
  return (pl: CompiledPlacement) => {
    const byPlacement = qa.overrides.get(pl.id)
    if (byPlacement !== undefined) return { variant: byPlacement, by: 'placement' }
    for (const rule of pl.rules) {
      const v = rule.experiment === undefined ? undefined : qa.overrides.get(rule.experiment.id)
      if (v !== undefined) return { variant: v, by: 'experiment' }
    }
    return undefined
  }
}

/**
 * Explicit attributes laid over what the request tells, before anything is decided from them.
 * Only the admin `explain` endpoint and the CLI use this (a simulated visitor); requests never do.
 */
export interface ContextAdjust {
  contextual?: (contextual: ContextualContext) => void
  state?: (state: VisitorState) => void
}

/**
 * Context → segments → variants for one request (SPEC 4.4). Returns the state name instead
 * when the visitor gets the generic page without a decision (bots, no consent).
 */
export async function decideRequest(
  ruleset: CompiledRuleset,
  request: RequestLike,
  env: Env,
  at: Date,
  adjust?: ContextAdjust,
  bandits?: Promise<BanditWeightsLookup | undefined>,
  parsed?: ParsedUrl & { onPath?: readonly CompiledPlacement[] },
): Promise<RequestDecision | { generic: VisitorState | undefined }> {
  const settings = ruleset.settings
  const contextual = contextualContext(request, at, parsed)
  adjust?.contextual?.(contextual)
  // Both verify signatures (WebCrypto): started together, not one after the other. Neither
  // rejects; a bot's unused visitor state is simply dropped.
  const statePromise = readVisitorState(request, env, settings, contextual)
  const qa = qaSecret(env) === undefined ? undefined : await readQaRequest(request, env)
  if (qa === undefined && contextual.device.isBot && settings.bots === 'generic') return { generic: undefined }
  const state = await statePromise
  adjust?.state?.(state)
  if (!state.consent.personalization && !settings.contextualWithoutConsent && qa === undefined) return { generic: state }
  const real = buildContext(contextual, state)
  const ctx = qa === undefined ? real : applyQaContext(real, qa.context, at)
  const hooks: DecideHooks = { ...experimentHooks(ruleset, ctx, state, at, bandits === undefined ? undefined : await bandits) }
  if (qa !== undefined) hooks.override = qaOverride(qa)
  else if (adjust === undefined) hooks.segmentsOnlyWithPlacements = true
  if (parsed?.onPath !== undefined) hooks.onPath = parsed.onPath
  const decision = decide(ruleset, ctx, parsed?.path ?? ctx.request.path, hooks)
  return { ctx, state, decision, qa }
}

/**
 * The request path (SPEC 2), top to bottom: eligibility → ruleset → context → decide →
 * rewrite → headers and cookies → measurement. Any fault returns the origin response
 * unchanged (fail open): never a 5xx of Veneer's, never a second origin fetch.
 */
export async function personalizeResponse(input: PipelineInput): Promise<Response> {
  const { request, env } = input
  let origin = input.origin
  try {
    if (ineligibility(request.method, origin) !== undefined) return origin
    // From here on `origin` may be a re-assembled copy: its first chunk was read. The runtime's
    // own fetch responses are known to be decoded and are not peeked at.
    const peeked = isRuntimeDecoded(origin) ? { response: origin, encoded: false } : await stillEncoded(origin)
    origin = peeked.response
    if (peeked.encoded) return origin
    const lookup = await input.lookup
    const ruleset = lookup.ruleset
    const timing = (state: VeneerState): TimingEntry[] => [
      { name: 'veneer', dur: performance.now() - input.startedAt, desc: state },
      { name: 'veneer-kv', dur: lookup.waitedMs, desc: lookup.source },
    ]
    if (ruleset === undefined) return finish(origin, { state: 'fallback', timing: timing('fallback') })
    const path = requestPath(request) // the URL is parsed only if a rule reads its host or query
    if (!ruleset.included(path) || ruleset.excluded(path)) return origin
    const onPath = placementsOnPath(ruleset, path)
    const placed = onPath.length > 0
    // A page whose rewrite failed is passed through untouched for a while; a page with no
    // placement on its path is never rewritten, so it has nothing to bypass (nor a key to learn).
    const key = placed ? pageKey(request.url) : undefined
    if (key !== undefined && pageKind(key) === 'failed') return finish(origin, { state: 'bypass', timing: timing('bypass') })

    // The recommendations model and bandit weights (SPEC 13, 14) are read in parallel with the
    // decision, and only when a placement is on the path: nothing else can use them.
    const recsModel = placed ? startRecsModel(ruleset, env, input.waitUntil) : undefined
    const bandits = placed ? banditWeightsFor(ruleset, env.RULES, input.waitUntil) : undefined
    const at = input.at ?? new Date() // one request time for the context, sampling and recommendations
    const decided = await decideRequest(ruleset, request, env, at, undefined, bandits, {
      path,
      onPath,
    })
    if ('generic' in decided) {
      const cookies =
        decided.generic === undefined
          ? []
          : await visitorCookies(request, env, ruleset.settings, decided.generic, undefined, path)
      return finish(origin, { state: 'generic', timing: timing('generic'), cookies })
    }
    const { ctx, state, decision, qa } = decided
    // Measurement first: it updates the visitor's memory that the cookie then carries (SPEC 12).
    if (qa === undefined) recordPageView(env, input.waitUntil, ruleset, ctx, decision, state)
    if (qa === undefined) offerSample(env, input.waitUntil, ruleset, ctx, state, at.getTime())
    const model = decisionRecommends(ruleset, decision) ? await recsModel : undefined
    const recs = requestRecs(model, ruleset, ctx, state, {
      qa: qa !== undefined,
      env,
      waitUntil: input.waitUntil,
      path,
      at: at.getTime(),
    })
    const plan = planRewrite(ruleset, decision.placements, ctx, recs.render)
    recs.record() // before the cookie: it remembers what the recommendations showed
    const cookies = await visitorCookies(request, env, ruleset.settings, state, decision, path)

    const veneerState: VeneerState = decision.holdout ? 'holdout' : plan.size > 0 ? 'personalized' : 'generic'
    // A browser in QA mode (cookie) sees a badge saying what was decided; header-driven QA does not.
    const badge = qa?.via === 'cookie' ? qaBadge(decision, qa, Math.floor(Date.now() / 1000)) : undefined
    const rewritten =
      plan.size > 0 || badge !== undefined
        ? rewriteResponse(origin, rewriterFor(plan, { bodyEnd: badge }), key ?? pageKey(request.url))
        : undefined
    // `veneer-path`: which byte path carried the page (docs/performance.md), for operators.
    const pathTiming: TimingEntry[] = rewritten === undefined ? [] : [{ name: 'veneer-path', dur: 0, desc: rewritten.path }]
    return finish(origin, {
      state: veneerState,
      timing: [...timing(veneerState), ...pathTiming],
      cookies,
      rewritten: rewritten?.response,
      qa,
      trace: qa === undefined ? undefined : traceOf(decision, qa),
    })
  } catch (err) {
    logError('pipeline_failed', err)
    return origin
  }
}

/** The `x-veneer-trace` header is at most this long; a longer trace is replaced by a summary. */
export const MAX_TRACE_CHARS = 8192

/**
 * The `x-veneer-trace` document for QA (SPEC 6): segments, and per placement the variant and why.
 * Bounded by {@link MAX_TRACE_CHARS} (a ruleset of thousands of segments would otherwise make a
 * header no proxy passes): past it, `{ truncated: true, … }` with the counts and the placements
 * that fit; the whole trace is in `POST /__veneer/api/explain`.
 */
export function traceOf(decision: Decision, qa?: QaRequest): string {
  const full = traceJson(decision, qa)
  if (full.length <= MAX_TRACE_CHARS) return full
  const summary = {
    truncated: true,
    length: full.length,
    segments: decision.segments.length,
    holdout: decision.holdout,
    placements: [] as { placement: string; variant: string }[],
  }
  let size = asciiJson(summary).length
  for (const p of decision.placements) {
    const entry = { placement: p.placement, variant: p.variant }
    size += asciiJson(entry).length + 1
    if (size > MAX_TRACE_CHARS) break
    summary.placements.push(entry)
  }
  return asciiJson(summary)
}

/** JSON with everything outside ASCII escaped: header values are ASCII. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function traceJson(decision: Decision, qa?: QaRequest): string {
  return asciiJson({
    segments: decision.segments,
    holdout: decision.holdout,
    placements: decision.placements.map((p) => ({ placement: p.placement, variant: p.variant, reason: p.reason })),
    ...(qa === undefined
      ? {}
      : {
          simulated: Object.fromEntries([...qa.context].map(([k, v]) => [k, coerceQaValue(k, v)])),
          overrides: Object.fromEntries(qa.overrides),
          ignored: qa.ignored ?? [],
        }),
  })
}

function varyOnCookie(h: Headers): void {
  const vary = h.get('vary')
  if (vary === null || vary.trim() === '') h.set('vary', 'Cookie')
  else if (!vary.split(',').some((v) => ['cookie', '*'].includes(v.trim().toLowerCase()))) h.set('vary', `${vary}, Cookie`)
}

interface Finish {
  state: VeneerState
  timing: TimingEntry[]
  cookies?: string[]
  /** The rewritten page: a new response of ours, whose headers may be changed in place. */
  rewritten?: Response
  qa?: QaRequest
  trace?: string
}

function finish(origin: Response, f: Finish): Response {
  const res = f.rewritten ?? withMutableHeaders(origin)
  const h = res.headers
  h.set('x-veneer', f.state)
  appendServerTiming(h, f.timing)
  if (f.rewritten !== undefined) h.delete('content-length') // the body changed
  if (f.rewritten !== undefined || (f.cookies?.length ?? 0) > 0) {
    // The origin's validators describe the generic page, not this visitor's response: kept, the
    // browser would revalidate, get the origin's 304 and reuse an old page, uncounted.
    h.delete('etag')
    h.delete('last-modified')
  }
  for (const c of f.cookies ?? []) h.append('set-cookie', c) // the origin's own Set-Cookie stay
  if (f.qa !== undefined) {
    h.set('cache-control', privateCacheControl(h.get('cache-control'), ['no-store']))
    if (f.trace !== undefined) h.set('x-veneer-trace', f.trace)
    varyOnCookie(h)
  } else if (f.state === 'personalized' || f.state === 'holdout' || (f.cookies?.length ?? 0) > 0) {
    // One visitor's page, or one carrying their cookie: no shared cache may keep it (SPEC 8), and
    // the browser's own cache must not reuse it once their cookies (consent, visitor) change.
    h.set('cache-control', privateCacheControl(h.get('cache-control')))
    varyOnCookie(h)
  }
  return res
}
