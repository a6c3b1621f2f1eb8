import { Hono } from 'hono'
import { banditWeightsFor } from '../bandit/store'
import type { Env } from '../env'
import { jsonError } from '../http/errors'
import { decideRequest } from '../pipeline/personalize'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'
import { logError } from '../util/log'
import { decodedPath } from '../util/path'

const PAGE_BUDGET_MS = 200
const NO_STORE = { 'cache-control': 'private, no-store' }

/**
 * `GET /__veneer/decisions?path=/products/jacket`: the variants this visitor gets on that page,
 * decided by the same code as the page request (their cookies, their context), for the page's
 * own script (`veneer.decisions()` in client.js), e.g. to tag its analytics. Nothing is counted,
 * recorded or set: it is not a page view. Placements not listed show `control`; a path outside
 * `settings.include` or inside `settings.exclude` lists none.
 */
export const decisions = new Hono<{ Bindings: Env }>().get('/decisions', async (c) => {
  const path = c.req.query('path') ?? '/'
  if (!path.startsWith('/') || path.startsWith('//') || path.length > 2000) {
    return jsonError(c, 400, 'invalid_path', 'path is the page path, starting with a single "/"', NO_STORE)
  }
  const empty = { path, rulesetVersion: null, placements: {}, experiments: {} }
  const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: PAGE_BUDGET_MS, waitUntil: backgroundRunner(c) })
  if (ruleset === undefined) return c.json(empty, 200, NO_STORE)
  try {
    const pageUrl = new URL(path, c.req.url)
    // A path the ruleset leaves alone (not included, or excluded) gets no variants on the page.
    const matched = decodedPath(pageUrl)
    if (!ruleset.included(matched) || ruleset.excluded(matched))
      return c.json({ ...empty, rulesetVersion: ruleset.version }, 200, NO_STORE)
    const page = new Request(pageUrl, {
      headers: c.req.raw.headers,
      cf: (c.req.raw as { cf?: unknown }).cf,
    } as RequestInit)
    const bandits = banditWeightsFor(ruleset, c.env.RULES, backgroundRunner(c))
    const decided = await decideRequest(ruleset, page, c.env, new Date(), undefined, bandits)
    if ('generic' in decided) return c.json({ ...empty, rulesetVersion: ruleset.version }, 200, NO_STORE)
    const placements: Record<string, string> = {}
    const experiments: Record<string, string> = {}
    for (const d of decided.decision.placements) {
      placements[d.placement] = d.variant
      if (d.reason.kind === 'experiment') experiments[d.reason.experiment] = d.variant
    }
    return c.json(
      { path, rulesetVersion: ruleset.version, holdout: decided.decision.holdout, placements, experiments },
      200,
      NO_STORE,
    )
  } catch (err) {
    logError('decisions_failed', err)
    return c.json({ ...empty, rulesetVersion: ruleset.version }, 200, NO_STORE)
  }
})
