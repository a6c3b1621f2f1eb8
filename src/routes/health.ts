import { Hono } from 'hono'
import type { Env } from '../env'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'

/** `GET /__veneer/health`: `{ ok, rulesetVersion }`. Loads the ruleset if this isolate is cold. */
export const health = new Hono<{ Bindings: Env }>().get('/health', async (c) => {
  const lookup = await getRuleset(c.env.RULES, {
    budgetMs: 1000,
    waitUntil: backgroundRunner(c),
  })
  return c.json({ ok: true, rulesetVersion: lookup.ruleset?.version ?? null, rulesetSource: lookup.source }, 200, {
    'cache-control': 'no-store',
  })
})
