/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { limitBody } from '../http/body'
import { Hono, type Context } from 'hono'
import { readActiveRuleset } from '../admin/active'
import { LoginPage, MessagePage } from '../admin/dashboard/layout'
import { guardPost, sessionOf } from '../admin/dashboard/routes'
import { MAX_RULESET_BYTES } from '../admin/http'
import { validateDocument, validateText } from '../admin/validate'
import { publishFromWorker } from '../admin/versions'
import type { Env } from '../env'
import { newNonce } from '../qa/form'
import type { RulesetIssue } from '../rules/errors'
import { backgroundRunner } from '../util/background'
import { applyChange, parseChangeForm } from './change'
import { deleteDraft, readDraft, writeDraft, type Draft } from './draft'
import { framedPage } from './frame'
import { countMatches } from './matches'
import { EditorPage, type EditorProps } from './page'
import { NO_VISITOR, visitorFromQuery, visitorQuery, type PreviewVisitor } from './visitor'

type EdEnv = { Bindings: Env }
type Ctx = Context<EdEnv>

const EDITOR = '/__veneer/admin/editor'
const MAX_FORM_BYTES = 256 * 1024

/** Headers of the editor page itself: never framed, scripts only with this response's nonce. */
function editorHeaders(nonce: string): Record<string, string> {
  return {
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
  }
}

const PLAIN = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
}

/** A same-site page path to edit: `/`, `/products/x?y=1`; never `//host`, never Veneer's own. */
function pagePath(raw: string | undefined): string {
  const p = (raw ?? '/').trim()
  if (!p.startsWith('/') || p.startsWith('//') || p.includes('\\') || p.length > 1000 || p.startsWith('/__veneer')) return '/'
  return p
}

function field(form: Record<string, unknown>, name: string, max = 1000): string {
  const v = form[name]
  return typeof v === 'string' ? v.slice(0, max) : ''
}

/** Where a site with no ruleset yet starts: nothing personalized. */
const emptyDocument = (): Record<string, unknown> => ({ settings: {}, segments: [], placements: [] })

/** The document the next save builds on: the draft's, else the active one, else an empty ruleset. */
async function workingDocument(
  kv: KVNamespace,
): Promise<{ doc: Record<string, unknown>; base?: string; draft?: Draft; activeVersion?: string }> {
  const [draft, active] = await Promise.all([readDraft(kv), readActiveRuleset(kv)])
  const activeVersion = active.ok ? active.ruleset.version : undefined
  if (draft !== undefined) {
    try {
      const doc: unknown = JSON.parse(draft.text)
      if (typeof doc === 'object' && doc !== null && !Array.isArray(doc))
        return { doc: doc as Record<string, unknown>, base: draft.base, draft, activeVersion }
    } catch {
      // an unreadable draft is replaced by the next save
    }
  }
  if (active.ok) return { doc: JSON.parse(active.text) as Record<string, unknown>, base: activeVersion, activeVersion }
  return { doc: emptyDocument(), activeVersion }
}

async function renderEditor(
  c: Ctx,
  csrf: string,
  path: string,
  visitor: PreviewVisitor,
  extra: Partial<EditorProps> = {},
  status: 200 | 400 | 413 | 422 = 200,
): Promise<Response> {
  const kv = c.env.RULES
  if (kv === undefined)
    return c.html(<MessagePage title="Veneer editor" message="The RULES KV namespace is not bound." />, 503, PLAIN)
  const work = await workingDocument(kv)
  const checked = validateDocument(work.doc)
  const issues: RulesetIssue[] = checked.ok ? [] : checked.issues
  const nonce = newNonce()
  const viewParam = c.req.query('view')
  return c.html(
    <EditorPage
      csrf={csrf}
      nonce={nonce}
      path={path}
      visitor={visitor}
      view={viewParam === 'active' ? 'active' : 'draft'}
      ruleset={checked.ok ? checked.ruleset : undefined}
      activeVersion={work.activeVersion}
      draft={work.draft === undefined ? undefined : { draft: work.draft, issues }}
      {...extra}
    />,
    status,
    editorHeaders(nonce),
  )
}

/** The visual editor (SPEC 16), mounted at `/__veneer/admin/editor`, admin session only. */
export const adminEditor = new Hono<EdEnv>()

adminEditor.use('*', async (c, next) => {
  if (c.env.ADMIN_TOKEN === undefined || c.env.ADMIN_TOKEN === '')
    return c.html(
      <MessagePage title="Veneer admin is off" message="ADMIN_TOKEN is not set on this Worker, so the editor is disabled." />,
      503,
      PLAIN,
    )
  await next()
})

adminEditor.get('/', async (c) => {
  const session = await sessionOf(c)
  if (session === undefined) return c.html(<LoginPage error="Log in to use the visual editor." />, 401, PLAIN)
  const path = pagePath(c.req.query('path'))
  const visitor = visitorFromQuery((n) => c.req.query(n))
  const saved = c.req.query('saved')
  const published = c.req.query('published')
  const flash =
    published !== undefined && /^[\w.:-]{1,100}$/.test(published)
      ? { kind: 'ok' as const, text: `Published ${published}. This Worker serves it now; other locations within about a minute.` }
      : saved !== undefined && /^[\w.:-]{1,100}$/.test(saved)
        ? { kind: 'ok' as const, text: `Saved variant ${saved} to the draft. Publish the draft to show it to visitors.` }
        : c.req.query('discarded') !== undefined
          ? { kind: 'ok' as const, text: 'The draft was discarded.' }
          : undefined
  return renderEditor(c, session.csrf, path, visitor, { flash })
})

adminEditor.get('/frame', async (c) => {
  const session = await sessionOf(c)
  if (session === undefined)
    return c.json({ error: 'unauthorized', details: 'the editor frame needs an admin session' }, 401, PLAIN)
  const kv = c.env.RULES
  if (kv === undefined) return c.json({ error: 'unbound', details: 'the RULES KV namespace is not bound' }, 503, PLAIN)
  const path = pagePath(c.req.query('path'))
  const visitor = visitorFromQuery((n) => c.req.query(n))
  const nonce = newNonce()
  const [draft, active] = await Promise.all([c.req.query('view') === 'active' ? undefined : readDraft(kv), readActiveRuleset(kv)])
  const fromDraft = draft === undefined ? undefined : validateText(draft.text)
  // With no valid ruleset at all, the page is shown as the origin serves it, to pick a first element.
  const empty = validateDocument(emptyDocument())
  const ruleset = fromDraft?.ok ? fromDraft.ruleset : active.ok ? active.ruleset : empty.ok ? empty.ruleset : undefined
  if (ruleset === undefined) return c.json({ error: 'no_ruleset', details: 'there is no ruleset to preview' }, 409, PLAIN)
  return framedPage({ request: c.req.raw, env: c.env, path, visitor, ruleset, nonce, waitUntil: backgroundRunner(c) })
})

function back(form: Record<string, unknown>, extra: Record<string, string>): string {
  const visitor = visitorFromQuery((n) => field(form, `visitor.${n}`, 100))
  const q = new URLSearchParams(visitorQuery(pagePath(field(form, 'path')), visitor))
  for (const [k, v] of Object.entries(extra)) q.set(k, v)
  return `${EDITOR}?${q}`
}

adminEditor.post(
  '/save',
  limitBody(MAX_FORM_BYTES, (c) => c.text('too large', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    const { session, form } = guard
    const kv = c.env.RULES
    if (kv === undefined)
      return c.html(<MessagePage title="Veneer editor" message="The RULES KV namespace is not bound." />, 503, PLAIN)
    const path = pagePath(field(form, 'path'))
    const visitor = visitorFromQuery((n) => field(form, `visitor.${n}`, 100))
    const echo = Object.fromEntries(Object.keys(form).map((k) => [k, field(form, k, 100_000)]))
    const refuse = (errors: string[]) => renderEditor(c, session.csrf, path, visitor, { errors, form: echo }, 422)
    const parsed = parseChangeForm(form)
    if (!parsed.ok) return refuse(parsed.errors)
    const change = { ...parsed.change, path }
    const work = await workingDocument(kv)
    const applied = applyChange(work.doc, change)
    if (!applied.ok) return refuse(applied.errors)
    const checked = validateDocument(applied.doc)
    if (!checked.ok) return refuse(checked.issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`))
    const text = JSON.stringify(applied.doc, null, 2)
    if (new TextEncoder().encode(text).length > MAX_RULESET_BYTES) return refuse(['The ruleset would be larger than 1 MB.'])
    // The browser checked its DOM; HTMLRewriter must agree on the page as the origin serves it.
    const n = await countMatches(c.env, new URL(c.req.url).origin, path, change.selector)
    if (n === 0) return refuse([`HTMLRewriter finds nothing matching ${change.selector} in ${path} as the origin serves it.`])
    if (n !== undefined && n > 1)
      return refuse([`${change.selector} matches ${n} elements of ${path} for HTMLRewriter, not one. Make it more specific.`])
    await writeDraft(kv, {
      base: work.base,
      text,
      edits: [...(work.draft?.edits ?? []), applied.summary],
      savedAt: new Date().toISOString(),
    })
    return c.body(null, 303, { location: back(form, { saved: change.variant }) })
  },
)

adminEditor.post(
  '/publish',
  limitBody(8 * 1024, (c) => c.text('too large', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    const { session, form } = guard
    const kv = c.env.RULES
    if (kv === undefined)
      return c.html(<MessagePage title="Veneer editor" message="The RULES KV namespace is not bound." />, 503, PLAIN)
    const path = pagePath(field(form, 'path'))
    const draft = await readDraft(kv)
    if (draft === undefined)
      return renderEditor(c, session.csrf, path, NO_VISITOR, { errors: ['There is no draft to publish.'] }, 400)
    const v = validateText(draft.text)
    if (!v.ok)
      return renderEditor(
        c,
        session.csrf,
        path,
        NO_VISITOR,
        { errors: v.issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`) },
        422,
      )
    const out = await publishFromWorker(kv, v.doc, `editor: ${draft.edits.slice(-3).join('; ')}`.slice(0, 200))
    if ('tooLarge' in out) return renderEditor(c, session.csrf, path, NO_VISITOR, { errors: [out.tooLarge] }, 413)
    await deleteDraft(kv)
    return c.body(null, 303, { location: back(form, { published: out.version }) })
  },
)

adminEditor.post(
  '/discard',
  limitBody(8 * 1024, (c) => c.text('too large', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    const kv = c.env.RULES
    if (kv !== undefined) await deleteDraft(kv)
    return c.body(null, 303, { location: back(guard.form, { discarded: '1' }) })
  },
)
