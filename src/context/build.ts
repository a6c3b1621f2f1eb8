import { deviceFromHeaders } from './device'
import { geoFromCf } from './geo'
import { requestContext } from './request'
import { localTime } from './time'
import type { Context, ContextualContext, VisitorState } from './types'

/** The request's URL, parsed once per request, and its decoded path (`decodedPath`). */
export interface ParsedUrl {
  url: URL
  path: string
}

/**
 * Everything the request alone tells: geo, device, local time, request attributes. `parsed`:
 * the request's URL when the caller has parsed it already (the page path parses it once).
 */
export function contextualContext(request: Request, at: Date = new Date(), parsed?: ParsedUrl): ContextualContext {
  const url = parsed?.url ?? new URL(request.url)
  const geo = geoFromCf((request as { cf?: unknown }).cf)
  return {
    geo,
    device: deviceFromHeaders(request.headers),
    time: localTime(at, geo.timezone),
    request: requestContext(url, request.headers, parsed?.path),
  }
}

/**
 * The full context: contextual parts plus what consent allows of the visitor state.
 * Without personalization consent the visitor, behavior and profile parts are left out, so no
 * rule can see them (SPEC 5).
 */
export function buildContext(contextual: ContextualContext, state: VisitorState): Context {
  const allowed = state.consent.personalization
  return {
    ...contextual,
    consent: state.consent,
    visitor: allowed ? state.visitor : undefined,
    behavior: allowed ? state.behavior : undefined,
    profile: allowed ? state.profile : undefined,
    segments: [],
  }
}
