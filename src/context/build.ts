import { deviceFromHeaders } from './device'
import { geoFromCf } from './geo'
import { requestContext } from './request'
import { localTime } from './time'
import type { Context, ContextualContext, GeoContext, TimeContext, VisitorState } from './types'

/** The request's URL, parsed once per request, and its decoded path (`decodedPath`). */
export interface ParsedUrl {
  url: URL
  path: string
}

/**
 * Everything the request alone tells: geo, device, local time, request attributes. `parsed`:
 * the request's URL when the caller has parsed it already (the page path parses it once).
 *
 * `geo` and `time` are computed on first read: the first read of `request.cf` makes the runtime
 * parse the whole blob from JSON and deep-freeze it, and local time needs `Intl`; a page with no
 * placement, or a ruleset that never looks at geo or time, does neither. They read, spread and
 * serialise like plain properties.
 */
export function contextualContext(request: Request, at: Date = new Date(), parsed?: ParsedUrl): ContextualContext {
  if (Number.isNaN(at.getTime())) throw new RangeError('contextualContext: invalid request time')
  const url = parsed?.url ?? new URL(request.url)
  let geo: GeoContext | undefined
  let time: TimeContext | undefined
  const geoOf = () => {
    geo ??= geoFromCf((request as { cf?: unknown }).cf)
    return geo
  }
  // Accessors in the literal (not defineProperty): the object keeps a fast shape. In the order
  // the document lists the parts, which serialisations keep.
  const ctx: ContextualContext = {
    get geo() {
      return geoOf()
    },
    set geo(value) {
      geo = value
    },
    device: deviceFromHeaders(request.headers),
    get time() {
      time ??= localTime(at, geoOf().timezone)
      return time
    },
    set time(value) {
      time = value
    },
    request: requestContext(url, request.headers, parsed?.path),
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
 * rule can see them (SPEC 5). `geo` and `time` stay lazy (see {@link contextualContext}).
 */
export function buildContext(contextual: ContextualContext, state: VisitorState): Context {
  const allowed = state.consent.personalization
  let geo: GeoContext | undefined
  let time: TimeContext | undefined
  const ctx: Context = {
    get geo() {
      geo ??= contextual.geo
      return geo
    },
    set geo(value) {
      geo = value
    },
    device: contextual.device,
    get time() {
      time ??= contextual.time
      return time
    },
    set time(value) {
      time = value
    },
    request: contextual.request,
    consent: state.consent,
    visitor: allowed ? state.visitor : undefined,
    behavior: allowed ? state.behavior : undefined,
    profile: allowed ? state.profile : undefined,
    segments: [],
  }
  const at = instants.get(contextual)
  if (at !== undefined) instants.set(ctx, at)
  return ctx
}
