/**
 * How deeply a ruleset document may nest (objects and arrays, the root counting 1). Conditions
 * nest through `$and`/`$or`/`$not`; 64 leaves room for ~28 levels of `$and`, far more than any
 * hand-written rule. Deeper documents are refused before validation, whose recursion (the
 * schema, the condition compiler, explain) would otherwise overflow the stack: a 500.
 */
export const MAX_DOCUMENT_DEPTH = 64

/** The path of the first place `value` nests deeper than `max`, or undefined. Iterative: no recursion. */
export function tooDeepAt(value: unknown, max: number = MAX_DOCUMENT_DEPTH): string | undefined {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 1, path: '' }]
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop() as { v: unknown; depth: number; path: string }
    if (typeof v !== 'object' || v === null) continue
    if (depth > max) return path
    for (const [k, child] of Object.entries(v)) {
      if (typeof child === 'object' && child !== null)
        stack.push({ v: child, depth: depth + 1, path: path === '' ? k : `${path}.${k}` })
    }
  }
  return undefined
}

/** The issue reported for a document nested too deeply. */
export function depthMessage(max: number = MAX_DOCUMENT_DEPTH): string {
  return `the document nests deeper than ${max} levels (conditions nest through $and, $or and $not)`
}
