import type { RequestLike } from '../http/request-view'
import { deviceFromHeaders } from './device'
import { geoFromCf } from './geo'
import { requestContext } from './request'
import { localTime } from './time'
import type { Context, ContextualContext, GeoContext, RequestContext, TimeContext, VisitorState } from './types'

/** What the caller already knows of the request's URL: its decoded path, the parsed URL if any. */
export interface ParsedUrl {
  url?: URL
  path: string
}

/**
 * Everything the request alone tells: geo, device, local time, request attributes. `parsed`:
 * what the caller already knows of the URL (the page path knows the decoded path; the URL itself
 * is parsed only if a rule reads the host or the query).
 *
 * `geo`, `time` and `request` are computed on first read: the first read of `request.cf` makes
 * the runtime parse the whole blob from JSON and deep-freeze it, local time needs `Intl`, and the
 * request's attributes take a dozen runtime calls; a page with no placement, or a ruleset that
 * never looks at them, does none of it. They read, spread and serialise like plain properties.
 */
export function contextualContext(request: RequestLike, at: Date = new Date(), parsed?: ParsedUrl): ContextualContext {
  if (Number.isNaN(at.getTime())) throw new RangeError('contextualContext: invalid request time')
  let geo: GeoContext | undefined
  let time: TimeContext | undefined
  let req: RequestContext | undefined
  const geoOf = () => {
    geo ??= geoFromCf(request.cf)
    return geo
  }
  // Accessors in the literal (not defineProperty): the object keeps a fast shape. Getters only:
  // V8 builds a literal with accessors slowly (~0.3 µs each, measured), and nothing assigns these
  // (the QA simulation and `explain` work on copies). In the order the document lists the parts.
  const ctx: ContextualContext = {
    get geo() {
      return geoOf()
    },
    device: deviceFromHeaders(request.headers),
    get time() {
      time ??= localTime(at, geoOf().timezone)
      return time
    },
    get request() {
      req ??= requestContext(parsed?.url ?? new URL(request.url), request.headers, parsed?.path)
      return req
    },
  }
  instants.set(ctx, at.getTime())
  return ctx
}

/** The request time each context was built for (ms), so readers need not derive it from `time`. */
const instants = new WeakMap<object, number>()

/** The request time a context was built for (ms since the epoch), without reading `time`. */
export function contextInstant(ctx: Pick<Context, 'time'>): number {
  const at = instants.get(ctx)
  if (at !== undefined) return at
  const t = Date.parse(ctx.time.iso)
  return Number.isNaN(t) ? Date.now() : t
}

/**
 * The full context: contextual parts plus what consent allows of the visitor state.
 * Without personalization consent the visitor, behavior and profile parts are left out, so no
 * rule can see them (SPEC 5). The contextual object itself becomes the context, its `geo` and
 * `time` still lazy (see {@link contextualContext}): a second object with accessors of its own
 * would cost more than the rest of this request's context together. Call it once per
 * contextual object.
 */
export function buildContext(contextual: ContextualContext, state: VisitorState): Context {
  const allowed = state.consent.personalization
  const ctx = contextual as Context
  ctx.consent = state.consent
  ctx.visitor = allowed ? state.visitor : undefined
  ctx.behavior = allowed ? state.behavior : undefined
  ctx.profile = allowed ? state.profile : undefined
  ctx.segments = []
  return ctx
}
