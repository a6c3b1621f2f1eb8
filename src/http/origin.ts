/**
 * Same-origin checks for state-changing requests (event posts, the preference center, the
 * dashboard), one rule for all: the browser must vouch for the request with `Sec-Fetch-Site:
 * same-origin` or an `Origin` equal to this origin, and neither header may say otherwise. A request
 * with neither header is refused (every browser in use sends at least one on a POST).
 */
export function isSameOrigin(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site')
  const origin = request.headers.get('origin')
  if (site === null && origin === null) return false
  if (site !== null && site !== 'same-origin') return false
  if (origin !== null && origin !== new URL(request.url).origin) return false
  return true
}

/** C0 controls and DEL: CR/LF split headers, and browsers drop tab/CR/LF from URLs silently. */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

export type LocalPath = { ok: true; path: string } | { ok: false; reason: 'control' | 'foreign' }

/**
 * A redirect target from request input, made safe: control characters are refused (a CR/LF
 * would split the header, a tab is dropped by browsers and turns `/\t/evil` into `//evil`), then
 * `to` is resolved against the request the way a browser would and must stay on its origin. The
 * result is the path, query and fragment only, so `Location` can never name another host.
 */
export function localPath(to: string, requestUrl: string): LocalPath {
  if (hasControlChar(to)) return { ok: false, reason: 'control' }
  let target: URL
  try {
    target = new URL(to, requestUrl)
  } catch {
    return { ok: false, reason: 'foreign' }
  }
  if (!to.startsWith('/') || target.origin !== new URL(requestUrl).origin) return { ok: false, reason: 'foreign' }
  return { ok: true, path: `${target.pathname}${target.search}${target.hash}` }
}
