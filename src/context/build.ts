import { deviceFromHeaders } from './device'
import { geoFromCf } from './geo'
import { requestContext } from './request'
import { localTime } from './time'
import type { Context, ContextualContext, GeoContext, VisitorState } from './types'

/** The request's URL, parsed once per request, and its decoded path (`decodedPath`). */
export interface ParsedUrl {
  url: URL
  path: string
}

/**
 * Everything the request alone tells: geo, device, local time, request attributes. `parsed`:
 * the request's URL when the caller has parsed it already (the page path parses it once).
 *
 * `geo` and `time` are computed on first read: reading `request.cf` costs the runtime a JSON
 * parse and a deep freeze of the whole blob (about as much CPU as the rest of the decision,
 * docs/performance.md), and a page with no placement, or a ruleset that never looks at geo or
 * time, does not pay for it. They read, spread and serialise like plain properties.
 */
export function contextualContext(request: Request, at: Date = new Date(), parsed?: ParsedUrl): ContextualContext {
  if (Number.isNaN(at.getTime())) throw new RangeError('contextualContext: invalid request time')
  const url = parsed?.url ?? new URL(request.url)
  let geo: GeoContext | undefined
  const geoOf = () => {
    geo ??= geoFromCf((request as { cf?: unknown }).cf)
    return geo
  }
  // Built in the order the document lists them (serialisations keep it).
  const ctx = {} as ContextualContext
  lazyProperty(ctx, 'geo', geoOf)
  ctx.device = deviceFromHeaders(request.headers)
  lazyProperty(ctx, 'time', () => localTime(at, geoOf().timezone))
  ctx.request = requestContext(url, request.headers, parsed?.path)
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
 * Defines `key` on `obj` as an enumerable property computed by `compute` on first read (then
 * a plain data property). Writing it first skips the computation.
 */
function lazyProperty<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
    return value
  }
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get: () => settle(compute()),
    set: (value: T[K]) => void settle(value),
  })
}

/**
 * The full context: contextual parts plus what consent allows of the visitor state.
 * Without personalization consent the visitor, behavior and profile parts are left out, so no
 * rule can see them (SPEC 5). `geo` and `time` stay lazy (see {@link contextualContext}).
 */
export function buildContext(contextual: ContextualContext, state: VisitorState): Context {
  const allowed = state.consent.personalization
  const ctx = {} as Context
  lazyProperty(ctx, 'geo', () => contextual.geo)
  ctx.device = contextual.device
  lazyProperty(ctx, 'time', () => contextual.time)
  ctx.request = contextual.request
  ctx.consent = state.consent
  ctx.visitor = allowed ? state.visitor : undefined
  ctx.behavior = allowed ? state.behavior : undefined
  ctx.profile = allowed ? state.profile : undefined
  ctx.segments = []
  const at = instants.get(contextual)
  if (at !== undefined) instants.set(ctx, at)
  return ctx
}
