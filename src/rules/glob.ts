/**
 * Path globs for `include`, `exclude`, placement `paths` and `categories`.
 * `*` matches any run of characters including `/` (so `/*` is every path and `/products/*`
 * every page under /products/), `?` one character; everything else is literal. A pattern
 * matches the whole path. Compiled once per ruleset version.
 */
export function globToRegExp(glob: string): RegExp {
  let src = ''
  for (const ch of glob) {
    if (ch === '*') src += '.*'
    else if (ch === '?') src += '.'
    else src += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  // Collapse runs like `.*.*` from `**` so matching stays linear.
  // `s`: a decoded path may hold a newline (%0A), which `*` must match too.
  return new RegExp(`^${src.replace(/(?:\.\*)+/g, '.*')}$`, 's')
}

export type PathMatcher = (path: string) => boolean

/** One matcher for a list of globs; an empty list matches nothing. */
export function compileGlobs(globs: readonly string[]): PathMatcher {
  if (globs.length === 0) return () => false
  const re = new RegExp(globs.map((g) => globToRegExp(g).source).join('|'), 's')
  return (path) => re.test(path)
}
