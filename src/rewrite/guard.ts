/**
 * Where lol-html could fail on a page, found in the bytes before it sees them (issue 16).
 *
 * lol-html (HTMLRewriter) aborts mid-stream in exactly two ways (PLATFORM-NOTES):
 * - its ambiguity guard (tree_builder_simulator/ambiguity_guard.rs): a text-type start tag
 *   (`title`, `style`, `iframe`, `xmp`, `noembed`, `noframes`, `noscript`, `plaintext`,
 *   `textarea`, `script`) between `<select>` and its end, inside a `<template>` within a
 *   `<select>`, or anywhere after `<frameset>`;
 * - its memory cap (3 MiB in workerd): a single token (e.g. a tag with an inline `data:` image)
 *   it must hold whole.
 * Every ambiguity starts with the bytes `<select` or `<frameset`, and a token that big is a long
 * run of bytes without `>`. So a stream can be cut, before the rewriter sees it, at a point where
 * the rest is certainly safe to rewrite or not: up to the cut the page is rewritten, the rest goes
 * out as the origin sent it, and every byte goes out once. The scan errs on the safe side: in
 * doubt it stops early (the rest of the page is then not personalized, but it is whole).
 */

/** A run of this many bytes without `>` stops the rewrite: lol-html's cap for a token is 3 MiB. */
export const LONG_RUN_BYTES = 1024 * 1024
/** How far past a `<select` the scan may look for its end before it gives up and stops there. */
export const SELECT_LOOKAHEAD_BYTES = 64 * 1024

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
const BANG = 0x21
const QUESTION = 0x3f
const EQ = 0x3d
const DQ = 0x22
const SQ = 0x27

/**
 * Start tags that make a `<select>` ambiguous to lol-html, or that end "in select" without an end
 * tag (after which the scan can no longer follow lol-html's state), or hide markup from it
 * (`script`). Any of them inside a select stops the rewrite at that select.
 */
const RISKY_IN_SELECT = new Set([
  'title',
  'style',
  'iframe',
  'xmp',
  'noembed',
  'noframes',
  'noscript',
  'plaintext',
  'template',
  'textarea',
  'script',
  'select',
  'input',
  'keygen',
])

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d
}

function isNameByte(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x3a
}

/** The lower-cased tag name at `at`, or `undefined` when the bytes end before its delimiter. */
function nameAt(buf: Uint8Array, at: number): string | undefined {
  let end = at
  while (end < buf.length && isNameByte(buf[end] as number) && end - at < 16) end++
  if (end === buf.length) return undefined
  let s = ''
  for (let i = at; i < end; i++) s += String.fromCharCode((buf[i] as number) | 0x20)
  return s
}

/** Index just past the `>` that ends the tag opened at `lt` (quoted attribute values skipped), or -1. */
function tagEnd(buf: Uint8Array, lt: number): number {
  let i = lt + 1
  while (i < buf.length) {
    const b = buf[i] as number
    if (b === GT) return i + 1
    if (b === EQ) {
      i++
      while (i < buf.length && isSpace(buf[i] as number)) i++
      const q = buf[i]
      if (q === DQ || q === SQ) {
        const close = buf.indexOf(q, i + 1)
        if (close < 0) return -1
        i = close + 1
        continue
      }
      continue
    }
    i++
  }
  return -1
}

type SelectVerdict = { kind: 'benign'; end: number } | { kind: 'risky' } | { kind: 'undecided' }

/**
 * Follows a `<select>` at `lt` to its end tag: benign when only harmless tags come before
 * `</select>`, risky at the first tag that could make lol-html bail out (or a comment, which could
 * hide the end tag from it), undecided when the bytes end first.
 */
function selectVerdict(buf: Uint8Array, lt: number, final: boolean): SelectVerdict {
  const more: SelectVerdict = final ? { kind: 'benign', end: buf.length } : { kind: 'undecided' }
  let j = tagEnd(buf, lt)
  if (j < 0) return more
  for (;;) {
    const q = buf.indexOf(LT, j)
    if (q < 0 || q + 1 >= buf.length) return more
    const c = buf[q + 1] as number
    // `<!…>` (comments, CDATA) and `<?…>` (a bogus comment to the tokenizer) can hide `</select>`.
    if (c === BANG || c === QUESTION) return { kind: 'risky' }
    if (c === SLASH) {
      const name = nameAt(buf, q + 2)
      if (name === undefined) return more
      const end = tagEnd(buf, q)
      if (end < 0) return more
      if (name === 'select') return { kind: 'benign', end }
      j = end
      continue
    }
    if (isNameByte(c) && c !== 0x2d && c !== 0x3a) {
      const name = nameAt(buf, q + 1)
      if (name === undefined) return more
      if (RISKY_IN_SELECT.has(name)) return { kind: 'risky' }
      const end = tagEnd(buf, q)
      if (end < 0) return more
      j = end
      continue
    }
    j = q + 1 // a `<` in text
  }
}

/** Where a run of more than {@link LONG_RUN_BYTES} without `>` starts in `buf[0, end)`, or -1. */
function longGap(buf: Uint8Array, end: number): number {
  let start = 0
  for (;;) {
    const gt = buf.indexOf(GT, start)
    const stop = gt < 0 || gt >= end ? end : gt
    if (stop - start > LONG_RUN_BYTES) return start
    if (stop === end) return -1
    start = gt + 1
  }
}

export type StopReason = 'select' | 'frameset' | 'long-token'

export interface Scan {
  /** Bytes from the start of `buf` that may go to the rewriter now. */
  feed: number
  /** Set when the rewrite must end after `feed` bytes: the rest goes out untouched. */
  stop?: StopReason
  /** A `<select>` or `<frameset>` was seen (the page may need this guard next time too). */
  marker: boolean
  /** Where in `buf` the next scan must start: everything before it has been judged. */
  next: number
}

/**
 * Scans `buf`, the bytes not yet given to the rewriter (`final`: no more will come), from `from`
 * (earlier bytes were judged by a previous scan). Holds back what cannot be judged yet: the bytes
 * after the last `>` (an unfinished tag, or the start of a long token) and a `<select>` whose end
 * has not arrived. Linear in the bytes scanned.
 */
export function scanForRisk(buf: Uint8Array, final: boolean, from = 0): Scan {
  let marker = false
  let hold = buf.length
  let i = from
  for (;;) {
    const p = buf.indexOf(LT, i)
    if (p < 0) break
    if (p + 1 >= buf.length) {
      if (!final) hold = p // `<` as the last byte: the name comes with the next chunk
      break
    }
    const c = (buf[p + 1] as number) | 0x20
    if (c === 0x73 /* s */ || c === 0x66 /* f */) {
      const name = nameAt(buf, p + 1)
      if (name === undefined && !final) {
        hold = p
        break
      }
      if (name === 'frameset') return { feed: p, stop: 'frameset', marker: true, next: p }
      if (name === 'select') {
        marker = true
        const v = selectVerdict(buf, p, final)
        if (v.kind === 'risky') return { feed: p, stop: 'select', marker, next: p }
        if (v.kind === 'undecided') {
          if (buf.length - p > SELECT_LOOKAHEAD_BYTES) return { feed: p, stop: 'select', marker, next: p }
          hold = p
          break
        }
        i = v.end
        continue
      }
    }
    i = p + 1
  }
  // A chunk bigger than the cap (a stream made in JavaScript) may hold a whole huge token.
  if (hold > LONG_RUN_BYTES) {
    const gap = longGap(buf, hold)
    if (gap >= 0) return { feed: gap, stop: 'long-token', marker, next: gap }
  }
  if (final) return { feed: buf.length, marker, next: buf.length }
  const afterGt = hold === 0 ? 0 : buf.lastIndexOf(GT, hold - 1) + 1
  if (hold - afterGt > LONG_RUN_BYTES) return { feed: afterGt, stop: 'long-token', marker, next: afterGt }
  return { feed: afterGt, marker, next: hold }
}
