import { coerceQaValue } from './fields'

/** Headers longer than this are ignored as a whole; at most MAX_ENTRIES entries are read. */
export const MAX_QA_HEADER = 2000
export const MAX_ENTRIES = 50
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/

export interface Parsed {
  entries: Map<string, string>
  /** Entries that were not understood, for the trace (keys only, values may be anything). */
  ignored: string[]
}

function split(header: string | null | undefined, separator: string, what: string): { parts: string[]; ignored: string[] } {
  if (header === null || header === undefined || header.trim() === '') return { parts: [], ignored: [] }
  if (header.length > MAX_QA_HEADER) return { parts: [], ignored: [`${what}: longer than ${MAX_QA_HEADER} characters`] }
  const parts = header
    .split(separator)
    .map((p) => p.trim())
    .filter((p) => p !== '')
  const ignored = parts.length > MAX_ENTRIES ? [`${what}: entries after the first ${MAX_ENTRIES}`] : []
  return { parts: parts.slice(0, MAX_ENTRIES), ignored }
}

function keyValue(part: string): [string, string] | undefined {
  const eq = part.indexOf('=')
  if (eq <= 0) return undefined
  return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
}

/** Percent-decodes a value so non-ASCII text can travel in a header (`M%C3%BCnchen`). */
function decodeValue(raw: string): string {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

function label(key: string): string {
  return key.slice(0, 100).replace(/[^\x20-\x7e]/g, '?')
}

/**
 * `x-veneer-override: home-hero=evening, evening-copy=control`: placement or experiment id →
 * variant id. Entries that are not two ids are ignored.
 */
export function parseOverrides(header: string | null | undefined): Parsed {
  const { parts, ignored } = split(header, ',', 'x-veneer-override')
  const entries = new Map<string, string>()
  for (const part of parts) {
    const kv = keyValue(part)
    if (kv !== undefined && ID.test(kv[0]) && ID.test(kv[1])) entries.set(kv[0], kv[1])
    else ignored.push(`override ${label(kv?.[0] ?? part)}`)
  }
  return { entries, ignored }
}

/**
 * `x-veneer-context: geo.country=DE; device.type=mobile; time.hour=20`: simulated attributes.
 * Unknown attributes and values that do not fit the attribute are ignored.
 */
export function parseContext(header: string | null | undefined): Parsed {
  const { parts, ignored } = split(header, ';', 'x-veneer-context')
  const entries = new Map<string, string>()
  for (const part of parts) {
    const kv = keyValue(part)
    const value = kv === undefined ? '' : decodeValue(kv[1])
    if (kv !== undefined && coerceQaValue(kv[0], value) !== undefined) entries.set(kv[0], value)
    else ignored.push(`context ${label(kv?.[0] ?? part)}`)
  }
  return { entries, ignored }
}
