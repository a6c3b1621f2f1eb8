import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { readActiveRuleset } from '../admin/active'
import { requireAdmin } from '../admin/auth'
import { explain } from '../admin/explain'
import { MAX_RULESET_BYTES, MAX_SMALL_BODY_BYTES, readJson } from '../admin/http'
import { summarize, validateDocument } from '../admin/validate'
import { kvStore, listVersions, publishFromWorker, rollbackTo, versionKey } from '../admin/versions'
import type { Env } from '../env'
import { limitBody } from '../http/body'
import { jsonError } from '../http/errors'
import { mintQaToken, MAX_QA_TTL_SECONDS, parseTtl } from '../qa/token'
import { compileRulesetText, htmlRewriterSelectorCheck } from '../rules/compile'
import { forgetRuleset } from '../rules/store'
import { adminLists } from './admin-lists'

type AdminEnv = { Bindings: Env }

function limit(maxSize: number): MiddlewareHandler<AdminEnv> {
  return limitBody(maxSize, (c) => jsonError(c, 413, 'too_large', `the body is larger than ${maxSize} bytes`))
}

function kvOf(c: Context<AdminEnv>): KVNamespace | Response {
  return c.env.RULES ?? jsonError(c, 503, 'no_kv', 'the RULES KV namespace is not bound')
}

/** The optional publish note, sent URI-encoded in `x-veneer-note`. */
function noteOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  try {
    return decodeURIComponent(header)
  } catch {
    return header
  }
}

/** 405 with `Allow` for a known path asked with another method. */
function notAllowed(allow: string) {
  return (c: Context<AdminEnv>) => {
    c.header('allow', allow)
    return jsonError(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${allow}`)
  }
}

/**
 * The admin API (SPEC 7), mounted at `/__veneer/api`. Every route needs
 * `Authorization: Bearer <ADMIN_TOKEN>`; with no ADMIN_TOKEN set, none works.
 */
export const adminApi = new Hono<AdminEnv>()

adminApi.use('*', requireAdmin())
adminApi.use('*', async (c, next) => {
  await next()
  c.header('cache-control', 'no-store')
})

adminApi.get('/ruleset', async (c) => {
  const kv = kvOf(c)
  if (kv instanceof Response) return kv
  const version = c.req.query('version')
  const text = await kv.get(version === undefined ? 'ruleset' : versionKey(version), 'text')
  if (text === null)
    return jsonError(c, 404, 'not_found', version === undefined ? 'no ruleset is published' : `no stored version "${version}"`)
  return c.body(text, 200, { 'content-type': 'application/json; charset=utf-8' })
})

adminApi.put('/ruleset', limit(MAX_RULESET_BYTES), async (c) => {
  const kv = kvOf(c)
  if (kv instanceof Response) return kv
  const body = await readJson(c)
  if (!body.ok) return body.response
  const v = validateDocument(body.value)
  if (!v.ok) return jsonError(c, 422, 'invalid_ruleset', v.issues)
  const out = await publishFromWorker(kv, v.doc, noteOf(c.req.header('x-veneer-note')))
  if ('tooLarge' in out) return jsonError(c, 413, 'too_large', out.tooLarge)
  return c.json({
    ok: true,
    version: out.version,
    previous: out.previous ?? null,
    size: out.entry.size,
    warnings: v.warnings,
    summary: summarize(v.ruleset),
  })
})
adminApi.all('/ruleset', notAllowed('GET, PUT'))

adminApi.route('/lists', adminLists) // saved id lists for $inList

adminApi.post('/ruleset/validate', limit(MAX_RULESET_BYTES), async (c) => {
  const body = await readJson(c)
  if (!body.ok) return body.response
  const v = validateDocument(body.value)
  if (!v.ok)
    return c.json({ error: 'invalid_ruleset', details: v.issues, ok: false, errors: v.issues, warnings: v.warnings }, 422) // ErrorBody plus the SPEC's validate fields
  return c.json({ ok: true, errors: [], warnings: v.warnings, summary: summarize(v.ruleset) })
})
adminApi.all('/ruleset/validate', notAllowed('POST'))

adminApi.get('/ruleset/versions', async (c) => {
  const kv = kvOf(c)
  if (kv instanceof Response) return kv
  return c.json(await listVersions(kvStore(kv)))
})
adminApi.all('/ruleset/versions', notAllowed('GET'))

adminApi.post('/ruleset/rollback', limit(MAX_SMALL_BODY_BYTES), async (c) => {
  const kv = kvOf(c)
  if (kv instanceof Response) return kv
  const body = await readJson(c)
  if (!body.ok) return body.response
  const version = (body.value as { version?: unknown } | null)?.version
  if (typeof version !== 'string' && typeof version !== 'number')
    return jsonError(c, 400, 'invalid_request', [{ path: 'version', message: 'a version id is required' }])
  const stored = await kv.get(versionKey(String(version)), 'text')
  if (stored === null) return jsonError(c, 404, 'not_found', `no stored version "${String(version)}"`)
  // Refuse to activate a stored document the current compiler rejects (it would only fall back).
  const check = compileRulesetText(stored, { checkSelector: htmlRewriterSelectorCheck })
  if (!check.ok) return jsonError(c, 422, 'invalid_ruleset', check.issues)
  const out = await rollbackTo(kvStore(kv), String(version))
  if (!out.ok) return jsonError(c, 404, 'not_found', `no stored version "${String(version)}"`)
  forgetRuleset(kv)
  return c.json({ ok: true, version: out.version, previous: out.previous ?? null })
})
adminApi.all('/ruleset/rollback', notAllowed('POST'))

adminApi.post('/explain', limit(MAX_RULESET_BYTES), async (c) => {
  const body = await readJson(c)
  if (!body.ok) return body.response
  if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    return jsonError(c, 400, 'invalid_request', [
      { path: '', message: 'the body is a context object, e.g. {"geo":{"country":"DE"},"path":"/"}' },
    ])
  }
  const input = body.value as Record<string, unknown>
  // `{ context, ruleset }` explains a draft; a bare context explains the active ruleset.
  const wrapped = typeof input.context === 'object' && input.context !== null && !Array.isArray(input.context)
  const context = wrapped ? (input.context as Record<string, unknown>) : input
  let ruleset
  if (wrapped && input.ruleset !== undefined) {
    const v = validateDocument(input.ruleset)
    if (!v.ok)
      return jsonError(
        c,
        422,
        'invalid_ruleset',
        v.issues.map((i) => ({ ...i, path: i.path === '' ? 'ruleset' : `ruleset.${i.path}` })),
      )
    ruleset = v.ruleset
  } else {
    const kv = kvOf(c)
    if (kv instanceof Response) return kv
    const active = await readActiveRuleset(kv)
    if (!active.ok)
      return jsonError(
        c,
        active.reason === 'none' ? 404 : 409,
        active.reason === 'none' ? 'not_found' : 'invalid_ruleset',
        active.reason === 'none' ? 'no ruleset is published' : active.issues,
      )
    ruleset = active.ruleset
  }
  return c.json(await explain(ruleset, context, c.env, { base: new URL(c.req.url).origin }))
})
adminApi.all('/explain', notAllowed('POST'))

adminApi.post('/qa-token', limit(MAX_SMALL_BODY_BYTES), async (c) => {
  const secret = c.env.QA_SECRET
  if (secret === undefined || secret === '')
    return jsonError(c, 503, 'qa_disabled', 'QA_SECRET is not set, so QA tokens cannot be minted')
  const text = await c.req.text()
  let ttlInput: unknown = '8h'
  if (text.trim() !== '') {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      return jsonError(c, 400, 'invalid_json', [
        { path: '', message: `not valid JSON: ${err instanceof Error ? err.message : 'parse error'}` },
      ])
    }
    const t = (value as { ttl?: unknown } | null)?.ttl
    if (t !== undefined) ttlInput = t
  }
  const ttl = typeof ttlInput === 'string' || typeof ttlInput === 'number' ? parseTtl(ttlInput) : undefined
  if (ttl === undefined)
    return jsonError(c, 400, 'invalid_request', [
      { path: 'ttl', message: 'ttl is a duration such as "8h", "30m", "2d" or a number of seconds' },
    ])
  if (ttl > MAX_QA_TTL_SECONDS) return jsonError(c, 400, 'invalid_request', [{ path: 'ttl', message: 'ttl is at most 7 days' }])
  const token = await mintQaToken(secret, ttl)
  return c.json({ token, ttlSeconds: ttl, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() })
})
adminApi.all('/qa-token', notAllowed('POST'))
