/**
 * Edge aggregation (SPEC 12): measurement is summed per isolate in memory and stored in batches,
 * so a page view costs no D1 statement and no queue message of its own.
 *
 * ## API
 *
 * - A **kind** is one sort of aggregated row (`stats`, `served`, `raw`; helpers add `cooc`,
 *   `sample`, …). It says how rows are keyed, merged, checked and stored; see {@link AggregateKind}.
 *   Register it once, at module load, with one line in `src/measure/kinds.ts`:
 *   `registerKind(coocKind)`. Producer and consumer are the same Worker, so both see it.
 * - {@link aggregate}`(env, waitUntil, kind, row)` adds one row (one event) to this isolate's
 *   buffer: rows with the same key merge in memory. The buffer is flushed in the background
 *   (`waitUntil`) at most {@link FLUSH_MAX_AGE_MS} after its first event or as soon as it holds
 *   {@link FLUSH_MAX_EVENTS} events, whichever comes first.
 * - A flush sends `{ v: 2, kind, rows }` messages to `EVENTS` when bound, else writes the rows
 *   straight to `DB` (one D1 batch). {@link flushAggregates} flushes now (tests, scripts).
 * - {@link consumeAggregateBatch} is the queue consumer: it merges every message of a batch by
 *   kind and key again, then writes one UPSERT per touched row in one D1 batch (a transaction:
 *   a failure retries the whole batch and leaves nothing behind). Unknown kinds and malformed
 *   rows are dropped and counted in the log. A kind's optional `afterStore` runs after a
 *   successful write (the `stats` kind checks guardrails there).
 *
 * Loss model: an isolate evicted with a non-empty buffer loses at most its last 10 s of
 * counts; Queues deliver at least once, so a redelivered message may count twice. Both are
 * rare and small next to the per-request writes this replaces (docs/measurement.md).
 */
import type { Env } from '../env'
import { logError, logWarn } from '../util/log'

/** How one sort of aggregated row is keyed, merged, checked and stored. */
export interface AggregateKind<Row> {
  /** The `kind` field of queue messages; letters, digits, `-`. */
  readonly kind: string
  /** Rows with equal keys are merged (summed) before they are stored. */
  key(row: Row): string
  /** `into` plus `row`, as a new or updated row (`into` is undefined for the first row of a key). */
  merge(into: Row | undefined, row: Row): Row
  /** A row from a queue message (untrusted JSON) back into a Row, or undefined when malformed. */
  parse(value: unknown): Row | undefined
  /** One statement that adds `row` to the store: an UPSERT that sums into the existing row. */
  upsert(db: D1Database, row: Row): D1PreparedStatement
  /** Optional: runs after the consumer stored a batch's rows of this kind (e.g. guardrail checks). Never fails the batch. */
  afterStore?(env: Env, rows: readonly Row[]): Promise<unknown>
}

/** A queue message of the aggregator. */
export interface AggregateMessage {
  v: 2
  kind: string
  rows: unknown[]
}

/** The buffer is flushed at most this long after its first event… */
/** A UTC day key, `YYYY-MM-DD`, as every per-day row of every kind carries. */
export const isDayKey = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)

/** A count a row may carry: a whole number from 1 to 10¹². */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1e12

/** `merge` for the kinds whose rows are a key and a `count`: counts add up. */
export function addCount<Row extends { count: number }>(into: Row | undefined, row: Row): Row {
  if (into === undefined) return { ...row }
  into.count += row.count
  return into
}

export const FLUSH_MAX_AGE_MS = 10_000
/** …or as soon as it holds this many events. */
export const FLUSH_MAX_EVENTS = 1_000
/** A message stays far below the 128 KB Queues limit; a batch send below its 256 KB. */
const MAX_MESSAGE_CHARS = 60_000
const MAX_MESSAGES_PER_SEND = 3
/** Rows kept for a retry after a failed flush; beyond this the oldest failure is dropped. */
const MAX_BUFFERED_ROWS = 50_000

// biome-ignore lint/suspicious/noExplicitAny: the registry holds kinds of every row type; each is used with its own rows only
type AnyKind = AggregateKind<any>
const registry = new Map<string, AnyKind>()

/** Registers a kind (once per isolate; registering the same name again replaces it). */
export function registerKind<Row>(kind: AggregateKind<Row>): void {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(kind.kind)) throw new TypeError(`invalid aggregate kind name "${kind.kind}"`)
  registry.set(kind.kind, kind)
}

/** The registered kind of that name, if any. */
export function kindOf(name: string): AnyKind | undefined {
  return registry.get(name)
}

/** Rows merged by key, per kind. */
type Buffer = Map<string, Map<string, unknown>>

interface State {
  buffer: Buffer
  events: number
  rows: number
  timerArmed: boolean
  maxAgeMs: number
  maxEvents: number
}

const state: State = {
  buffer: new Map(),
  events: 0,
  rows: 0,
  timerArmed: false,
  maxAgeMs: FLUSH_MAX_AGE_MS,
  maxEvents: FLUSH_MAX_EVENTS,
}

/** Tests only: a shorter flush delay or event threshold. `undefined` restores the defaults. */
export function setFlushPolicy(policy: { maxAgeMs?: number; maxEvents?: number } | undefined): void {
  state.maxAgeMs = policy?.maxAgeMs ?? FLUSH_MAX_AGE_MS
  state.maxEvents = policy?.maxEvents ?? FLUSH_MAX_EVENTS
  state.timerArmed = false // a timer armed under the old policy no longer counts
}

/** Events and distinct rows waiting in this isolate's buffer (tests, diagnostics). */
export function pendingAggregates(): { events: number; rows: number } {
  return { events: state.events, rows: state.rows }
}

function mergeInto(buffer: Buffer, kind: AnyKind, row: unknown): boolean {
  let rows = buffer.get(kind.kind)
  if (rows === undefined) {
    rows = new Map()
    buffer.set(kind.kind, rows)
  }
  const key = kind.key(row)
  const had = rows.get(key)
  rows.set(key, kind.merge(had, row))
  return had === undefined
}

/**
 * Adds one event's row to this isolate's buffer and schedules the background flush. Never
 * throws and never waits: the page view's only cost is a map update.
 *
 * @example
 * aggregate(env, waitUntil, statsKind, { day, experiment, arm, goal: '', segment: '*', visitors: 1, … })
 */
export function aggregate<Row>(env: Env, waitUntil: (p: Promise<unknown>) => void, kind: AggregateKind<Row>, row: Row): void {
  aggregateMany(env, waitUntil, kind, [row])
}

/** {@link aggregate} for the rows of one event (they count as one event). */
export function aggregateMany<Row>(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  kind: AggregateKind<Row>,
  rows: readonly Row[],
): void {
  aggregateEvent(env, waitUntil, [{ kind, rows }])
}

/** Rows of one kind, as part of one event. */
export interface KindRows<Row> {
  kind: AggregateKind<Row>
  rows: readonly Row[]
}

/**
 * Adds the rows of one event, of any kinds (a page view: served counters and statistics), and
 * schedules the flush; the event counts once towards {@link FLUSH_MAX_EVENTS}. Never throws.
 */
export function aggregateEvent(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  // biome-ignore lint/suspicious/noExplicitAny: each entry pairs a kind with its own rows
  parts: readonly KindRows<any>[],
): void {
  if (!parts.some((p) => p.rows.length > 0)) return
  try {
    if (!measurementBound(env)) return
    for (const { kind, rows } of parts) {
      if (rows.length === 0) continue
      if (!registry.has(kind.kind)) registerKind(kind)
      for (const row of rows) if (mergeInto(state.buffer, kind, row)) state.rows++
    }
    state.events++
    if (state.events >= state.maxEvents) {
      waitUntil(flushAggregates(env))
    } else if (!state.timerArmed) {
      state.timerArmed = true
      waitUntil(
        new Promise<void>((resolve) => setTimeout(resolve, state.maxAgeMs)).then(() => {
          state.timerArmed = false
          return flushAggregates(env)
        }),
      )
    }
  } catch (err) {
    logError('measure_aggregate_failed', err)
  }
}

/**
 * Whether anything could store measurement rows (`EVENTS` or `DB` bound); warns once per isolate
 * when not. Callers check it before building rows, so an unmeasured site pays nothing per view.
 */
export function measurementBound(env: Env): boolean {
  if (env.EVENTS !== undefined || env.DB !== undefined) return true
  warnUnbound()
  return false
}

let warnedUnbound = false
function warnUnbound(): void {
  if (warnedUnbound) return
  warnedUnbound = true
  logWarn('measure_disabled_no_db', { hint: 'bind a D1 database as DB (and optionally a queue as EVENTS) to record measurement' })
}

/** The buffered rows as queue messages, each under {@link MAX_MESSAGE_CHARS} of JSON. */
export function messagesOf(buffer: ReadonlyMap<string, ReadonlyMap<string, unknown>>): AggregateMessage[] {
  const out: AggregateMessage[] = []
  for (const [kind, rows] of buffer) {
    let current: AggregateMessage = { v: 2, kind, rows: [] }
    let size = 40
    for (const row of rows.values()) {
      const len = JSON.stringify(row).length + 1
      if (current.rows.length > 0 && size + len > MAX_MESSAGE_CHARS) {
        out.push(current)
        current = { v: 2, kind, rows: [] }
        size = 40
      }
      current.rows.push(row)
      size += len
    }
    if (current.rows.length > 0) out.push(current)
  }
  return out
}

/**
 * One UPSERT per row, all in one `db.batch`: a single transaction, so a failure leaves nothing
 * behind and a retry cannot count a row twice. Returns the number of statements.
 */
export async function writeRows(db: D1Database, buffer: ReadonlyMap<string, ReadonlyMap<string, unknown>>): Promise<number> {
  const statements: D1PreparedStatement[] = []
  for (const [name, rows] of buffer) {
    const kind = registry.get(name)
    if (kind === undefined) continue
    for (const row of rows.values()) statements.push(kind.upsert(db, row))
  }
  if (statements.length > 0) await db.batch(statements)
  return statements.length
}

async function sendMessages(queue: Queue<unknown>, messages: readonly AggregateMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MAX_MESSAGES_PER_SEND) {
    const group = messages.slice(i, i + MAX_MESSAGES_PER_SEND)
    const [only] = group
    if (group.length === 1 && only !== undefined) await queue.send(only)
    else await queue.sendBatch(group.map((body) => ({ body })))
  }
}

/**
 * Flushes this isolate's buffer now: to `EVENTS` when bound, else to `DB`. On failure the rows
 * go back into the buffer for the next flush (bounded), and the failure is logged. Never rejects.
 */
export async function flushAggregates(env: Env): Promise<void> {
  if (state.events === 0) return
  const taken = state.buffer
  state.buffer = new Map()
  state.events = 0
  state.rows = 0
  try {
    const queue = env.EVENTS
    if (queue !== undefined) await sendMessages(queue, messagesOf(taken))
    else if (env.DB !== undefined) await writeRows(env.DB, taken)
  } catch (err) {
    logError('measure_flush_failed', err, { queued: env.EVENTS !== undefined })
    restore(taken)
  }
}

/** Puts rows of a failed flush back (merged with what arrived since), up to the bound. */
function restore(taken: Buffer): void {
  for (const [name, rows] of taken) {
    const kind = registry.get(name)
    if (kind === undefined) continue
    for (const row of rows.values()) {
      if (state.rows >= MAX_BUFFERED_ROWS) {
        logWarn('measure_flush_dropped', { kind: name })
        return
      }
      if (mergeInto(state.buffer, kind, row)) state.rows++
    }
  }
  state.events = Math.max(state.events, 1)
}

/** Merges the rows of queue message bodies by kind and key; counts what could not be read. */
export function mergeMessages(bodies: readonly unknown[]): { buffer: Buffer; malformed: number; legacy: number } {
  const buffer: Buffer = new Map()
  let malformed = 0
  let legacy = 0
  for (const body of bodies) {
    if (typeof body !== 'object' || body === null) {
      malformed++
      continue
    }
    const b = body as Record<string, unknown>
    if (b.v !== 2) {
      // Messages of the per-event format (v1) sent before this version was deployed: they
      // carry no cookie-deduplicated counts, so they cannot be added exactly. Dropped, counted.
      legacy++
      continue
    }
    const kind = typeof b.kind === 'string' ? registry.get(b.kind) : undefined
    if (kind === undefined || !Array.isArray(b.rows)) {
      malformed++
      continue
    }
    for (const raw of b.rows) {
      const row = kind.parse(raw)
      if (row === undefined) malformed++
      else mergeInto(buffer, kind, row)
    }
  }
  return { buffer, malformed, legacy }
}

/**
 * The `queue` handler for aggregated measurement: one UPSERT per touched row for the whole
 * batch, in one D1 batch (a transaction), then ack; a D1 failure retries the batch.
 */
export async function consumeAggregateBatch(
  batch: Pick<MessageBatch<unknown>, 'messages' | 'ackAll' | 'retryAll'>,
  env: Env,
): Promise<void> {
  const { buffer, malformed, legacy } = mergeMessages(batch.messages.map((m) => m.body))
  if (malformed > 0 || legacy > 0) logWarn('measure_queue_malformed', { malformed, legacy, messages: batch.messages.length })
  if (env.DB === undefined) {
    logWarn('measure_queue_no_db', { messages: batch.messages.length })
    batch.ackAll()
    return
  }
  try {
    await writeRows(env.DB, buffer)
    batch.ackAll()
  } catch (err) {
    logError('measure_queue_write_failed', err, { messages: batch.messages.length })
    batch.retryAll()
    return
  }
  for (const [name, rows] of buffer) {
    const kind = registry.get(name)
    if (kind?.afterStore === undefined) continue
    try {
      await kind.afterStore(env, [...rows.values()])
    } catch (err) {
      logError('measure_after_store_failed', err, { kind: name })
    }
  }
}
