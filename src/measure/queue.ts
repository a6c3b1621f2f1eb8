import type { Env } from '../env'
import { logError, logWarn } from '../util/log'
import { writeEvents } from './store'
import type { MeasureEvent, ServedSource } from './types'

const SOURCES: ReadonlySet<string> = new Set<ServedSource>(['rule', 'default', 'experiment', 'experiment-skipped', 'holdout'])
/**
 * Events per queue message. One page view is one message (Queues bill per message), and a
 * message stays far below the 128 KB limit (an event is ~250 bytes).
 */
const EVENTS_PER_MESSAGE = 100

/** A queue message: the events of one page view or visitor event, in order. */
export interface MeasureMessage {
  v: 1
  events: MeasureEvent[]
}

const isText = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0
const isSource = (v: unknown): v is ServedSource => typeof v === 'string' && SOURCES.has(v)

/** A queue message body back into a MeasureEvent, or undefined when it is not one. */
export function parseMeasureEvent(body: unknown): MeasureEvent | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const b = body as Record<string, unknown>
  if (!isTime(b.at)) return undefined
  switch (b.kind) {
    case 'exposure':
      if (isText(b.visitor) && isText(b.experiment) && isText(b.variant) && isText(b.placement)) {
        return {
          kind: 'exposure',
          visitor: b.visitor,
          experiment: b.experiment,
          variant: b.variant,
          placement: b.placement,
          at: b.at,
        }
      }
      return undefined
    case 'conversion': {
      if (!isText(b.visitor) || !isText(b.goal)) return undefined
      const value = typeof b.value === 'number' && Number.isFinite(b.value) ? b.value : undefined
      return value === undefined
        ? { kind: 'conversion', visitor: b.visitor, goal: b.goal, at: b.at }
        : { kind: 'conversion', visitor: b.visitor, goal: b.goal, at: b.at, value }
    }
    case 'served': {
      if (!isText(b.placement) || !isText(b.variant) || !isSource(b.source)) return undefined
      const count = typeof b.count === 'number' && Number.isInteger(b.count) && b.count > 0 ? b.count : 1
      return { kind: 'served', placement: b.placement, variant: b.variant, source: b.source, at: b.at, count }
    }
    default:
      return undefined
  }
}

/** Sends events to the `EVENTS` queue: one message for up to 100 events, in one `sendBatch`. */
export async function sendEvents(queue: Queue<unknown>, events: readonly MeasureEvent[]): Promise<void> {
  const messages: { body: MeasureMessage }[] = []
  for (let i = 0; i < events.length; i += EVENTS_PER_MESSAGE)
    messages.push({ body: { v: 1, events: events.slice(i, i + EVENTS_PER_MESSAGE) } })
  const [only, ...more] = messages
  if (only === undefined) return
  if (more.length === 0) await queue.send(only.body)
  else await queue.sendBatch(messages)
}

/** The events in a message body: a `MeasureMessage`, or a single event; malformed ones counted. */
export function eventsOfMessage(body: unknown): { events: MeasureEvent[]; malformed: number } {
  if (typeof body === 'object' && body !== null && 'events' in body) {
    const list = (body as { events: unknown }).events
    if (!Array.isArray(list)) return { events: [], malformed: 1 }
    const events = list.map(parseMeasureEvent).filter((e): e is MeasureEvent => e !== undefined)
    return { events, malformed: list.length - events.length }
  }
  const e = parseMeasureEvent(body)
  return e === undefined ? { events: [], malformed: 1 } : { events: [e], malformed: 0 }
}

/**
 * The `queue` handler: writes a batch of measurement messages to D1 in one transaction (sorted
 * by time, see `inWriteOrder`) and acks it. Malformed events are dropped (acked, counted in the log); a D1 failure retries the whole
 * batch, which is safe because the transaction left nothing behind.
 */
export async function consumeMeasureBatch(
  batch: Pick<MessageBatch<unknown>, 'messages' | 'ackAll' | 'retryAll'>,
  env: Env,
): Promise<void> {
  const events: MeasureEvent[] = []
  let malformed = 0
  for (const m of batch.messages) {
    const got = eventsOfMessage(m.body)
    events.push(...got.events)
    malformed += got.malformed
  }
  if (malformed > 0) logWarn('measure_queue_malformed', { malformed, messages: batch.messages.length })
  if (env.DB === undefined) {
    logWarn('measure_queue_no_db', { messages: batch.messages.length })
    batch.ackAll()
    return
  }
  try {
    await writeEvents(env.DB, events)
    batch.ackAll()
  } catch (err) {
    logError('measure_queue_write_failed', err, { messages: batch.messages.length })
    batch.retryAll()
  }
}
