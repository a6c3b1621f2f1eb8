/** One line of a diff: kept (` `), removed (`-`) or added (`+`). */
export interface DiffLine {
  kind: ' ' | '-' | '+'
  text: string
}

/** Past this many line pairs the LCS table is too big; the diff is then "all removed, all added". */
const MAX_CELLS = 25_000_000

/** A line diff by longest common subsequence, trimming the common head and tail first. */
export function lineDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const x = a.slice(head, a.length - tail)
  const y = b.slice(head, b.length - tail)
  const middle: DiffLine[] = []
  if (x.length * y.length > MAX_CELLS) {
    for (const t of x) middle.push({ kind: '-', text: t })
    for (const t of y) middle.push({ kind: '+', text: t })
  } else {
    const w = y.length + 1
    const lcs = new Uint32Array((x.length + 1) * w)
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) {
        lcs[i * w + j] =
          x[i] === y[j] ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0)
      }
    }
    let i = 0
    let j = 0
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        middle.push({ kind: ' ', text: x[i] as string })
        i++
        j++
      } else if (i < x.length && (j === y.length || (lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))) {
        middle.push({ kind: '-', text: x[i] as string }) // removals before additions, as diff(1) does
        i++
      } else {
        middle.push({ kind: '+', text: y[j] as string })
        j++
      }
    }
  }
  return [
    ...a.slice(0, head).map((text) => ({ kind: ' ' as const, text })),
    ...middle,
    ...a.slice(a.length - tail).map((text) => ({ kind: ' ' as const, text })),
  ]
}

/** A unified-style rendering with `context` lines around each change and `@@ line @@` headers. */
export function formatDiff(lines: readonly DiffLine[], context = 3): string {
  const changed = lines.map((l) => l.kind !== ' ')
  if (!changed.includes(true)) return ''
  const show = lines.map((_, i) => changed.slice(Math.max(0, i - context), i + context + 1).includes(true))
  const out: string[] = []
  let oldLine = 1
  let newLine = 1
  let inHunk = false
  lines.forEach((l, i) => {
    if (show[i]) {
      if (!inHunk) out.push(`@@ -${oldLine} +${newLine} @@`)
      inHunk = true
      out.push(`${l.kind}${l.text}`)
    } else inHunk = false
    if (l.kind !== '+') oldLine++
    if (l.kind !== '-') newLine++
  })
  return out.join('\n')
}

/** Pretty JSON of a ruleset for diffing, without the server-assigned `version`. */
export function comparableJson(text: string): string[] {
  const v: unknown = JSON.parse(text)
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const { version: _version, ...rest } = v as Record<string, unknown>
    return JSON.stringify(rest, null, 2).split('\n')
  }
  return JSON.stringify(v, null, 2).split('\n')
}
