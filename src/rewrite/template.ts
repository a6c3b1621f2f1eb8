import { hasControlChar } from '../http/origin'
import { attributeKeys, lookup } from '../rules/conditions'
import { joinPath, type RulesetIssue } from '../rules/errors'

/**
 * `{{attribute}}` placeholders in operation values. Compiled once per ruleset version into
 * literal and attribute parts; filled per request with every attribute value escaped for where
 * it lands. `visitor.id` may never be rendered.
 *
 * Escaping alone is not enough for every place in HTML (issue 10): a browser decodes `&#39;` in
 * `onclick="f('{{x}}')"` before running it, and `href="{{x}}"` runs `javascript:`. So where a
 * placeholder lands is decided at compile time (publish):
 * - refused: inside `<script>` or `<style>`, in an event handler (`on*`), `style` or `srcdoc`
 *   attribute, in an unquoted attribute value, in a tag itself (name, attribute names), in `<meta>`;
 * - URL attributes (`href`, `src`, `action`, `formaction`, …): the whole filled value must be
 *   http(s), relative, `mailto:` or `tel:` at render ({@link isSafeUrl}), else it is left empty;
 * - everywhere else (text, other quoted attributes): HTML-escaped.
 */
export type Template = readonly TemplatePart[]
/** A literal, a placeholder (its attribute keys), or a URL attribute value checked as a whole. */
export type TemplatePart = string | readonly string[] | UrlValue
export interface UrlValue {
  url: readonly (string | readonly string[])[]
}

/** Where an operation puts its value: text (setText), HTML (setHtml, append, …) or one attribute (setAttr). */
export type TemplateSink = { kind: 'text' } | { kind: 'html' } | { kind: 'attr'; name: string }

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g
const FORBIDDEN = new Set(['visitor.id'])

/** Attributes whose value is a URL (or a list of them) a browser may navigate to, load or submit to. */
const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'poster',
  'cite',
  'data',
  'background',
  'longdesc',
  'codebase',
  'classid',
  'manifest',
  'icon',
  'profile',
  'usemap',
  'xlink:href',
  'srcset',
  'ping',
  'archive',
  'lowsrc',
  'dynsrc',
])

/** Why a placeholder may not stand in attribute `name`, or undefined. */
function attributeProblem(name: string): string | undefined {
  const n = name.toLowerCase()
  if (n.startsWith('on')) return `a placeholder may not stand in the event handler attribute "${name}" (it would run as script)`
  if (n === 'style') return 'a placeholder may not stand in a style attribute (CSS can load URLs and hide or fake content)'
  if (n === 'srcdoc') return 'a placeholder may not stand in srcdoc (its value is a whole HTML document)'
  return undefined
}

export const isUrlAttribute = (name: string): boolean => URL_ATTRIBUTES.has(name.toLowerCase())

const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel'])

/**
 * Whether a URL attribute value is http(s), relative, `mailto:` or `tel:`, read the way a
 * browser's URL parser reads it: leading and trailing controls and spaces stripped, tab/CR/LF
 * dropped anywhere (`java\tscript:` is `javascript:`); any other control character is refused.
 */
export function isSafeUrl(value: string): boolean {
  const v = value.replace(/^[\s\p{Cc}]+|[\s\p{Cc}]+$/gu, '').replace(/[\t\n\r]/g, '')
  if (hasControlChar(v)) return false
  const colon = v.indexOf(':')
  if (colon < 0) return true
  const before = v.slice(0, colon)
  // A colon after `/`, `?` or `#` is in a path, query or fragment; text that is not a scheme
  // before it makes the whole value a relative path.
  if (/[/?#]/.test(before) || !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(before)) return true
  return SAFE_SCHEMES.has(before.toLowerCase())
}

// Elements whose content is raw text: no tags inside until their end tag. Placeholders are refused
// in the ones that execute (script, style); in the others an escaped value is inert text.
const RAW_TEXT = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title'])
const EXECUTES = new Set(['script', 'style'])

type State =
  | 'data'
  | 'tagName'
  | 'endTag'
  | 'inTag'
  | 'attrName'
  | 'afterAttrName'
  | 'beforeValue'
  | 'valueDq'
  | 'valueSq'
  | 'valueUnq'
  | 'rawText'
  | 'comment'
  | 'bogus'

/**
 * A small HTML tokenizer over the literal parts of a template, enough to tell where each
 * placeholder lands (the HTML standard's states, without entities or error recovery).
 */
class HtmlScanner {
  state: State = 'data'
  tag = ''
  attr = ''
  rawTag = ''
  private text = ''
  private at = 0

  /** Feeds literal text; `onValueEdge` is told where a quoted attribute value opens or closes. */
  feed(text: string, onValueEdge: (offset: number, edge: 'open' | 'close') => void): void {
    this.text = text
    for (this.at = 0; this.at < text.length; this.at++) {
      const ch = text[this.at] as string
      const before = this.state
      this.step(ch)
      if ((before === 'beforeValue' || before === 'afterAttrName') && (this.state === 'valueDq' || this.state === 'valueSq'))
        onValueEdge(this.at + 1, 'open')
      else if ((before === 'valueDq' || before === 'valueSq') && this.state === 'inTag') onValueEdge(this.at, 'close')
    }
  }

  private rest(n: number): string {
    return this.text.slice(this.at, this.at + n)
  }

  private endOfTag(): void {
    const name = this.tag.toLowerCase()
    if (RAW_TEXT.has(name)) {
      this.rawTag = name
      this.state = 'rawText'
    } else this.state = 'data'
  }

  private step(ch: string): void {
    const space = /\s/.test(ch)
    switch (this.state) {
      case 'data':
        if (ch === '<') {
          const next = this.text[this.at + 1] ?? ''
          // `<` right before a placeholder: the placeholder would name the tag (`<{{x}}>`).
          if (next === '' || /[A-Za-z]/.test(next)) {
            this.state = 'tagName'
            this.tag = ''
          } else if (next === '/') {
            this.state = 'endTag'
            this.at++
          } else if (this.rest(4) === '<!--') {
            this.state = 'comment'
            this.at += 3
          } else if (next === '!' || next === '?') this.state = 'bogus'
        }
        return
      case 'tagName':
        if (space || ch === '/') this.state = 'inTag'
        else if (ch === '>') this.endOfTag()
        else this.tag += ch
        return
      case 'endTag':
      case 'bogus':
        if (ch === '>') this.state = 'data'
        return
      case 'comment':
        if (this.rest(3) === '-->') {
          this.state = 'data'
          this.at += 2
        }
        return
      case 'inTag':
        if (ch === '>') this.endOfTag()
        else if (!space && ch !== '/') {
          this.state = 'attrName'
          this.attr = ch
        }
        return
      case 'attrName':
        if (ch === '=') this.state = 'beforeValue'
        else if (space) this.state = 'afterAttrName'
        else if (ch === '>') this.endOfTag()
        else if (ch === '/') this.state = 'inTag'
        else this.attr += ch
        return
      case 'afterAttrName':
        if (ch === '=') this.state = 'beforeValue'
        else if (ch === '>') this.endOfTag()
        else if (!space && ch !== '/') {
          this.state = 'attrName'
          this.attr = ch
        }
        return
      case 'beforeValue':
        if (ch === '"') this.state = 'valueDq'
        else if (ch === "'") this.state = 'valueSq'
        else if (ch === '>') this.endOfTag()
        else if (!space) this.state = 'valueUnq'
        return
      case 'valueDq':
        if (ch === '"') this.state = 'inTag'
        return
      case 'valueSq':
        if (ch === "'") this.state = 'inTag'
        return
      case 'valueUnq':
        if (space) this.state = 'inTag'
        else if (ch === '>') this.endOfTag()
        return
      case 'rawText':
        if (ch === '<' && this.rest(2 + this.rawTag.length).toLowerCase() === `</${this.rawTag}`) {
          const after = this.text[this.at + 2 + this.rawTag.length] ?? ''
          if (after === '' || /[\s/>]/.test(after)) {
            this.state = 'endTag'
            this.at += 1 + this.rawTag.length
          }
        }
        return
    }
  }

  /** Why a placeholder may not stand here, or undefined when it may (escaped). */
  problem(): string | undefined {
    switch (this.state) {
      case 'data':
      case 'comment':
      case 'bogus':
        return undefined
      case 'rawText':
        return EXECUTES.has(this.rawTag) ? `a placeholder may not stand inside <${this.rawTag}>` : undefined
      case 'valueDq':
      case 'valueSq':
        if (this.tag.toLowerCase() === 'meta') return 'a placeholder may not stand in a <meta> tag'
        return attributeProblem(this.attr)
      case 'valueUnq':
      case 'beforeValue':
        return 'a placeholder in an attribute value needs quotes around the value'
      default:
        return 'a placeholder may not stand inside a tag, only in text or in a quoted attribute value'
    }
  }
}

function placeholderKeys(name: string, path: string, issues: RulesetIssue[]): string[] | undefined {
  const keys = attributeKeys(name)
  if (keys === undefined || FORBIDDEN.has(name)) {
    issues.push({
      path: joinPath(path, 'value'),
      message: FORBIDDEN.has(name)
        ? `{{${name}}} may not be rendered into a page`
        : `unknown placeholder attribute "{{${name}}}"`,
    })
    return undefined
  }
  return keys
}

/**
 * Compiles an operation value for its sink; problems are pushed to `issues` at `<path>.value`.
 * A value without placeholders is the author's own text or HTML and is kept as it is.
 */
export function compileTemplate(
  value: string,
  path: string,
  issues: RulesetIssue[],
  sink: TemplateSink = { kind: 'html' },
): Template {
  const matches = [...value.matchAll(PLACEHOLDER)]
  if (matches.length === 0) return value === '' ? [] : [value]
  const valuePath = joinPath(path, 'value')
  if (sink.kind === 'attr') {
    const problem = attributeProblem(sink.name)
    if (problem !== undefined) {
      issues.push({ path: valuePath, message: problem })
      return []
    }
  }
  const parts: (string | readonly string[] | UrlValue)[] = []
  const scanner = sink.kind === 'html' ? new HtmlScanner() : undefined
  // A URL attribute value being collected (from the part index where it starts), with whether it holds a placeholder.
  let urlStart: number | undefined
  let urlHasSlot = false
  const closeUrl = () => {
    if (urlStart !== undefined && urlHasSlot) {
      const url = parts.splice(urlStart) as (string | readonly string[])[]
      parts.push({ url })
    }
    urlStart = undefined
    urlHasSlot = false
  }
  const literal = (text: string) => {
    if (scanner === undefined) {
      if (text !== '') parts.push(text)
      return
    }
    let from = 0
    scanner.feed(text, (offset, edge) => {
      if (offset > from) parts.push(text.slice(from, offset))
      from = offset
      if (edge === 'open') {
        urlStart = isUrlAttribute(scanner.attr) ? parts.length : undefined
        urlHasSlot = false
      } else closeUrl()
    })
    if (from < text.length) parts.push(text.slice(from))
  }
  let last = 0
  for (const m of matches) {
    literal(value.slice(last, m.index))
    last = m.index + m[0].length
    const keys = placeholderKeys(m[1] ?? '', path, issues)
    if (keys === undefined) continue
    const problem = scanner?.problem()
    if (problem !== undefined) {
      issues.push({ path: valuePath, message: problem })
      continue
    }
    parts.push(keys)
    if (urlStart !== undefined) urlHasSlot = true
  }
  literal(value.slice(last))
  closeUrl()
  if (sink.kind === 'attr' && isUrlAttribute(sink.name)) return [{ url: parts as (string | readonly string[])[] }]
  return parts
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for HTML content and quoted attribute values alike. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string)
}

function render(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return v.filter((x) => typeof x !== 'object').join(', ')
  return '' // objects are not rendered
}

/** True when a template holds a placeholder, i.e. request data. */
export function isTemplated(t: Template): boolean {
  return t.some((p) => typeof p !== 'string')
}

function fillUrl(u: UrlValue, ctx: object, escapeValue: (s: string) => string): string {
  const values = u.url.map((p) => (typeof p === 'string' ? p : render(lookup(ctx, p))))
  if (!isSafeUrl(values.join(''))) return ''
  return values.map((v, i) => (typeof u.url[i] === 'string' ? v : escapeValue(v))).join('')
}

/**
 * Fills a template. `escapeValue` applies to attribute values only: literal parts are the ruleset
 * author's own HTML. Pass `identity` where the sink escapes by itself (setText).
 */
export function fillTemplate(t: Template, ctx: object, escapeValue: (s: string) => string): string {
  if (t.length === 1 && typeof t[0] === 'string') return t[0]
  let out = ''
  for (const part of t) {
    if (typeof part === 'string') out += part
    else if ('url' in part) out += fillUrl(part, ctx, escapeValue)
    else out += escapeValue(render(lookup(ctx, part)))
  }
  return out
}
