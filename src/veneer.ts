import { type AppOptions, createApp, type OriginHandler } from './app'
import type { Env } from './env'
import { veneerQueue, veneerScheduled } from './jobs'

export type { OriginHandler }

/** Options of `veneer()`: those of `createApp`, among them `origin` (a URL or a handler). */
export type VeneerOptions = AppOptions

/** A complete Worker: `export default veneer({ origin })` in a Worker's entry module. */
export interface VeneerWorker {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response>
  queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void>
  scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void>
}

/**
 * Veneer as a whole Worker (SPEC 1): its endpoints under `/__veneer/`, the personalize
 * middleware in front of the origin, the `EVENTS` queue consumer and the scheduled jobs.
 * Throws a TypeError at once for an origin that is not an http(s) URL or a function.
 *
 * @example
 * export default veneer({ origin: 'https://www.example.com' }) satisfies ExportedHandler<Env>
 */
export function veneer(options: VeneerOptions = {}): VeneerWorker {
  const { origin, ...rest } = options
  if (typeof origin === 'string') {
    let url: URL | undefined
    try {
      url = new URL(origin)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      throw new TypeError('veneer: origin must be an http(s) URL or a function')
  } else if (origin !== undefined && typeof origin !== 'function') {
    throw new TypeError('veneer: origin must be an http(s) URL or a function')
  }
  const app = createApp({ ...rest, origin })
  return {
    fetch: async (request, env, ctx) => app.fetch(request, env, ctx),
    queue: veneerQueue,
    scheduled: veneerScheduled,
  }
}
