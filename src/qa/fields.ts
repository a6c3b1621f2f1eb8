/**
 * The attributes `x-veneer-context` may simulate (SPEC 6), each with the coercion of its raw
 * text: numbers for hours and counters, booleans for flags, validated codes and names.
 * Anything not listed here is ignored.
 */
export type QaValue = string | number | boolean
export type Coerce = (raw: string) => QaValue | undefined

const MAX_TEXT = 200

const text: Coerce = (raw) => (raw.length > 0 && raw.length <= MAX_TEXT ? raw : undefined)
const lower: Coerce = (raw) => (raw.length > 0 && raw.length <= MAX_TEXT ? raw.toLowerCase() : undefined)
const bool: Coerce = (raw) => (raw === 'true' ? true : raw === 'false' ? false : undefined)

function int(min: number, max: number): Coerce {
  return (raw) => {
    if (!/^-?\d{1,9}$/.test(raw)) return undefined
    const n = Number(raw)
    return n >= min && n <= max ? n : undefined
  }
}

function float(min: number, max: number): Coerce {
  return (raw) => {
    if (!/^-?\d{1,9}(\.\d{1,12})?$/.test(raw)) return undefined
    const n = Number(raw)
    return n >= min && n <= max ? n : undefined
  }
}

function oneOf(...values: string[]): Coerce {
  return (raw) => (values.includes(raw.toLowerCase()) ? raw.toLowerCase() : undefined)
}

/** true/false → boolean, a plain decimal → number, else the text: for claims of unknown type. */
const scalar: Coerce = (raw) => {
  const b = bool(raw)
  if (b !== undefined) return b
  if (/^-?\d{1,15}(\.\d{1,15})?$/.test(raw)) return Number(raw)
  return text(raw)
}

const timezone: Coerce = (raw) => {
  if (raw.length > 64) return undefined
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: raw }).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

const isoDate: Coerce = (raw) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) return undefined
  const d = new Date(`${raw}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(raw) ? raw : undefined
}

/** The host of an absolute URL, or undefined when it is not one. */
export function urlHost(raw: string): string | undefined {
  try {
    return new URL(raw).hostname || undefined
  } catch {
    return undefined
  }
}

const FIELDS: Readonly<Record<string, Coerce>> = {
  'geo.country': (raw) => (/^[A-Za-z]{2}$/.test(raw) ? raw.toUpperCase() : undefined),
  'geo.region': text,
  'geo.regionCode': text,
  'geo.city': text,
  'geo.continent': (raw) => (/^[A-Za-z]{2}$/.test(raw) ? raw.toUpperCase() : undefined),
  'geo.postalCode': text,
  'geo.timezone': timezone,
  'geo.isEU': bool,
  'geo.latitude': float(-90, 90),
  'geo.longitude': float(-180, 180),
  'device.type': oneOf('mobile', 'tablet', 'desktop', 'bot'),
  'device.os': lower,
  'device.browser': lower,
  'time.hour': int(0, 23),
  'time.minute': int(0, 59),
  'time.dayOfWeek': oneOf('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'),
  'time.date': isoDate,
  'request.language': (raw) => (/^[a-z]{1,8}(-[a-z0-9]{1,8})*$/i.test(raw) ? raw.toLowerCase() : undefined),
  'request.referrer': (raw) => (raw.length <= 1000 && urlHost(raw) !== undefined ? raw : undefined),
  'request.utm.source': text,
  'request.utm.medium': text,
  'request.utm.campaign': text,
  'request.utm.term': text,
  'request.utm.content': text,
  'behavior.pageViews': int(0, 1_000_000),
  'behavior.cartAdds': int(0, 1_000_000),
  'behavior.purchases': int(0, 1_000_000),
  'behavior.lastEvent': text,
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype'])

/** Attributes with a free last part: `request.query.<name>`, `behavior.views.<category>`, `profile.<claim>`. */
const PREFIXES: readonly [prefix: string, coerce: Coerce][] = [
  ['request.query.', text],
  ['behavior.views.', int(0, 1_000_000)],
  ['profile.', scalar],
]

/** The coercion for a simulated attribute, or undefined when it cannot be simulated. */
export function qaField(key: string): Coerce | undefined {
  if (Object.hasOwn(FIELDS, key)) return FIELDS[key]
  for (const [prefix, coerce] of PREFIXES) {
    if (!key.startsWith(prefix)) continue
    const name = key.slice(prefix.length)
    return NAME.test(name) && !FORBIDDEN_NAMES.has(name) ? coerce : undefined
  }
  return undefined
}

/** The coerced value of one simulated attribute, or undefined when key or value is invalid. */
export function coerceQaValue(key: string, raw: string): QaValue | undefined {
  return qaField(key)?.(raw)
}
