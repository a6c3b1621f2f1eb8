/**
 * A URL's path as every matcher sees it: percent-decoded (`/caf%C3%A9` → `/café`; malformed
 * escapes keep the raw path) and with runs of `/` merged into one, the way most origins
 * (nginx's default `merge_slashes`) resolve it, so `//excluded/page` cannot dodge
 * `settings.exclude: ["/excluded/*"]`.
 */
export function decodedPath(url: string | URL): string {
  return decodedPathname(typeof url === 'string' ? new URL(url).pathname : url.pathname)
}

/**
 * {@link decodedPath} of a request's URL, read off its text without parsing it again: the
 * runtime has already parsed and serialised `request.url` (see {@link requestUrlPathname}).
 */
export function requestPath(request: { readonly url: string }): string {
  return decodedPathname(requestUrlPathname(request.url))
}

function decodedPathname(pathname: string): string {
  // Most paths hold neither an escape nor a doubled slash: nothing to decode or merge.
  if (!pathname.includes('%') && !pathname.includes('//')) return pathname
  let path: string
  try {
    path = decodeURIComponent(pathname)
  } catch {
    path = pathname
  }
  return mergeSlashes(path)
}

/** Runs of `/` merged into one (`//a///b` → `/a/b`), for a path given as text (event bodies). */
export function mergeSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/')
}

/**
 * Where the path begins in the text of a serialised URL (a request's `url`): the first `/` after
 * `://` (a serialised userinfo or host holds none), or the text's length when there is no path.
 * The one reading of URL text on the page path: the origin target, the page test, the path.
 */
export function pathStartOf(url: string): number {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  return start < 0 ? url.length : start
}

/**
 * `new URL(url).pathname` of a URL already in its serialised form, as a request's `url` is (the
 * runtime parsed it): for `http:` and `https:` the path is everything from the first `/` after
 * `//` (a serialised userinfo or host holds no `/`, and the path of these schemes is never empty)
 * to `?` or `#`. Every page view asks, and parsing a URL costs ~4 µs in workerd. Other schemes
 * are parsed. Not for URL text from elsewhere (a body, a query): only the parser normalises it.
 */
export function requestUrlPathname(url: string): string {
  if (!url.startsWith('https://') && !url.startsWith('http://')) return new URL(url).pathname
  const start = pathStartOf(url)
  if (start === url.length) return '/'
  let end = url.length
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i)
    if (c === 0x3f || c === 0x23) {
      end = i
      break
    }
  }
  return url.slice(start, end)
}
