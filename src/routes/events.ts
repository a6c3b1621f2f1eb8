import { Hono } from 'hono'
import { z } from 'zod'
import type { Env } from '../env'
import { countEvent, readIdentity, visitorClearCookie, visitorSetCookie } from '../identity/state'
import { recordVisitorEvent, type VisitorEvent } from '../measure/record'
import { Settings } from '../rules/schema'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'

/** Request bodies over this many bytes are refused with 413 (SPEC 7). */
export const MAX_EVENT_BYTES = 4096
/** Event types every site has; any other type must be a goal id of the ruleset. */
export const BUILTIN_EVENTS = ['page_view', 'cart_add', 'purchase'] as const
const EVENT_BUDGET_MS = 200
const DEFAULT_SETTINGS = Settings.parse({})

const Name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits, "_", "-", ".", ":"')
const EventBody = z.strictObject({
  type: Name,
  goal: Name.optional(),
  value: z.number().finite().min(-1e12).max(1e12).optional(),
  /** For `page_view` from a page Veneer did not serve (e.g. a client-side navigation). */
  path: z.string().min(1).max(500).startsWith('/').optional(),
})

type BodyResult = { ok: true; text: string } | { ok: false; status: 400 | 413 }

/** Reads at most MAX_EVENT_BYTES of the body without buffering a larger one. */
async function readLimited(req: Request): Promise<BodyResult> {
  const declared = Number(req.headers.get('content-length') ?? '0')
  if (declared > MAX_EVENT_BYTES) return { ok: false, status: 413 }
  if (req.body === null) return { ok: true, text: '' }
  const reader = req.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_EVENT_BYTES) {
      await reader.cancel().catch(() => undefined)
      return { ok: false, status: 413 }
    }
    chunks.push(value)
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.byteLength
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(all) }
  } catch {
    return { ok: false, status: 400 }
  }
}

const NO_STORE = { 'cache-control': 'no-store' }

/**
 * `POST /__veneer/events` (SPEC 7): `{ type, goal?, value?, path? }`, JSON in any content type
 * so `navigator.sendBeacon` (text/plain) works. With personalization consent the counters in
 * `veneer_visitor` are updated and the refreshed cookie returned; with analytics consent too the
 * event is handed to measurement. Cross-site posts are refused.
 */
export const events = new Hono<{ Bindings: Env }>().post('/events', async (c) => {
  if (c.req.header('sec-fetch-site') === 'cross-site')
    return c.json({ error: 'forbidden', details: 'cross-site events are not accepted' }, 403, NO_STORE)
  const body = await readLimited(c.req.raw)
  if (!body.ok) {
    return body.status === 413
      ? c.json({ error: 'payload_too_large', details: `an event is at most ${MAX_EVENT_BYTES} bytes` }, 413, NO_STORE)
      : c.json({ error: 'invalid_event', details: 'the body is not UTF-8' }, 400, NO_STORE)
  }
  let json: unknown
  try {
    json = JSON.parse(body.text)
  } catch {
    return c.json({ error: 'invalid_event', details: 'the body is not JSON' }, 400, NO_STORE)
  }
  const parsed = EventBody.safeParse(json)
  if (!parsed.success) {
    return c.json(
      { error: 'invalid_event', details: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      400,
      NO_STORE,
    )
  }
  const event = parsed.data
  const waitUntil = backgroundRunner(c)
  const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: EVENT_BUDGET_MS, waitUntil })
  const builtin = (BUILTIN_EVENTS as readonly string[]).includes(event.type)
  const goalIds = new Set(ruleset?.goals.map((g) => g.id) ?? [])
  if (ruleset !== undefined && !builtin && !goalIds.has(event.type)) {
    return c.json(
      { error: 'invalid_event', details: `unknown event type "${event.type}": use page_view, cart_add, purchase or a goal id` },
      400,
      NO_STORE,
    )
  }
  if (ruleset !== undefined && event.goal !== undefined && !goalIds.has(event.goal)) {
    return c.json({ error: 'invalid_event', details: `unknown goal "${event.goal}"` }, 400, NO_STORE)
  }
  // Without a ruleset (none published, KV slow) counters still move, by the default settings.
  const settings = ruleset?.settings ?? DEFAULT_SETTINGS
  const country = (c.req.raw as { cf?: { country?: unknown } }).cf?.country
  const identity = await readIdentity(
    c.req.raw.headers,
    c.env,
    settings,
    typeof country === 'string' ? country.toUpperCase() : undefined,
    new Date(),
  )
  const headers = new Headers(NO_STORE)
  let counted = false
  let recorded = false
  if (identity.consent.personalization && identity.record !== undefined) {
    countEvent(identity.record, settings, event.type, event.path)
    // Measured before the cookie is written: the cookie remembers what was counted (SPEC 12).
    if (identity.consent.analytics && ruleset !== undefined) {
      const recordable: VisitorEvent = { type: event.type }
      if (event.goal !== undefined) recordable.goal = event.goal
      if (event.value !== undefined) recordable.value = event.value
      recordVisitorEvent(c.env, waitUntil, ruleset, identity.record, recordable)
      recorded = true
    }
    const cookie = await visitorSetCookie(identity, settings, c.req.url)
    if (cookie !== undefined) {
      headers.append('set-cookie', cookie)
      counted = true
    }
  } else {
    for (const cl of visitorClearCookie(identity, c.req.url)) headers.append('set-cookie', cl)
  }
  return c.json({ ok: true, counted, recorded }, 200, Object.fromEntries(headers))
})
