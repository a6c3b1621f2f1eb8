import type { HeaderReader } from '../http/request-view'
import { PROFILE_COOKIE, VISITOR_COOKIE, readConsent, type ConsentReading } from '../consent'
import { clearCookie, readCookie, setCookie } from '../http/cookies'
import type { VisitorState } from '../context/types'
import type { Env } from '../env'
import { compileGlobs, type PathMatcher } from '../rules/glob'
import type { SettingsDoc } from '../rules/schema'
import { logWarn } from '../util/log'
import { keyringFor, type Keyring } from './keys'
import { verifyProfileToken } from './profile-token'
import { itemOfPath, remember as rememberItem } from '../recs/visitor-items'
import {
  MAX_COUNT,
  MAX_PURCHASED_ITEMS,
  MAX_RECENT_ITEMS,
  decodeVisitor,
  encodeVisitor,
  newVisitorRecord,
  type VisitorRecord,
} from './visitor-token'

/** A visit after this long idle starts a new session (SPEC: 30 minutes). */
export const SESSION_IDLE_SECONDS = 30 * 60

/** Everything read from one request's Veneer cookies, plus what is needed to write them back. */
export interface Identity {
  state: VisitorState
  consent: ConsentReading
  /** The record to persist (a fresh one for a new visitor); undefined without consent or key. */
  record?: VisitorRecord
  ring?: Keyring
  /** The request carried a `veneer_visitor` cookie (valid or not). */
  hadVisitorCookie: boolean
  nowSec: number
}

// The pipeline hands the same state object from readVisitorState to visitorCookies.
const identities = new WeakMap<VisitorState, Identity>()

export function identityOf(state: VisitorState): Identity | undefined {
  return identities.get(state)
}

let warnedNoSecret = false

/**
 * Reads consent, `veneer_visitor` and `veneer_profile` (SPEC 5). Without personalization
 * consent neither token is even verified. A missing or bad visitor token gives a fresh visitor
 * (`isNew`). A session starts after {@link SESSION_IDLE_SECONDS} idle.
 */
export async function readIdentity(
  headers: HeaderReader,
  env: Env,
  settings: SettingsDoc,
  country: string | undefined,
  now: Date,
): Promise<Identity> {
  const nowSec = Math.floor(now.getTime() / 1000)
  const consent = readConsent(headers, settings, country)
  const cookieHeader = headers.get('cookie')
  const visitorToken = readCookie(cookieHeader, VISITOR_COOKIE)
  const base = { consent, hadVisitorCookie: visitorToken !== undefined, nowSec }
  const consentOnly: VisitorState = {
    consent: { personalization: consent.personalization, analytics: consent.analytics, gpc: consent.gpc },
  }
  if (!consent.personalization) return remember({ ...base, state: consentOnly })

  const ringPromise = keyringFor(env.VISITOR_SECRET)?.catch(() => undefined)
  const profileToken = readCookie(cookieHeader, PROFILE_COOKIE)
  // Both verified at once when there is a profile token; most requests carry none.
  const [ring, profile] =
    profileToken === undefined
      ? [await ringPromise, undefined]
      : await Promise.all([ringPromise, verifyProfileToken(env, settings, profileToken, now)])
  const state: VisitorState = { ...consentOnly }
  if (profile !== undefined) state.profile = profile
  if (ring === undefined) {
    if (!warnedNoSecret) logWarn('visitor_secret_missing', { feature: 'veneer_visitor' })
    warnedNoSecret = true
    return remember({ ...base, state })
  }
  let record = visitorToken === undefined ? undefined : await decodeVisitor(ring, visitorToken, nowSec)
  const isNew = record === undefined
  if (record === undefined) record = newVisitorRecord(nowSec)
  else if (nowSec - record.lastSeen > SESSION_IDLE_SECONDS) record.sessions = Math.min(MAX_COUNT, record.sessions + 1)
  state.visitor = visitorContext(record, isNew)
  // The rules see copies: counting this page view later must not change what they saw.
  state.behavior = { ...record.behavior, views: { ...record.behavior.views } }
  state.assignments = Object.fromEntries(record.assignments)
  state.items = { recent: [...(record.recent ?? [])], purchased: [...(record.purchased ?? [])], shown: [...(record.shown ?? [])] }
  return remember({ ...base, state, record, ring })
}

/**
 * The rules' view of a visitor. `firstSeen` is formatted on first read: few page views read it,
 * and `Date#toISOString` costs ~5 µs per call in workerd (docs/performance.md).
 */
function visitorContext(record: VisitorRecord, isNew: boolean): NonNullable<VisitorState['visitor']> {
  const first = record.firstSeen
  let iso: string | undefined
  return {
    id: record.id,
    isNew,
    sessions: record.sessions,
    get firstSeen() {
      iso ??= new Date(first * 1000).toISOString()
      return iso
    },
  }
}

function remember(identity: Identity): Identity {
  identities.set(identity.state, identity)
  return identity
}

const categoryCache = new WeakMap<SettingsDoc['categories'], { id: string; matches: PathMatcher }[]>()

/** `settings.categories` compiled once per ruleset (the settings object is stable per version). */
function categoriesOf(settings: SettingsDoc): { id: string; matches: PathMatcher }[] {
  let c = categoryCache.get(settings.categories)
  if (c === undefined) {
    c = Object.entries(settings.categories).map(([id, g]) => ({ id, matches: compileGlobs(Array.isArray(g) ? g : [g]) }))
    categoryCache.set(settings.categories, c)
  }
  return c
}

const bump = (n: number) => Math.min(MAX_COUNT, n + 1)

/** Counts one page view of `path`: `pageViews` and `views.<category>` for each matching category. */
export function countPageView(record: VisitorRecord, settings: SettingsDoc, path: string): void {
  const b = record.behavior
  b.pageViews = bump(b.pageViews)
  for (const cat of categoriesOf(settings)) if (cat.matches(path)) b.views[cat.id] = bump(b.views[cat.id] ?? 0)
  const item = itemOfPath(settings, path)
  if (item !== undefined) record.recent = rememberItem(record.recent, item, MAX_RECENT_ITEMS)
}

/**
 * Applies a visitor event to the counters: `cart_add`, `purchase`, `page_view` (with its path).
 * A `cart_add` or `purchase` with an `item` also goes to the purchased items (SPEC 13).
 */
export function countEvent(record: VisitorRecord, settings: SettingsDoc, type: string, path?: string, item?: string): void {
  const b = record.behavior
  if ((type === 'cart_add' || type === 'purchase') && item !== undefined)
    record.purchased = rememberItem(record.purchased, item, MAX_PURCHASED_ITEMS)
  if (type === 'cart_add') b.cartAdds = bump(b.cartAdds)
  else if (type === 'purchase') b.purchases = bump(b.purchases)
  else if (type === 'page_view') countPageView(record, settings, path ?? '')
  b.lastEvent = type
}

/**
 * Sets the record's assignments to `assignments` (experiment → variant), keeping the record's
 * order for the ones it had, then moves `touched` experiments to the end (most recently used),
 * so pruning drops the assignments unused longest.
 */
export function mergeAssignments(record: VisitorRecord, assignments: Record<string, string>, touched: [string, string][]): void {
  const merged = new Map<string, string>()
  for (const [exp] of record.assignments) {
    const v = assignments[exp]
    if (Object.hasOwn(assignments, exp) && typeof v === 'string') merged.set(exp, v)
  }
  for (const [exp, v] of Object.entries(assignments)) if (!merged.has(exp) && typeof v === 'string') merged.set(exp, v)
  for (const [exp, v] of touched) {
    merged.delete(exp)
    merged.set(exp, v)
  }
  record.assignments = [...merged]
}

/** The refreshed `veneer_visitor` Set-Cookie for a record, stamped as seen now. */
export async function visitorSetCookie(
  identity: Identity,
  settings: SettingsDoc,
  requestUrl: string,
): Promise<string | undefined> {
  const { record, ring } = identity
  if (record === undefined || ring === undefined) return undefined
  record.lastSeen = identity.nowSec
  const maxAge = settings.visitorMaxAgeDays * 86_400
  const token = await encodeVisitor(ring, record, identity.nowSec, maxAge)
  return setCookie(VISITOR_COOKIE, token, { maxAgeSeconds: maxAge, requestUrl })
}

/** Without personalization consent a leftover `veneer_visitor` is deleted, never refreshed. */
export function visitorClearCookie(identity: Identity, requestUrl: string): string[] {
  return identity.hadVisitorCookie ? [clearCookie(VISITOR_COOKIE, { requestUrl })] : []
}
