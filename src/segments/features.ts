import { attributeKeys } from '../rules/conditions'

/**
 * What a sample column means for a condition. Columns are named after the context attribute
 * they measure, so a description of a cluster can be written as a Veneer condition (SPEC 4.2):
 *
 * - `behavior.pageViews`, `visitor.sessions`, `profile.ltv`, … (any valid attribute path):
 *   a number, described by thresholds on that attribute;
 * - `device.type=mobile`, `geo.continent=EU`: a one-hot 0/1 column, described by equality;
 * - `visitor.daysSinceFirstSeen`: whole UTC days, described through `visitor.firstSeen` (an ISO
 *   date-time) compared with a date computed from `asOf`, the day the sample was taken;
 * - anything else: clustered on, but not usable in a description (reported as such).
 */
export type FeatureKind =
  | { kind: 'number'; attribute: string }
  | { kind: 'oneHot'; attribute: string; value: string }
  | { kind: 'daysSince'; attribute: 'visitor.firstSeen' }
  | { kind: 'opaque' }

export interface Feature {
  name: string
  spec: FeatureKind
}

export const DAYS_SINCE_FIRST_SEEN = 'visitor.daysSinceFirstSeen'

/** Reads a column name; see FeatureKind. */
export function featureOf(name: string): Feature {
  if (name === DAYS_SINCE_FIRST_SEEN) return { name, spec: { kind: 'daysSince', attribute: 'visitor.firstSeen' } }
  const eq = name.indexOf('=')
  if (eq > 0) {
    const attribute = name.slice(0, eq)
    const value = name.slice(eq + 1)
    if (value !== '' && attributeKeys(attribute) !== undefined) return { name, spec: { kind: 'oneHot', attribute, value } }
    return { name, spec: { kind: 'opaque' } }
  }
  // `segments` holds ids, never a number; `visitor.id` must never appear in a condition.
  if (attributeKeys(name) !== undefined && name !== 'segments' && name !== 'visitor.id')
    return { name, spec: { kind: 'number', attribute: name } }
  return { name, spec: { kind: 'opaque' } }
}

/** A parsed sample: feature names and one numeric row per visitor (no ids). */
export interface Sample {
  features: Feature[]
  rows: number[][]
}

export class SampleError extends Error {
  override name = 'SampleError'
}

/** Bounds on what `discover` accepts, so a request or a CLI run stays bounded. */
export const MAX_SAMPLE_ROWS = 100_000
export const MAX_FEATURES = 64

function splitCsvLine(line: string): string[] {
  // The sample format is numeric: quotes are accepted around a field but never hold a comma.
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'))
}

/**
 * Parses the SPEC 15 CSV: a header, a `visitor` column (ignored) then numeric feature columns.
 * Blank lines are skipped; any other malformed line is an error naming its line number.
 */
export function parseSampleCsv(text: string): Sample {
  const lines = text.split(/\r?\n/)
  let i = 0
  while (i < lines.length && (lines[i] ?? '').trim() === '') i++
  const header = lines[i]
  if (header === undefined) throw new SampleError('the sample is empty: expected a header line')
  const names = splitCsvLine(header)
  const visitorCol = names.indexOf('visitor')
  if (visitorCol !== 0) throw new SampleError('the first column must be "visitor" (it is ignored)')
  const featureNames = names.slice(1)
  if (featureNames.length === 0) throw new SampleError('the sample has no feature columns after "visitor"')
  if (featureNames.length > MAX_FEATURES) throw new SampleError(`at most ${MAX_FEATURES} feature columns`)
  const seen = new Set<string>()
  for (const n of featureNames) {
    if (n === '') throw new SampleError('a column has an empty name')
    if (seen.has(n)) throw new SampleError(`column "${n}" appears twice`)
    seen.add(n)
  }
  const features = featureNames.map(featureOf)
  const rows: number[][] = []
  for (let ln = i + 1; ln < lines.length; ln++) {
    const line = lines[ln] ?? ''
    if (line.trim() === '') continue
    const fields = splitCsvLine(line)
    if (fields.length !== names.length)
      throw new SampleError(`line ${ln + 1}: ${fields.length} fields, the header has ${names.length}`)
    const row: number[] = []
    for (let c = 1; c < fields.length; c++) {
      const raw = fields[c] ?? ''
      const v = raw === '' ? Number.NaN : Number(raw)
      if (!Number.isFinite(v))
        throw new SampleError(`line ${ln + 1}, column "${names[c]}": "${raw.slice(0, 40)}" is not a number`)
      row.push(v)
    }
    rows.push(row)
    if (rows.length > MAX_SAMPLE_ROWS) throw new SampleError(`more than ${MAX_SAMPLE_ROWS} rows: sample them first`)
  }
  return { features, rows }
}

const DAY_MS = 86_400_000

/** The UTC date `days` whole days before `asOf` (ms), as `YYYY-MM-DD`. */
export function dayBefore(asOf: number, days: number): string {
  const midnight = Math.floor(asOf / DAY_MS) * DAY_MS
  return new Date(midnight - days * DAY_MS).toISOString().slice(0, 10)
}

// The last few dates formatted: a sample has few distinct (asOf, days) pairs.
const dayCache = new Map<string, string>()
function cachedDayBefore(asOf: number, days: number): string {
  const key = `${Math.floor(asOf / DAY_MS)}:${days}`
  let s = dayCache.get(key)
  if (s === undefined) {
    if (dayCache.size > 4096) dayCache.clear()
    s = `${dayBefore(asOf, days)}T00:00:00.000Z`
    dayCache.set(key, s)
  }
  return s
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let cur = target
  for (let k = 0; k < keys.length - 1; k++) {
    const key = keys[k] as string
    const next = cur[key]
    if (typeof next === 'object' && next !== null) cur = next as Record<string, unknown>
    else {
      const fresh: Record<string, unknown> = {}
      cur[key] = fresh
      cur = fresh
    }
  }
  cur[keys[keys.length - 1] as string] = value
}

/**
 * The context attributes a sample row stands for, so a condition can be checked with Veneer's own
 * evaluator: numbers at their path, the one-hot column that is 1 as the attribute's value, and
 * `visitor.firstSeen` as the ISO time at UTC midnight `days` days before `asOf`.
 */
export function rowContext(features: readonly Feature[], row: readonly number[], asOf: number): Record<string, unknown> {
  const ctx: Record<string, unknown> = {}
  features.forEach((f, j) => {
    const v = row[j] as number
    switch (f.spec.kind) {
      case 'number':
        setPath(ctx, f.spec.attribute, v)
        break
      case 'oneHot':
        if (v >= 0.5) setPath(ctx, f.spec.attribute, f.spec.value)
        break
      case 'daysSince':
        setPath(ctx, f.spec.attribute, cachedDayBefore(asOf, Math.floor(v)))
        break
      case 'opaque':
        break
    }
  })
  return ctx
}
