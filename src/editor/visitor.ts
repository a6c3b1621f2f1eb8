import { COUNTRY_TZ } from '../admin/country-timezones'
import { coerceQaValue } from '../qa/fields'

/** The simulated visitor of the editor's preview: what the "Preview as" fields hold. */
export interface PreviewVisitor {
  country: string
  city: string
  device: string
  hour: string
}

export const NO_VISITOR: PreviewVisitor = { country: '', city: '', device: '', hour: '' }

/** Reads the preview fields from a query, keeping only values the QA context would accept. */
export function visitorFromQuery(q: (name: string) => string | undefined): PreviewVisitor {
  const keep = (key: string, raw: string | undefined) => {
    const v = (raw ?? '').trim()
    return v !== '' && !/[;=]/.test(v) && coerceQaValue(key, v) !== undefined ? v : ''
  }
  return {
    country: keep('geo.country', q('country')).toUpperCase(),
    city: keep('geo.city', q('city')),
    device: keep('device.type', q('device')).toLowerCase(),
    hour: keep('time.hour', q('hour')),
  }
}

/** The simulated attributes for the visitor (`x-veneer-context` entries, SPEC 6). */
export function visitorContext(v: PreviewVisitor): Map<string, string> {
  const out = new Map<string, string>()
  if (v.country !== '') out.set('geo.country', v.country)
  // As the dashboard's "preview as": the country's usual time zone, so "now" means now there.
  const tz = COUNTRY_TZ[v.country]
  if (tz !== undefined) out.set('geo.timezone', tz)
  if (v.city !== '') out.set('geo.city', v.city)
  if (v.device !== '') out.set('device.type', v.device)
  if (v.hour !== '') out.set('time.hour', v.hour)
  return out
}

/** The query string that carries the visitor (and the path) between the editor's pages. */
export function visitorQuery(path: string, v: PreviewVisitor, view?: string): string {
  const p = new URLSearchParams({ path })
  for (const [k, val] of Object.entries(v)) if (val !== '') p.set(k, val)
  if (view !== undefined) p.set('view', view)
  return p.toString()
}
