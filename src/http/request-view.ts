/**
 * What Veneer reads of an incoming request, in a form both a `Request` and a {@link requestView}
 * satisfy: the page path passes the view, `explain` and the endpoints pass the request itself.
 */
export interface RequestLike {
  readonly url: string
  readonly method: string
  readonly headers: HeaderReader
  readonly cf?: Request['cf']
}

/** The reads Veneer makes of request headers. */
export interface HeaderReader {
  get(name: string): string | null
  has(name: string): boolean
}

/**
 * A request whose `url`, `method` and `headers` are read from the runtime once, and each header
 * once (names as Veneer asks for them: lower case). Every getter and every `Headers` call on a
 * `Request` crosses into the runtime (~1.5–2.5 µs each in workerd, docs/performance.md), and a
 * page view used to ask for the URL six times and the `Cookie` header three times. `cf` is passed
 * through on first read: the runtime parses that blob from JSON when it is first asked for.
 */
export function requestView(request: Request): RequestLike {
  const headers = request.headers
  const seen = new Map<string, string | null>()
  const get = (name: string): string | null => {
    let value = seen.get(name)
    if (value === undefined) {
      value = headers.get(name)
      seen.set(name, value)
    }
    return value
  }
  return {
    url: request.url,
    method: request.method,
    headers: { get, has: (name) => get(name) !== null },
    get cf() {
      return request.cf
    },
  }
}
