import type { RequestLike } from '../http/request-view'
import { contextInstant } from '../context/build'
import type { ContextualContext, VisitorState } from '../context/types'
import type { Decision } from '../decide/types'
import type { Env } from '../env'
import type { SettingsDoc } from '../rules/schema'
import { logError } from '../util/log'
import { countPageView, identityOf, mergeAssignments, readIdentity, visitorClearCookie, visitorSetCookie } from './state'
import { requestPath } from '../util/path'

/** The request time the context uses, so tests that inject a clock see one time. */
function requestTime(contextual: ContextualContext): Date {
  return new Date(Math.floor(contextInstant(contextual) / 1000) * 1000)
}

/**
 * The visitor's country, when consent depends on it (`optInCountries`): read only then, since
 * it is the one part of the state that needs `request.cf` (src/context/build.ts).
 */
function consentCountry(settings: SettingsDoc, contextual: ContextualContext): string | undefined {
  return settings.consent.default === 'opt-out' && settings.consent.optInCountries.length > 0 ? contextual.geo.country : undefined
}

/**
 * What Veneer may know about this visitor (SPEC 5), from `veneer_consent`, `veneer_visitor`
 * and `veneer_profile`. With personalization consent: `visitor` (a fresh id for a new or
 * bad-cookie visitor), `behavior` as of BEFORE this page view, `profile` and `assignments`.
 * Without it: consent only. Never throws: a fault gives a consent-only state.
 */
export async function readVisitorState(
  request: RequestLike,
  env: Env,
  settings: SettingsDoc,
  contextual: ContextualContext,
): Promise<VisitorState> {
  try {
    return (await readIdentity(request.headers, env, settings, consentCountry(settings, contextual), requestTime(contextual)))
      .state
  } catch (err) {
    logError('visitor_state_failed', err)
    return { consent: { personalization: false, analytics: false, gpc: request.headers.get('sec-gpc')?.trim() === '1' } }
  }
}

/**
 * The `Set-Cookie` values for a page response (SPEC 5): with personalization consent, the
 * refreshed `veneer_visitor` with this page view counted (`pageViews`, `views.<category>`) and
 * the sticky assignments (`state.assignments` plus this decision's experiment placements; QA
 * overrides are never persisted). Without consent, only the deletion of a leftover cookie.
 */
export async function visitorCookies(
  request: RequestLike,
  env: Env,
  settings: SettingsDoc,
  state: VisitorState,
  decision: Decision | undefined,
  path: string = requestPath(request),
): Promise<string[]> {
  try {
    let identity = identityOf(state)
    if (identity === undefined) {
      // A state this module did not produce (e.g. a copy): read the cookies again.
      const fresh = await readIdentity(
        request.headers,
        env,
        settings,
        (request.cf as { country?: string } | undefined)?.country,
        new Date(),
      )
      identity = { ...fresh, state }
    }
    if (!state.consent.personalization || !identity.consent.personalization) return visitorClearCookie(identity, request.url)
    const record = identity.record
    if (record === undefined) return []
    countPageView(record, settings, path)
    const touched: [string, string][] = []
    for (const p of decision?.placements ?? []) {
      if (p.reason.kind === 'experiment') touched.push([p.reason.experiment, p.variant])
    }
    mergeAssignments(record, state.assignments ?? {}, touched)
    const cookie = await visitorSetCookie(identity, settings, request.url)
    return cookie === undefined ? [] : [cookie]
  } catch (err) {
    logError('visitor_cookie_failed', err)
    return []
  }
}
