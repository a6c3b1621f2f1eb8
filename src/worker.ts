import { createApp } from './app'
import type { Env } from './env'
import { consumeAggregateBatch } from './measure/aggregate'
import './measure/kinds'
import { checkGuardrails } from './measure/guardrails'
import { runRetention } from './measure/retention'
import { scheduledRecsBuild } from './recs/build'

const app = createApp()

/**
 * The Worker entry: a thin shell around the app (SPEC 1), the `EVENTS` queue consumer that
 * writes measurement events to D1, and the cron that applies the retention period and rebuilds
 * the recommendations model.
 */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    await consumeAggregateBatch(batch, env)
  },
  async scheduled(controller, env, ctx) {
    await runRetention(env, controller.scheduledTime, (p) => ctx.waitUntil(p))
    await checkGuardrails(env, { now: new Date(controller.scheduledTime) })
    await scheduledRecsBuild(env, controller.scheduledTime) // at most hourly, whatever the crons
  },
} satisfies ExportedHandler<Env>
