import { attributeKeys, lookup } from '../rules/conditions'
import { joinPath, type RulesetIssue } from '../rules/errors'

/**
 * `{{attribute}}` placeholders in operation values. Compiled once per ruleset version into
 * literal and attribute parts; filled per request with every attribute value escaped for where
 * it lands (HTML text, or an attribute value). `visitor.id` may never be rendered.
 */
export type Template = readonly (string | readonly string[])[]

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g
const FORBIDDEN = new Set(['visitor.id'])

export function compileTemplate(value: string, path: string, issues: RulesetIssue[]): Template {
  const parts: (string | string[])[] = []
  let last = 0
  for (const m of value.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? ''
    const keys = attributeKeys(name)
    if (keys === undefined || FORBIDDEN.has(name)) {
      issues.push({
        path: joinPath(path, 'value'),
        message: FORBIDDEN.has(name)
          ? `{{${name}}} may not be rendered into a page`
          : `unknown placeholder attribute "{{${name}}}"`,
      })
    } else {
      if (m.index > last) parts.push(value.slice(last, m.index))
      parts.push(keys)
    }
    last = m.index + m[0].length
  }
  if (last < value.length) parts.push(value.slice(last))
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

/**
 * Fills a template. `escapeValue` applies to attribute values only: literal parts are the ruleset
 * author's own HTML. Pass `identity` where the sink escapes by itself (setText).
 */
export function fillTemplate(t: Template, ctx: object, escapeValue: (s: string) => string): string {
  if (t.length === 1 && typeof t[0] === 'string') return t[0]
  let out = ''
  for (const part of t) out += typeof part === 'string' ? part : escapeValue(render(lookup(ctx, part)))
  return out
}
