/**
 * Whether a catalog URL may be rendered into `href`/`src`: `http:`/`https:` absolute URLs and
 * relative ones only. Any whitespace or control character is refused outright, because
 * browsers strip them inside a scheme (`java\tscript:` runs as `javascript:`).
 */
export function isSafeUrl(url: string): boolean {
  if (url === '' || url.length > 2000) return false
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029]/.test(url)) return false
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)
  if (scheme === null) return !url.startsWith('\\') // relative: path, `./x`, `?q`, `#f`, `//host`
  const name = (scheme[1] ?? '').toLowerCase()
  return name === 'http' || name === 'https'
}
