/**
 * A URL's path as every matcher sees it: percent-decoded (`/caf%C3%A9` → `/café`; malformed
 * escapes keep the raw path) and with runs of `/` merged into one, the way most origins
 * (nginx's default `merge_slashes`) resolve it, so `//excluded/page` cannot dodge
 * `settings.exclude: ["/excluded/*"]`.
 */
export function decodedPath(url: string | URL): string {
  const pathname = typeof url === 'string' ? new URL(url).pathname : url.pathname
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
