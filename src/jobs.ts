import { runBanditUpdates } from './bandit/update'
import type { Env } from './env'
import { consumeAggregateBatch } from './measure/aggregate'
import { checkGuardrails } from './measure/guardrails'
import './measure/kinds' // registers the aggregator's row kinds
import { runRetention } from './measure/retention'
import { scheduledRecsBuild } from './recs/build'
import { scheduledDiscovery } from './routes/segments'
import { logError, logWarn } from './util/log'

/** What a consumer uses of a `MessageBatch` (a part of a mixed batch is one of these). */
export type QueueBatch = Pick<MessageBatch<unknown>, 'queue' | 'messages' | 'ackAll' | 'retryAll'>

/** A consumer of one kind of queue message (a batch holds only that kind when it gets it). */
export type QueueConsumer = (batch: QueueBatch, env: Env, ctx: ExecutionContext) => Promise<void>

/** A job of the `scheduled` handler; it runs on every cron trigger and decides itself what is due. */
export type ScheduledJob = (controller: ScheduledController, env: Env, ctx: ExecutionContext) => Promise<unknown>

/**
 * Queue consumers by message kind: a message body's `kind` field, `measure` when it has none
 * (measurement messages, `{ v: 1, events }`, predate kinds). Add a kind with one line here.
 */
export const QUEUE_CONSUMERS: Readonly<Record<string, QueueConsumer>> = {
  measure: (batch, env) => consumeAggregateBatch(batch, env),
}

/** The 5-minute cron of wrangler.toml, for bandit weights (SPEC 14); the daily one does the rest too. */
export const BANDIT_CRON = '*/5 * * * *'

/** Scheduled jobs, all run on each cron trigger, independently. Add a job with one line here. */
export const SCHEDULED_JOBS: Readonly<Record<string, ScheduledJob>> = {
  // Retention on the daily cron only (not on the 5-minute bandit tick of wrangler.toml).
  retention: (controller, env, ctx) =>
    controller.cron === BANDIT_CRON ? Promise.resolve() : runRetention(env, controller.scheduledTime, (p) => ctx.waitUntil(p)),
  bandits: (controller, env, ctx) => runBanditUpdates(env, controller.scheduledTime, (p) => ctx.waitUntil(p)),
  recs: (controller, env) => scheduledRecsBuild(env, controller.scheduledTime), // at most hourly, whatever the crons
  guardrails: (controller, env) => checkGuardrails(env, { now: new Date(controller.scheduledTime) }),
  // Segment discovery (SPEC 15) on the daily cron: the latest result the dashboard and opportunities read.
  segments: (controller, env) =>
    controller.cron === BANDIT_CRON ? Promise.resolve() : scheduledDiscovery(env, controller.scheduledTime),
}

export const DEFAULT_QUEUE_KIND = 'measure'

function kindOf(body: unknown, consumers: Readonly<Record<string, QueueConsumer>>): string {
  if (typeof body === 'object' && body !== null && 'kind' in body && !('events' in body)) {
    const kind = (body as { kind: unknown }).kind
    // A single measurement event also has a `kind` (exposure, conversion…): only a kind with a
    // consumer of its own routes elsewhere.
    if (typeof kind === 'string' && Object.hasOwn(consumers, kind)) return kind
  }
  return DEFAULT_QUEUE_KIND
}

/** A batch of some of the messages of `batch`: acks and retries go to those messages only. */
function subBatch(batch: QueueBatch, messages: readonly Message<unknown>[]): QueueBatch {
  return {
    queue: batch.queue,
    messages,
    ackAll: () => {
      for (const m of messages) m.ack()
    },
    retryAll: (options?: QueueRetryOptions) => {
      for (const m of messages) m.retry(options)
    },
  }
}

/**
 * A `queue` handler over a table of consumers: each message goes to the consumer of its kind. A
 * batch of one kind (the usual case) is handed over as it is; a mixed batch is split, each part
 * acked or retried on its own. A consumer that throws has its part retried; the others are unaffected.
 */
export function queueDispatcher(
  consumers: Readonly<Record<string, QueueConsumer>>,
): (batch: QueueBatch, env: Env, ctx: ExecutionContext) => Promise<void> {
  return async function veneerQueue(batch, env, ctx) {
    const groups = new Map<string, Message<unknown>[]>()
    for (const m of batch.messages) {
      const kind = kindOf(m.body, consumers)
      const group = groups.get(kind)
      if (group === undefined) groups.set(kind, [m])
      else group.push(m)
    }
    await Promise.all(
      [...groups].map(async ([kind, messages]) => {
        const part = groups.size === 1 ? batch : subBatch(batch, messages)
        const consume = consumers[kind]
        if (consume === undefined) {
          logWarn('queue_kind_unknown', { kind: kind.slice(0, 40), messages: messages.length })
          part.ackAll()
          return
        }
        try {
          await consume(part, env, ctx)
        } catch (err) {
          logError('queue_consumer_failed', err, { kind, messages: messages.length })
          part.retryAll()
        }
      }),
    )
  }
}

/** A `scheduled` handler over a table of jobs: all run; one failing does not stop the others. */
export function scheduledRunner(
  jobs: Readonly<Record<string, ScheduledJob>>,
): (controller: ScheduledController, env: Env, ctx: ExecutionContext) => Promise<void> {
  return async function veneerScheduled(controller, env, ctx) {
    const names = Object.keys(jobs)
    const results = await Promise.allSettled(names.map(async (name) => jobs[name]?.(controller, env, ctx)))
    results.forEach((r, i) => {
      if (r.status === 'rejected') logError('scheduled_job_failed', r.reason, { job: names[i] })
    })
  }
}

/** The Worker's `queue` handler: `QUEUE_CONSUMERS` by message kind. */
export const veneerQueue = queueDispatcher(QUEUE_CONSUMERS)

/** The Worker's `scheduled` handler: every job in `SCHEDULED_JOBS`. */
export const veneerScheduled = scheduledRunner(SCHEDULED_JOBS)
