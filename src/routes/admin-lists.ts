import { Hono } from 'hono'
import { limitBody } from '../http/body'
import { jsonError } from '../http/errors'
import { kvStore } from '../admin/versions'
import type { Env } from '../env'
import { listKey, listNameProblem, MAX_LIST_CHARS, parseListText, publishList } from '../rules/lists'
import { forgetRuleset } from '../rules/store'

/**
 * Saved id lists for `$inList` (docs/ruleset.md), under the admin API: `PUT lists/:name` with a
 * JSON array of ids (or one id per line, `text/plain`), `GET lists/:name`. Auth is the admin API's.
 */
export const adminLists = new Hono<{ Bindings: Env }>()

adminLists.get('/:name', async (c) => {
  const name = c.req.param('name')
  const problem = listNameProblem(name)
  if (problem !== undefined) return jsonError(c, 400, 'invalid_name', problem)
  const kv = c.env.RULES
  if (kv === undefined) return jsonError(c, 503, 'no_kv', 'the RULES KV namespace is not bound')
  const text = await kv.get(listKey(name), 'text')
  if (text === null) return jsonError(c, 404, 'not_found', `no list "${name}"`)
  const parsed = parseListText(text)
  if (!parsed.ok) return jsonError(c, 500, 'invalid_list', parsed.message)
  return c.json({ name, size: parsed.items.length, items: parsed.items })
})

adminLists.put(
  '/:name',
  limitBody(MAX_LIST_CHARS, (c) => jsonError(c, 413, 'too_large', `the body is larger than ${MAX_LIST_CHARS} bytes`)),
  async (c) => {
    const name = c.req.param('name')
    const kv = c.env.RULES
    if (kv === undefined) return jsonError(c, 503, 'no_kv', 'the RULES KV namespace is not bound')
    const out = await publishList(kvStore(kv), name, await c.req.text())
    if (!out.ok) return jsonError(c, listNameProblem(name) === undefined ? 422 : 400, 'invalid_list', out.message)
    forgetRuleset(kv) // this isolate reads the new list with its next request
    return c.json({ ok: true, name, size: out.items.length })
  },
)

adminLists.all('/:name', (c) => {
  c.header('allow', 'GET, PUT')
  return jsonError(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use GET, PUT`)
})
