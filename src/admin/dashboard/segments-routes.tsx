/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { limitBody } from '../../http/body'
import { EXPERIMENT_ID } from '../../http/params'
import { Hono } from 'hono'
import type { Env } from '../../env'
import {
  DEFAULT_DAYS,
  type DiscoverOutcome,
  discoverFromDb,
  opportunitiesFromDb,
  parseDays,
  parseWhenParams,
  proposedFromLatest,
} from '../../routes/segments'
import { readLatestDiscovery, writeLatestDiscovery } from '../../segments/latest'
import { backgroundRunner } from '../../util/background'
import { readActiveRuleset } from '../active'
import { validateText } from '../validate'
import { LoginPage } from './layout'
import { dashboardGuard, field, guardPost, render, sessionOf } from './routes'
import { OpportunitiesPage, SegmentsPage } from './segments'

/**
 * The dashboard's segment discovery views (SPEC 15), mounted at `/__veneer/admin` next to the
 * main dashboard: `GET segments` (the latest discovery stored by the daily job or an earlier
 * "recompute now", with its time; `?fresh=1`, another k or other days compute one, bounded as
 * in the API, and a k = auto result becomes the latest), `POST segments/add` (one
 * discovered segment into a draft: the active ruleset plus that segment, validated, shown in the
 * Publish form and not published), `GET opportunities/:experimentId`.
 */
export const segmentsDashboard = new Hono<{ Bindings: Env }>()
  .use('/segments', dashboardGuard)
  .use('/segments/*', dashboardGuard)
  .use('/opportunities/*', dashboardGuard)
  .get('/segments', async function segmentsView(c) {
    const session = await sessionOf(c)
    if (session === undefined) return c.html(<LoginPage />, 401)
    const kRaw = c.req.query('k') ?? 'auto'
    const k = /^\d{1,2}$/.test(kRaw) && Number(kRaw) >= 1 ? Number(kRaw) : 'auto'
    const days = parseDays(c.req.query('days')) ?? DEFAULT_DAYS
    const kv = c.env.RULES
    const fresh = c.req.query('fresh') === '1' || k !== 'auto' || days !== DEFAULT_DAYS
    const [latest, active] = await Promise.all([
      fresh ? undefined : readLatestDiscovery(kv),
      kv === undefined ? undefined : readActiveRuleset(kv),
    ])
    let outcome: DiscoverOutcome
    let computedAt: string
    if (latest !== undefined) {
      outcome = { ok: true, result: latest.result }
      computedAt = latest.at
    } else {
      const now = Date.now()
      outcome = await discoverFromDb(c.env.DB, { k, days, assign: false, now })
      computedAt = new Date(now).toISOString()
      if (outcome.ok && k === 'auto') backgroundRunner(c)(writeLatestDiscovery(c.env, days, outcome.result, now))
    }
    const experiments =
      active?.ok === true
        ? active.ruleset.placements.flatMap((p) => p.rules.flatMap((r) => (r.experiment === undefined ? [] : [r.experiment.id])))
        : []
    c.header('cache-control', 'no-store')
    return c.html(
      <SegmentsPage
        csrf={session.csrf}
        outcome={outcome}
        experiments={experiments}
        computed={{ at: computedAt, stored: latest !== undefined, days: latest?.days ?? days }}
      />,
    )
  })
  .post(
    '/segments/add',
    limitBody(64 * 1024, (c) => c.text('too large', 413)),
    async function addSegment(c) {
      const guard = await guardPost(c)
      if (guard instanceof Response) return guard
      const { session, form } = guard
      const id = field(form, 'id', 200).trim()
      const description = field(form, 'description', 1000)
      let when: unknown
      try {
        when = JSON.parse(field(form, 'when', 32 * 1024))
      } catch {
        return render(c, session, { flash: { kind: 'error', text: 'The proposed condition is not valid JSON.' } }, 400)
      }
      const kv = c.env.RULES
      const active = kv === undefined ? undefined : await readActiveRuleset(kv)
      let doc: Record<string, unknown> = {}
      if (active !== undefined && (active.ok || active.reason === 'invalid')) {
        try {
          const parsed: unknown = JSON.parse(active.text)
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) doc = parsed as Record<string, unknown>
        } catch {
          doc = {}
        }
      }
      const segments = Array.isArray(doc.segments) ? [...doc.segments] : []
      segments.push({ id, ...(description === '' ? {} : { description }), when })
      const { version: _dropped, ...rest } = doc
      const text = JSON.stringify({ ...rest, segments }, null, 2)
      const v = validateText(text)
      return render(
        c,
        session,
        {
          draft: text,
          validation: { ok: v.ok, issues: v.ok ? [] : v.issues, warnings: v.warnings },
          flash: v.ok
            ? { kind: 'ok', text: `Segment "${id}" was added to the draft below. Nothing is published until you press Publish.` }
            : { kind: 'error', text: `Segment "${id}" was added to the draft below, which does not validate yet.` },
        },
        v.ok ? 200 : 422,
      )
    },
  )
  .get('/opportunities/:experimentId', async function opportunitiesView(c) {
    const session = await sessionOf(c)
    if (session === undefined) return c.html(<LoginPage />, 401)
    const id = c.req.param('experimentId')
    const goal = c.req.query('goal')
    c.header('cache-control', 'no-store')
    if (!EXPERIMENT_ID.test(id) || (goal !== undefined && !EXPERIMENT_ID.test(goal)))
      return c.html(
        <OpportunitiesPage
          experiment="?"
          outcome={{ ok: false, status: 404, error: 'bad_id', details: 'Not an experiment or goal id.' }}
        />,
        400,
      )
    // A condition typed in the page's form (`when`) is estimated on the sample beside the clusters.
    const typed = (c.req.query('when') ?? '').trim()
    const passed = typed === '' ? [] : parseWhenParams([typed])
    if (typeof passed === 'string')
      return c.html(
        <OpportunitiesPage
          experiment={id}
          when={typed}
          outcome={{
            ok: false,
            status: 400,
            error: 'invalid_condition',
            details: `The condition cannot be estimated: ${passed}`,
          }}
        />,
        400,
      )
    const latest = await readLatestDiscovery(c.env.RULES)
    const outcome = await opportunitiesFromDb(c.env.DB, id, goal, {
      segments: [...proposedFromLatest(latest), ...passed],
      discoveredAt: latest?.at ?? null,
      days: DEFAULT_DAYS,
    })
    return c.html(<OpportunitiesPage experiment={id} when={typed} outcome={outcome} />, outcome.ok ? 200 : outcome.status)
  })
