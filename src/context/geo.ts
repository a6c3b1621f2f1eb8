import type { GeoContext } from './types'

/** The 27 EU member states (ISO 3166-1 alpha-2). `EU` in `optInCountries` means these. */
export const EU_COUNTRIES: ReadonlySet<string> = new Set([
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
])

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number.parseFloat(v) : v
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

/** Geo attributes from `request.cf`, which may be absent (tests, local dev) or partial. */
export function geoFromCf(cf: unknown): GeoContext {
  if (typeof cf !== 'object' || cf === null) return {}
  const c = cf as Record<string, unknown>
  const country = str(c.country)?.toUpperCase()
  return {
    country,
    region: str(c.region),
    regionCode: str(c.regionCode),
    city: str(c.city),
    continent: str(c.continent),
    postalCode: str(c.postalCode),
    timezone: str(c.timezone),
    // cf.isEUCountry is "1" in production; derive it from the country when missing.
    isEU: c.isEUCountry === '1' || c.isEUCountry === true || (country !== undefined && EU_COUNTRIES.has(country)),
    latitude: num(c.latitude),
    longitude: num(c.longitude),
  }
}
