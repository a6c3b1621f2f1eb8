import { Hono } from 'hono'
import { z } from 'zod'
import type { Env } from '../env'
import { readBodyText } from '../http/body'
import { jsonError } from '../http/errors'
import { isSameOrigin } from '../http/origin'
import { countEvent, readIdentity, visitorClearCookie, visitorSetCookie } from '../identity/state'
import { recordVisitorEvent, type VisitorEvent } from '../measure/record'
import { viewRows } from '../recs/counts'
import { ItemId } from '../recs/catalog'
import { recsTally } from '../recs/tally'
import { Settings } from '../rules/schema'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'
import { mergeSlashes } from '../util/path'

/** Request bodies over this many bytes are refused with 413 (SPEC 7). */
export const MAX_EVENT_BYTES = 4096
/**
 * An event's `value` (e.g. an order's amount, in the site's currency) is 0 … 1,000,000,000.
 * Refunds are not events: a negative value would let one visitor cancel out others' revenue.
 */
export const MAX_EVENT_VALUE = 1e9
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
  value: z.number().finite().min(0).max(MAX_EVENT_VALUE).optional(),
  /** For `page_view` from a page Veneer did not serve (e.g. a client-side navigation). */
  path: z.string().min(1).max(500).startsWith('/').optional(),
  /** The catalog item of a `cart_add` or `purchase` (SPEC 13). */
  item: ItemId.optional(),
})

const NO_STORE = { 'cache-control': 'no-store' }

/**
 * `POST /__veneer/events` (SPEC 7): `{ type, goal?, value?, path? }`, JSON in any content type
 * so `navigator.sendBeacon` (text/plain) works. With personalization consent the counters in
 * `veneer_visitor` are updated and the refreshed cookie returned; with analytics consent too the
 * event is handed to measurement. Only same-origin posts are taken (src/http/origin.ts).
 */
export const events = new Hono<{ Bindings: Env }>().post('/events', async (c) => {
  if (!isSameOrigin(c.req.raw))
    return jsonError(c, 403, 'forbidden', 'events are accepted from this site only (Origin or Sec-Fetch-Site: same-origin)')
  const body = await readBodyText(c.req.raw, MAX_EVENT_BYTES)
  if (!body.ok) {
    return body.reason === 'too_large'
      ? jsonError(c, 413, 'payload_too_large', `an event is at most ${MAX_EVENT_BYTES} bytes`)
      : jsonError(c, 400, 'invalid_event', 'the body is not UTF-8')
  }
  let json: unknown
  try {
    json = JSON.parse(body.text)
  } catch {
    return jsonError(c, 400, 'invalid_event', 'the body is not JSON')
  }
  const parsed = EventBody.safeParse(json)
  if (!parsed.success) {
    return jsonError(
      c,
      400,
      'invalid_event',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    )
  }
  const event = parsed.data
  const waitUntil = backgroundRunner(c)
  const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: EVENT_BUDGET_MS, waitUntil })
  const builtin = (BUILTIN_EVENTS as readonly string[]).includes(event.type)
  const goalIds = new Set(ruleset?.goals.map((g) => g.id) ?? [])
  if (ruleset !== undefined && !builtin && !goalIds.has(event.type)) {
    return jsonError(
      c,
      400,
      'invalid_event',
      `unknown event type "${event.type}": use page_view, cart_add, purchase or a goal id`,
    )
  }
  if (ruleset !== undefined && event.goal !== undefined && !goalIds.has(event.goal)) {
    return jsonError(c, 400, 'invalid_event', `unknown goal "${event.goal}"`)
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
    const boughtBefore = identity.record.purchased ?? []
    const path = event.path === undefined ? undefined : mergeSlashes(event.path)
    countEvent(identity.record, settings, event.type, path, event.item)
    if (identity.consent.analytics && event.item !== undefined && (event.type === 'cart_add' || event.type === 'purchase')) {
      // Also-bought counts: the item, and pairs with what the visitor carted or bought before.
      recsTally(c.env, waitUntil)?.add(viewRows(event.item, boughtBefore, Date.now(), 'buy'))
    }
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
