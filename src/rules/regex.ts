/**
 * `$regex` without backtracking: the pattern (JavaScript syntax, no flags) is parsed here and run
 * as a Thompson NFA, every state advanced together one character at a time, so a test costs
 * O(input length × pattern size) whatever the pattern: `^(aa?)+$` and `a*a*a*a*a*a*b` cost the
 * same per character as `abc`. (Backtracking took 1.3–1.8 s for a 38-character query: issue 10.)
 *
 * What the engine has no linear-time answer for is refused at publish: backreferences and
 * lookaround. Everything else means exactly what it means to `RegExp` (a property test compares
 * the two): alternation, groups (capturing, `(?:)`, named), `* + ? {n} {n,} {n,m}` (greedy or
 * lazy: the same for a yes/no match), `.`, classes and ranges, `\d \w \s` and their negations,
 * `^ $ \b \B`, and the escapes `\t \n \v \f \r \0 \cX \xHH \uHHHH`. The verdict is this module's
 * own, so it is the same in Node (CLI, validate) and in the Worker.
 */

/** Bound on the compiled program; counted repetitions are expanded, so `(abc){100}` is 300 states. */
export const MAX_REGEX_STATES = 2000

type CharTest = (c: number) => boolean

type Ast =
  | { t: 'char'; test: CharTest }
  | { t: 'assert'; kind: 'start' | 'end' | 'word' | 'notWord' }
  | { t: 'seq'; items: Ast[] }
  | { t: 'alt'; alts: Ast[] }
  | { t: 'repeat'; min: number; max: number; body: Ast }

class Unsupported extends Error {}

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 /* _ */
const SPACES = new Set([9, 10, 11, 12, 13, 32, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff])
const isSpace = (c: number) => SPACES.has(c) || (c >= 0x2000 && c <= 0x200a)
const isDigit = (c: number) => c >= 48 && c <= 57
const isLineTerminator = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029

const exactly =
  (code: number): CharTest =>
  (c) =>
    c === code

class Parser {
  private i = 0
  constructor(private readonly src: string) {}

  parse(): Ast {
    const ast = this.alternation()
    if (this.i < this.src.length) throw new Unsupported('unbalanced parenthesis')
    return ast
  }

  private peek(offset = 0): string {
    return this.src[this.i + offset] ?? ''
  }

  private alternation(): Ast {
    const alts = [this.sequence()]
    while (this.peek() === '|') {
      this.i++
      alts.push(this.sequence())
    }
    return alts.length === 1 ? (alts[0] as Ast) : { t: 'alt', alts }
  }

  private sequence(): Ast {
    const items: Ast[] = []
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom()
      items.push(this.quantified(atom))
    }
    return { t: 'seq', items }
  }

  /** `{n}`, `{n,}`, `{n,m}` at the cursor, or undefined (then `{` is a literal, as in Annex B). */
  private braces(): { min: number; max: number; length: number } | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i))
    if (m === null) return undefined
    const min = Number(m[1])
    const max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3])
    return { min, max, length: m[0].length }
  }

  private quantified(atom: Ast): Ast {
    let min: number
    let max: number
    const ch = this.peek()
    if (ch === '*') [min, max] = [0, Number.POSITIVE_INFINITY]
    else if (ch === '+') [min, max] = [1, Number.POSITIVE_INFINITY]
    else if (ch === '?') [min, max] = [0, 1]
    else if (ch === '{') {
      const b = this.braces()
      if (b === undefined) return atom
      ;[min, max] = [b.min, b.max]
      this.i += b.length - 1
    } else return atom
    this.i++
    if (this.peek() === '?') this.i++ // lazy: the same yes/no answer
    if (min > 1000 || (max !== Number.POSITIVE_INFINITY && max > 1000)) throw new Unsupported('a repetition count over 1000')
    return { t: 'repeat', min, max, body: atom }
  }

  private atom(): Ast {
    const ch = this.peek()
    this.i++
    switch (ch) {
      case '(': {
        if (this.peek() === '?') {
          const kind = this.src.slice(this.i, this.i + 3)
          if (kind.startsWith('?:')) this.i += 2
          else if (kind.startsWith('?=') || kind.startsWith('?!') || kind === '?<=' || kind === '?<!')
            throw new Unsupported('lookahead and lookbehind')
          else if (kind.startsWith('?<')) {
            const close = this.src.indexOf('>', this.i)
            if (close < 0) throw new Unsupported('a malformed group name')
            this.i = close + 1
          } else throw new Unsupported('this group syntax')
        }
        const body = this.alternation()
        if (this.peek() !== ')') throw new Unsupported('unbalanced parenthesis')
        this.i++
        return body
      }
      case '[':
        return this.charClass()
      case '.':
        return { t: 'char', test: (c) => !isLineTerminator(c) }
      case '^':
        return { t: 'assert', kind: 'start' }
      case '$':
        return { t: 'assert', kind: 'end' }
      case '\\':
        return this.escape()
      default:
        return { t: 'char', test: exactly(ch.charCodeAt(0)) }
    }
  }

  /** Escapes valid both outside and inside a class; undefined for the ones that differ. */
  private commonEscape(ch: string): CharTest | undefined {
    switch (ch) {
      case 'd':
        return isDigit
      case 'D':
        return (c) => !isDigit(c)
      case 'w':
        return isWordChar
      case 'W':
        return (c) => !isWordChar(c)
      case 's':
        return isSpace
      case 'S':
        return (c) => !isSpace(c)
      case 't':
        return exactly(9)
      case 'n':
        return exactly(10)
      case 'v':
        return exactly(11)
      case 'f':
        return exactly(12)
      case 'r':
        return exactly(13)
    }
    return undefined
  }

  /** The code unit of a `\0`, `\cX`, `\xHH`, `\uHHHH` or identity escape (cursor after `ch`). */
  private codeEscape(ch: string): number {
    if (ch === '0') {
      if (isDigit(this.peek().charCodeAt(0))) throw new Unsupported('octal escapes')
      return 0
    }
    if (/[1-9]/.test(ch)) throw new Unsupported('backreferences')
    if (ch === 'k') throw new Unsupported('backreferences')
    if (ch === 'c') {
      const letter = this.peek()
      if (!/[A-Za-z]/.test(letter)) throw new Unsupported('this \\c escape')
      this.i++
      return letter.charCodeAt(0) % 32
    }
    if (ch === 'x' && /^[0-9A-Fa-f]{2}/.test(this.src.slice(this.i, this.i + 2))) {
      this.i += 2
      return Number.parseInt(this.src.slice(this.i - 2, this.i), 16)
    }
    if (ch === 'u' && /^[0-9A-Fa-f]{4}/.test(this.src.slice(this.i, this.i + 4))) {
      this.i += 4
      return Number.parseInt(this.src.slice(this.i - 4, this.i), 16)
    }
    return ch.charCodeAt(0) // identity escape: `\.`, `\/`, and (no `u` flag) `\p`, `\u{`, …
  }

  private escape(): Ast {
    const ch = this.peek()
    this.i++
    if (ch === 'b') return { t: 'assert', kind: 'word' }
    if (ch === 'B') return { t: 'assert', kind: 'notWord' }
    const common = this.commonEscape(ch)
    if (common !== undefined) return { t: 'char', test: common }
    return { t: 'char', test: exactly(this.codeEscape(ch)) }
  }

  /** One class member at the cursor: a single code unit, or a set (`\d` …). */
  private classAtom(): { code: number } | { test: CharTest } {
    const ch = this.peek()
    this.i++
    if (ch !== '\\') return { code: ch.charCodeAt(0) }
    const e = this.peek()
    this.i++
    if (e === 'b') return { code: 8 } // backspace inside a class
    if (e === '-') return { code: 45 }
    const common = this.commonEscape(e)
    if (common !== undefined) {
      // \t \n \v \f \r are single characters (they may start a range); the others are sets.
      const single = { t: 9, n: 10, v: 11, f: 12, r: 13 }[e as 't']
      return single === undefined ? { test: common } : { code: single }
    }
    return { code: this.codeEscape(e) }
  }

  private charClass(): Ast {
    let negate = false
    if (this.peek() === '^') {
      negate = true
      this.i++
    }
    const tests: CharTest[] = []
    while (this.peek() !== ']') {
      if (this.i >= this.src.length) throw new Unsupported('an unterminated class')
      const from = this.classAtom()
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        const save = this.i
        this.i++
        const to = this.classAtom()
        if ('code' in from && 'code' in to) {
          const [lo, hi] = [from.code, to.code]
          tests.push((c) => c >= lo && c <= hi)
          continue
        }
        this.i = save // `\d-x` (Annex B): the `-` is literal
      }
      tests.push('code' in from ? exactly(from.code) : from.test)
    }
    this.i++
    const any = (c: number) => tests.some((t) => t(c))
    return { t: 'char', test: negate ? (c) => !any(c) : any }
  }
}

type Node =
  | { t: 'char'; test: CharTest; next: number }
  | { t: 'split'; a: number; b: number }
  | { t: 'assert'; kind: 'start' | 'end' | 'word' | 'notWord'; next: number }
  | { t: 'match' }

class TooBig extends Error {}

/** Thompson construction, back to front: `emit(ast, next)` returns the state that leads to `next`. */
function compileProgram(ast: Ast): { nodes: Node[]; start: number } {
  const nodes: Node[] = [{ t: 'match' }]
  const push = (n: Node) => {
    if (nodes.length >= MAX_REGEX_STATES) throw new TooBig()
    nodes.push(n)
    return nodes.length - 1
  }
  const emit = (a: Ast, next: number): number => {
    switch (a.t) {
      case 'char':
        return push({ t: 'char', test: a.test, next })
      case 'assert':
        return push({ t: 'assert', kind: a.kind, next })
      case 'seq': {
        let n = next
        for (let i = a.items.length - 1; i >= 0; i--) n = emit(a.items[i] as Ast, n)
        return n
      }
      case 'alt': {
        const starts = a.alts.map((alt) => emit(alt, next))
        let s = starts[starts.length - 1] as number
        for (let i = starts.length - 2; i >= 0; i--) s = push({ t: 'split', a: starts[i] as number, b: s })
        return s
      }
      case 'repeat': {
        let tail = next
        if (a.max === Number.POSITIVE_INFINITY) {
          const loop = push({ t: 'split', a: -1, b: next })
          ;(nodes[loop] as { a: number }).a = emit(a.body, loop)
          tail = loop
        } else {
          for (let k = 0; k < a.max - a.min; k++) tail = push({ t: 'split', a: emit(a.body, tail), b: next })
        }
        for (let k = 0; k < a.min; k++) tail = emit(a.body, tail)
        return tail
      }
    }
  }
  const start = emit(ast, 0)
  return { nodes, start }
}

/** A compiled `$regex`: `test` as `RegExp.prototype.test`, in linear time. */
export interface LinearRegex {
  test(input: string): boolean
}

export type RegexCompile = { ok: true; regex: LinearRegex } | { ok: false; problem: string }

/** The same character, in the other case (JavaScript's simple case mapping), or itself. */
function caseVariants(c: number): [number, number] {
  const ch = String.fromCharCode(c)
  const lower = ch.toLowerCase()
  const upper = ch.toUpperCase()
  return [lower.length === 1 ? lower.charCodeAt(0) : c, upper.length === 1 ? upper.charCodeAt(0) : c]
}

/** `ast` with every character test made case-insensitive (the `i` flag, `$options: "i"`). */
function ignoringCase(ast: Ast): Ast {
  switch (ast.t) {
    case 'char': {
      const test = ast.test
      return {
        t: 'char',
        test: (c) => {
          if (test(c)) return true
          const [lower, upper] = caseVariants(c)
          return (lower !== c && test(lower)) || (upper !== c && test(upper))
        },
      }
    }
    case 'seq':
      return { t: 'seq', items: ast.items.map(ignoringCase) }
    case 'alt':
      return { t: 'alt', alts: ast.alts.map(ignoringCase) }
    case 'repeat':
      return { ...ast, body: ignoringCase(ast.body) }
    default:
      return ast
  }
}

/**
 * Compiles a pattern already known to be valid JavaScript (the caller tried `new RegExp`).
 * `ignoreCase` is the `i` flag: a character matches when it or its other case does.
 */
export function compileLinearRegex(pattern: string, options: { ignoreCase?: boolean } = {}): RegexCompile {
  let program: { nodes: Node[]; start: number }
  try {
    const ast = new Parser(pattern).parse()
    program = compileProgram(options.ignoreCase === true ? ignoringCase(ast) : ast)
  } catch (err) {
    if (err instanceof TooBig)
      return { ok: false, problem: `$regex is too large once its repetitions are expanded (over ${MAX_REGEX_STATES} states)` }
    if (err instanceof Unsupported)
      return { ok: false, problem: `$regex uses ${err.message}, which cannot be matched in linear time` }
    throw err
  }
  const { nodes, start } = program
  const size = nodes.length
  return {
    ok: true,
    regex: {
      test(input: string): boolean {
        const n = input.length
        const mark = new Int32Array(size).fill(-1)
        let gen = 0
        let current: number[] = []
        let next: number[] = []
        let matched = false
        const wordAt = (p: number) => p >= 0 && p < n && isWordChar(input.charCodeAt(p))
        // Adds state `s` and everything reachable from it without reading a character.
        const add = (list: number[], s: number, pos: number) => {
          const stack = [s]
          while (stack.length > 0) {
            const id = stack.pop() as number
            if (mark[id] === gen) continue
            mark[id] = gen
            const node = nodes[id] as Node
            switch (node.t) {
              case 'match':
                matched = true
                break
              case 'char':
                list.push(id)
                break
              case 'split':
                stack.push(node.b, node.a)
                break
              case 'assert': {
                const ok =
                  node.kind === 'start'
                    ? pos === 0
                    : node.kind === 'end'
                      ? pos === n
                      : (wordAt(pos - 1) !== wordAt(pos)) === (node.kind === 'word')
                if (ok) stack.push(node.next)
              }
            }
          }
        }
        add(current, start, 0)
        for (let pos = 0; pos < n && !matched; pos++) {
          const c = input.charCodeAt(pos)
          gen++
          next.length = 0
          for (const id of current) {
            const node = nodes[id] as { test: CharTest; next: number }
            if (node.test(c)) add(next, node.next, pos + 1)
          }
          add(next, start, pos + 1) // unanchored: a match may start at any position
          ;[current, next] = [next, current]
        }
        return matched
      },
    },
  }
}
