import { forgetRuleset, MAX_RULESET_CHARS, RULESET_KEY } from '../rules/store'

/** KV key of one published version's document (SPEC 3). */
export const versionKey = (version: string): string => `ruleset:v:${version}`
/** KV key of the small history index the admin API keeps (newest first). */
export const VERSIONS_KEY = 'ruleset:versions'
/** The index keeps this many entries; older documents stay in KV under their own key. */
export const MAX_INDEX_ENTRIES = 200

/** One entry of the `ruleset:versions` index. */
export interface VersionEntry {
  version: string
  /** ISO time of the publish. */
  publishedAt: string
  /** Bytes of the stored document. */
  size: number
  note?: string
  /** ISO time this version last became active again through a rollback. */
  activatedAt?: string
}

/** Minimal KV surface used here, so the CLI can back it with `wrangler kv` too. */
export interface TextStore {
  get(key: string): Promise<string | null>
  put(key: string, value: string): Promise<void>
}

/** Wraps a Workers KV binding as a `TextStore`. */
export function kvStore(kv: KVNamespace): TextStore {
  return { get: (key) => kv.get(key, 'text'), put: (key, value) => kv.put(key, value) }
}

function isEntry(v: unknown): v is VersionEntry {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  return typeof e.version === 'string' && typeof e.publishedAt === 'string' && typeof e.size === 'number'
}

/** Parses the stored index; anything malformed is dropped rather than trusted. */
export function parseIndex(text: string | null): VersionEntry[] {
  if (text === null) return []
  try {
    const v: unknown = JSON.parse(text)
    return Array.isArray(v) ? v.filter(isEntry) : []
  } catch {
    return []
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/**
 * The next version id: `v<n>-<UTC timestamp>`, with `n` one more than the highest in the index,
 * so ids sort by publish order and never repeat. Example: `v3-20261122T084512Z`.
 */
export function nextVersion(index: readonly VersionEntry[], at: Date): string {
  let n = 0
  for (const e of index) {
    const m = /^v(\d+)-/.exec(e.version)
    if (m !== null) n = Math.max(n, Number(m[1]))
  }
  const ts = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}T${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}Z`
  return `v${n + 1}-${ts}`
}

/**
 * The document text stored for a version: the author's JSON with `version` set to the id, compact.
 * (Pretty-printing a deeply indented document multiplied its size: 0.9 MB became 6.8 MB, past what
 * the Worker loads. `GET /__veneer/api/ruleset` and the CLI show it as stored; format it to read.)
 */
export function stampVersion(doc: Record<string, unknown>, version: string): string {
  return JSON.stringify({ ...doc, version })
}

/** Publishing a document the Worker would refuse to load; nothing was written. */
export class RulesetTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly max: number,
  ) {
    super(`the stored ruleset would be ${bytes} bytes, over the ${max} bytes the Worker loads`)
    this.name = 'RulesetTooLargeError'
  }
}

export interface PublishOutcome {
  version: string
  previous?: string
  entry: VersionEntry
}

/**
 * Publishes a validated document (SPEC 7): writes `ruleset:v:<version>` first, then `ruleset`,
 * then the index, so the active key never names a version whose document is missing. A document
 * whose stored text is over the Worker's load cap throws {@link RulesetTooLargeError} first.
 * The index is read-modify-write: two publishes in the same second may lose an index entry
 * (never a document); KV allows one write per second per key anyway.
 */
export async function publishDocument(
  store: TextStore,
  doc: Record<string, unknown>,
  options: { note?: string; at?: Date } = {},
): Promise<PublishOutcome> {
  const at = options.at ?? new Date()
  const index = parseIndex(await store.get(VERSIONS_KEY))
  const previousText = await store.get(RULESET_KEY)
  const previous = activeVersionOf(previousText)
  if (
    previous !== undefined &&
    previousText !== null &&
    !index.some((e) => e.version === previous) &&
    (await store.get(versionKey(previous))) !== null
  ) {
    // Published outside the API (e.g. `npm run seed`): list it, so it can be rolled back to.
    index.unshift({
      version: previous,
      publishedAt: '',
      size: new TextEncoder().encode(previousText).length,
      note: 'published outside the admin API',
    })
  }
  const version = nextVersion(index, at)
  const text = stampVersion(doc, version)
  // Measured in bytes as stored, against the cap the Worker applies when it loads the document
  // (bytes ≥ UTF-16 units, so whatever passes here also passes there).
  const bytes = new TextEncoder().encode(text).length
  if (bytes > MAX_RULESET_CHARS) throw new RulesetTooLargeError(bytes, MAX_RULESET_CHARS)
  await store.put(versionKey(version), text)
  await store.put(RULESET_KEY, text)
  const entry: VersionEntry = { version, publishedAt: at.toISOString(), size: bytes }
  if (options.note !== undefined && options.note !== '') entry.note = options.note.slice(0, 500)
  await store.put(VERSIONS_KEY, JSON.stringify([entry, ...index].slice(0, MAX_INDEX_ENTRIES)))
  return { version, previous, entry }
}

/**
 * Publishes `doc` from a Worker route (admin API, dashboard, editor): {@link publishDocument},
 * then this isolate serves the new version from its next request. A document over the load cap
 * is answered `{ tooLarge }` (every route shows it as a 413), never thrown.
 */
export async function publishFromWorker(
  kv: KVNamespace,
  doc: Record<string, unknown>,
  note: string | undefined,
): Promise<PublishOutcome | { tooLarge: string }> {
  let out: PublishOutcome
  try {
    out = await publishDocument(kvStore(kv), doc, { note })
  } catch (err) {
    if (err instanceof RulesetTooLargeError) return { tooLarge: err.message }
    throw err
  }
  forgetRuleset(kv)
  return out
}

export type RollbackOutcome = { ok: true; version: string; previous?: string } | { ok: false; reason: 'not_found' }

/** Makes a stored version active again: copies `ruleset:v:<version>` to `ruleset`. */
export async function rollbackTo(store: TextStore, version: string, at: Date = new Date()): Promise<RollbackOutcome> {
  const text = await store.get(versionKey(version))
  if (text === null) return { ok: false, reason: 'not_found' }
  const previous = activeVersionOf(await store.get(RULESET_KEY))
  await store.put(RULESET_KEY, text)
  const index = parseIndex(await store.get(VERSIONS_KEY))
  const entry = index.find((e) => e.version === version)
  if (entry !== undefined) {
    entry.activatedAt = at.toISOString()
    await store.put(VERSIONS_KEY, JSON.stringify(index))
  }
  return { ok: true, version, previous }
}

/** The `version` field of a stored document, or undefined when it has none or is not JSON. */
export function activeVersionOf(text: string | null): string | undefined {
  if (text === null) return undefined
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v === 'object' && v !== null && 'version' in v) {
      const version = (v as { version: unknown }).version
      if (typeof version === 'string' || typeof version === 'number') return String(version)
    }
  } catch {
    // not JSON: no version
  }
  return undefined
}

/** The history for the API and dashboard: the index (newest first) and the active version. */
export async function listVersions(store: TextStore): Promise<{ active?: string; versions: VersionEntry[] }> {
  const [index, active] = await Promise.all([
    store.get(VERSIONS_KEY).then(parseIndex),
    store.get(RULESET_KEY).then(activeVersionOf),
  ])
  return { active, versions: index }
}
