import { Hono } from 'hono'
import { requireAdmin } from '../admin/auth'
import { readJson } from '../admin/http'
import { limitBody } from '../http/body'
import { jsonError } from '../http/errors'
import type { Env } from '../env'
import { buildRecsModel } from '../recs/build'
import { CATALOG_KEY, MAX_CATALOG_BYTES, publishCatalog, validateCatalog } from '../recs/catalog'
import { forgetRecsModel } from '../recs/store'
import { backgroundRunner } from '../util/background'

/**
 * The catalog API (SPEC 7, 13), admin only: `GET api/catalog` returns the active catalog,
 * `PUT api/catalog` validates and publishes one (and rebuilds the model in the background, so
 * new titles and URLs show without waiting for the cron), `POST api/recs/build` rebuilds the
 * model from the counters now.
 */
export const catalog = new Hono<{ Bindings: Env }>()
  .use('/api/catalog', requireAdmin())
  .use('/api/recs/*', requireAdmin())
  .get('/api/catalog', async function getCatalog(c) {
    const kv = c.env.RULES
    if (kv === undefined) return jsonError(c, 503, 'no_kv', 'the RULES KV namespace is not bound')
    const text = await kv.get(CATALOG_KEY, 'text')
    if (text === null) return jsonError(c, 404, 'not_found', 'no catalog is published')
    return c.body(text, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  })
  .put(
    '/api/catalog',
    limitBody(MAX_CATALOG_BYTES, (c) => jsonError(c, 413, 'too_large', `the body is larger than ${MAX_CATALOG_BYTES} bytes`)),
    async function putCatalog(c) {
      const kv = c.env.RULES
      if (kv === undefined) return jsonError(c, 503, 'no_kv', 'the RULES KV namespace is not bound')
      const body = await readJson(c)
      if (!body.ok) return body.response
      const v = validateCatalog(body.value)
      if (!v.ok) return jsonError(c, 422, 'invalid_catalog', v.issues)
      const out = await publishCatalog({ get: (k) => kv.get(k, 'text'), put: (k, value) => kv.put(k, value) }, v.doc)
      backgroundRunner(c)(buildRecsModel(c.env).then(() => forgetRecsModel(kv)))
      return c.json({ ok: true, version: out.version, previous: out.previous ?? null, items: out.items }, 200, {
        'cache-control': 'no-store',
      })
    },
  )
  .all('/api/catalog', (c) => {
    c.header('allow', 'GET, PUT')
    return jsonError(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use GET, PUT`)
  })
  .post('/api/recs/build', async function buildModelNow(c) {
    const out = await buildRecsModel(c.env)
    if (!out.ok)
      return jsonError(
        c,
        out.reason === 'no_catalog' ? 409 : 503,
        out.reason,
        out.reason === 'no_catalog' ? 'publish a catalog first' : 'the model could not be built',
      )
    if (c.env.RULES !== undefined) forgetRecsModel(c.env.RULES)
    return c.json(out, 200, { 'cache-control': 'no-store' })
  })
