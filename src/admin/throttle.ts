/**
 * Failed dashboard logins, throttled per client address: after {@link MAX_FAILURES} wrong tokens
 * within {@link WINDOW_SECONDS}, that address gets 429 (even with the right token) until the
 * window has passed since its first failure. Kept in memory per isolate: it slows a guesser that
 * one isolate serves, and costs no write per request; it is not a global limit, so put Cloudflare
 * Access (or a WAF rate-limiting rule) in front of /__veneer/admin too (README "Security").
 */
export const MAX_FAILURES = 5
export const WINDOW_SECONDS = 15 * 60
/** Bound on the addresses remembered; the oldest entry goes first. */
const MAX_ENTRIES = 10_000

interface Entry {
  first: number
  failures: number
}

const failures = new Map<string, Entry>()

/** The client address Cloudflare reports, or one shared bucket when there is none (local runs). */
export function clientKey(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? 'unknown'
}

function current(key: string, now: number): Entry | undefined {
  const e = failures.get(key)
  if (e !== undefined && now - e.first >= WINDOW_SECONDS * 1000) {
    failures.delete(key)
    return undefined
  }
  return e
}

/** Seconds until `key` may try again, or 0 when it may try now. */
export function lockedFor(key: string, now: number = Date.now()): number {
  const e = current(key, now)
  if (e === undefined || e.failures < MAX_FAILURES) return 0
  return Math.max(1, Math.ceil((e.first + WINDOW_SECONDS * 1000 - now) / 1000))
}

/** Counts a failed login for `key`. */
export function recordFailure(key: string, now: number = Date.now()): void {
  const e = current(key, now)
  if (e !== undefined) {
    e.failures++
    return
  }
  if (failures.size >= MAX_ENTRIES) {
    const oldest = failures.keys().next().value
    if (oldest !== undefined) failures.delete(oldest)
  }
  failures.set(key, { first: now, failures: 1 })
}

/** Forgets every failure (tests). */
export function resetThrottle(): void {
  failures.clear()
}
