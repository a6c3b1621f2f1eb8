import { escapeHtml } from '../rewrite/template'
import type { CatalogItemDoc } from './catalog'
import { isSafeUrl } from './url'

/**
 * The `recommend` operation's item template: `{{item.<field>}}` placeholders, compiled once per
 * ruleset version. Every value is HTML-escaped (text and quoted attributes alike); `url` and
 * `image` must pass {@link isSafeUrl} or the item is not rendered. A placeholder right after `=`
 * (an unquoted attribute value) is refused on publish: escaping cannot keep a space out of it.
 */
export const ITEM_FIELDS = ['id', 'title', 'url', 'image', 'category', 'price'] as const
export type ItemField = (typeof ITEM_FIELDS)[number]

/** Compiled parts: a string is literal HTML, `{ field }` a placeholder. */
export type ItemTemplateParts = readonly (string | { field: ItemField })[]

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g
const URL_FIELDS: ReadonlySet<ItemField> = new Set(['url', 'image'])

export function compileItemTemplate(value: string): { parts: ItemTemplateParts; problems: string[] } {
  const parts: (string | { field: ItemField })[] = []
  const problems: string[] = []
  let last = 0
  for (const m of value.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? ''
    const field = name.startsWith('item.') ? name.slice(5) : undefined
    if (field === undefined || !(ITEM_FIELDS as readonly string[]).includes(field)) {
      problems.push(`unknown placeholder "{{${name}}}": a recommend template takes {{item.${ITEM_FIELDS.join('}}, {{item.')}}}`)
    } else if (/=\s*$/.test(value.slice(0, m.index))) {
      problems.push(`{{${name}}} is an unquoted attribute value: put it in quotes, e.g. href="{{${name}}}"`)
    } else {
      if (m.index > last) parts.push(value.slice(last, m.index))
      parts.push({ field: field as ItemField })
    }
    last = m.index + m[0].length
  }
  if (last < value.length) parts.push(value.slice(last))
  return { parts, problems }
}

/** One item through the template; undefined when a URL it uses is not safe to render. */
export function renderItem(parts: ItemTemplateParts, item: CatalogItemDoc): string | undefined {
  let out = ''
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p
      continue
    }
    const v = item[p.field]
    const text = v === undefined ? '' : String(v)
    if (URL_FIELDS.has(p.field) && text !== '' && !isSafeUrl(text)) return undefined
    out += escapeHtml(text)
  }
  return out
}
