/**
 * `$regex` syntax that JavaScript engines disagree on. Validation must give the same verdict in
 * Node (the CLI's `veneer validate`, Node 20's V8) and in workerd (a newer V8), so a pattern is
 * judged by these rules first and only then compiled: syntax newer than ES2018 that one engine
 * accepts and another refuses is refused everywhere, with a message saying what to use instead.
 */
const INLINE_MODIFIERS = /\(\?[a-zA-Z]*-?[a-zA-Z]*:/
const NAMED_GROUP = /\(\?<([A-Za-z_$][\w$]*)>/g

/** Why `pattern` is not portable, or undefined when every supported engine reads it the same way. */
export function regexPortabilityProblem(pattern: string): string | undefined {
  // Strip escapes and character classes first: `\(?i:` and `[(?i:]` are plain characters.
  const bare = pattern.replace(/\\./g, '_').replace(/\[(?:\\.|[^\]\\])*\]/g, '_')
  if (INLINE_MODIFIERS.test(bare.replace(/\(\?(?:[:=!]|<[=!])/g, '(')))
    return '$regex inline flags such as (?i:…) are not accepted (Node 20 refuses them, workerd accepts them): use "$options": "i"'
  const names = [...bare.matchAll(NAMED_GROUP)].map((m) => m[1])
  if (new Set(names).size !== names.length) return '$regex repeats a group name, which only newer engines accept'
  return undefined
}
