import { createApp } from './app'
import { runBanditUpdates } from './bandit/update'
import type { Env } from './env'
import { consumeAggregateBatch } from './measure/aggregate'
import './measure/kinds'
import { checkGuardrails } from './measure/guardrails'
import { runRetention } from './measure/retention'

const app = createApp()
/** The 5-minute cron of wrangler.toml that only updates bandit weights. */
const BANDIT_CRON = '*/5 * * * *'

/**
 * The Worker entry: a thin shell around the app (SPEC 1), the `EVENTS` queue consumer that
 * writes measurement events to D1, and the crons: retention daily, bandit weights every 5 minutes.
 */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    await consumeAggregateBatch(batch, env)
  },
  async scheduled(controller, env, ctx) {
    const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p)
    // Retention and guardrails on the daily cron; bandit weights (SPEC 14) on every tick (5 minutes).
    if (controller.cron !== BANDIT_CRON) {
      await runRetention(env, controller.scheduledTime, waitUntil)
      await checkGuardrails(env, { now: new Date(controller.scheduledTime) })
    }
    await runBanditUpdates(env, controller.scheduledTime, waitUntil)
  },
} satisfies ExportedHandler<Env>
