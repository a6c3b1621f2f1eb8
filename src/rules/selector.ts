/**
 * The CSS subset HTMLRewriter (lol-html) accepts: type, universal, `#id`, `.class`, attribute
 * selectors with `= ~= |= ^= $= *=` (optionally ` i`), `:nth-child()`, `:first-child`,
 * `:nth-of-type()`, `:first-of-type`, `:not()`, and the descendant and `>` combinators.
 * Checked on publish in any runtime (the CLI runs in Node); inside workerd the real parser
 * is asked as well (see `compile.ts`).
 */
const IDENT = String.raw`-?[_a-zA-Z\u00a0-\uffff][_a-zA-Z0-9\u00a0-\uffff-]*`
const STRING = String.raw`(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')`
const ATTR = String.raw`\[\s*${IDENT}\s*(?:[~|^$*]?=\s*(?:${IDENT}|${STRING})\s*(?:[iIsS]\s*)?)?\]`
const NTH = String.raw`\(\s*(?:odd|even|[+-]?\d*n\s*(?:[+-]\s*\d+)?|[+-]?\d+)\s*\)`
const PSEUDO_SIMPLE = `:(?:first-child|first-of-type|nth-child${NTH}|nth-of-type${NTH})`
const SIMPLE = String.raw`(?:#${IDENT}|\.${IDENT}|${ATTR}|${PSEUDO_SIMPLE})`
const NOT = String.raw`:not\(\s*(?:${IDENT}|\*)?(?:${SIMPLE})*\s*\)`
const COMPOUND = String.raw`(?:(?:${IDENT}|\*)(?:${SIMPLE}|${NOT})*|(?:${SIMPLE}|${NOT})+)`
/** The whole grammar as one pattern; the visual editor's picker runs it in the browser too. */
export const SUPPORTED_SELECTOR = new RegExp(String.raw`^\s*${COMPOUND}(?:\s*>\s*${COMPOUND}|\s+${COMPOUND})*\s*$`)

export const MAX_SELECTOR_LENGTH = 500

/** `undefined` when the selector is in the supported subset, else the reason it is not. */
export function selectorProblem(selector: string): string | undefined {
  if (selector.length === 0) return 'selector is empty'
  if (selector.length > MAX_SELECTOR_LENGTH) return `selector is longer than ${MAX_SELECTOR_LENGTH} characters`
  if (selector.includes(',')) return 'selector lists (",") are not supported by HTMLRewriter; use one selector per operation'
  const bare = selector.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""').replace(/\[[^\]]*\]|\([^)]*\)/g, '')
  if (/[+~]/.test(bare)) return 'sibling combinators ("+", "~") are not supported by HTMLRewriter'
  if (!SUPPORTED_SELECTOR.test(selector)) return 'selector is outside the CSS subset HTMLRewriter supports'
  return undefined
}
