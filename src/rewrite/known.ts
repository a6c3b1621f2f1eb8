/**
 * What this isolate has learned about pages, by key (see {@link pageKey}): `plain` pages (the
 * guard found nothing lol-html could fail on, last time) are rewritten on the native path; every
 * other page — one never seen, or one where the guard stopped the rewrite — takes the guarded
 * path, which cannot fail. `failed`: the rewriter failed on the page anyway (a case the guard does not foresee): it is
 * passed through untouched for a while (`x-veneer: bypass`).
 *
 * Knowledge is per isolate and bounded; being wrong costs CPU, never bytes, except in one case
 * (docs/performance.md): a `plain` page that changed, within {@link PLAIN_TTL_MS}, into one that
 * makes lol-html fail.
 */
export type PageKind = 'plain' | 'guarded' | 'failed'

export const PLAIN_TTL_MS = 10 * 60 * 1000
export const FAILED_TTL_MS = 60 * 60 * 1000
const MAX_ENTRIES = 5000

const known = new Map<string, { kind: PageKind; at: number }>()

/** Query parameters that only track a visit: the page is the same with or without them. */
const TRACKING = /^(utm_[a-z]+|gclid|gbraid|wbraid|dclid|fbclid|msclkid|mc_cid|mc_eid|_ga|_gl|yclid|twclid|ttclid|igshid)$/i

/**
 * The key a page is known by: its URL without the fragment and without tracking parameters, so
 * the same page reached from a thousand campaign links is learned once.
 */
export function pageKey(url: string): string {
  const hash = url.indexOf('#')
  const u = hash < 0 ? url : url.slice(0, hash)
  const q = u.indexOf('?')
  if (q < 0) return u
  const kept = u
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '' && !TRACKING.test(decodeURIComponentSafe(p.split('=')[0] ?? '')))
  return kept.length === 0 ? u.slice(0, q) : `${u.slice(0, q)}?${kept.join('&')}`
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** What is known of a page; `guarded` when nothing is (or what was known has expired). */
export function pageKind(key: string, now = Date.now()): PageKind {
  const k = known.get(key)
  if (k === undefined) return 'guarded'
  const ttl = k.kind === 'plain' ? PLAIN_TTL_MS : k.kind === 'failed' ? FAILED_TTL_MS : Number.POSITIVE_INFINITY
  if (now - k.at > ttl) {
    known.delete(key)
    return 'guarded'
  }
  return k.kind
}

/** Whether anything (unexpired or not) is remembered of a page in this isolate. */
export function pageKnown(key: string): boolean {
  return known.has(key)
}

export function rememberPage(key: string, kind: PageKind, now = Date.now()): void {
  if (known.get(key)?.kind === 'failed' && kind !== 'failed') return // a failure outranks a later guess
  known.delete(key) // re-inserted last: the map's order is least recently learned first
  if (known.size >= MAX_ENTRIES) {
    const oldest = known.keys().next().value
    if (oldest !== undefined) known.delete(oldest)
  }
  known.set(key, { kind, at: now })
}

/** For tests: forget everything. */
export function forgetPages(): void {
  known.clear()
}
