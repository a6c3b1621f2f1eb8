/** `x-veneer` values (SPEC 6). */
export type VeneerState = 'personalized' | 'generic' | 'fallback' | 'holdout' | 'bypass'

/**
 * `Cache-Control` for a response meant for one visitor (SPEC 8): shared-cache directives
 * (`public`, `s-maxage`, `proxy-revalidate`) removed, `private` added, the rest kept.
 */
export function privateCacheControl(origin: string | null, extra: string[] = []): string {
  // A site sends a handful of Cache-Control values, and every page view with a cookie asks.
  const key = extra.length === 0 ? (origin ?? '') : undefined
  const known = key === undefined ? undefined : privateForms.get(key)
  if (known !== undefined) return known
  const out = privateForm(origin, extra)
  if (key !== undefined && key.length <= 200 && privateForms.size < 64) privateForms.set(key, out)
  return out
}

const privateForms = new Map<string, string>()

function privateForm(origin: string | null, extra: string[]): string {
  const kept = (origin ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !/^(public|private|s-maxage\s*=.*|proxy-revalidate)$/i.test(d))
  const out = ['private', ...kept.filter((d) => !extra.some((e) => e.toLowerCase() === d.toLowerCase())), ...extra]
  return out.join(', ')
}

export interface TimingEntry {
  name: string
  dur: number
  desc?: string
}

/** Appends `Server-Timing` entries (RFC: W3C Server Timing) to whatever the origin sent. */
export function appendServerTiming(headers: Headers, entries: TimingEntry[]): void {
  let value = ''
  for (const e of entries) {
    // Veneer's own tokens (states, sources, paths): nothing to strip, unless a quote slipped in.
    const d = e.desc
    const desc = d === undefined ? '' : `;desc="${d.includes('"') || d.includes('\\') ? d.replace(/["\\]/g, '') : d}"`
    value += `${value === '' ? '' : ', '}${e.name};dur=${Math.max(0, e.dur).toFixed(1)}${desc}`
  }
  headers.append('server-timing', value)
}

/** A response with the same status and body whose headers may be changed. */
export function withMutableHeaders(res: Response, body: ReadableStream | null = res.body): Response {
  // The response itself as the init: the runtime copies its status, status text and headers
  // into the new response's own (mutable) Headers. An init dictionary of the same three costs
  // ~8 µs more per page view in workerd (each member read through the API, docs/performance.md).
  return new Response(body, res)
}
