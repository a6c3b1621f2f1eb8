import type { SettingsDoc } from '../rules/schema'

/**
 * `settings.items` (SPEC 13): which page paths are item pages, and the item id in each. A
 * pattern is a literal path with one `:id`, e.g. `/products/:id`; compiled once per ruleset.
 */
export type ItemOfPath = (path: string) => string | undefined

const ID = '([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})'
const cache = new WeakMap<object, ItemOfPath>()
const none: ItemOfPath = () => undefined

export function compileItemPaths(patterns: readonly string[]): ItemOfPath {
  if (patterns.length === 0) return none
  const res = patterns.map((p) => {
    const [before = '', after = ''] = p.split(':id')
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    return new RegExp(`^${esc(before)}${ID}${esc(after)}$`)
  })
  return (path) => {
    for (const re of res) {
      const m = re.exec(path)
      if (m !== null) return m[1]
    }
    return undefined
  }
}

/** The item id of a page path under `settings.items`, if it is an item page. */
export function itemOfPath(settings: SettingsDoc, path: string): string | undefined {
  const items = settings.items
  if (items === undefined) return undefined
  let f = cache.get(items)
  if (f === undefined) {
    f = compileItemPaths(Array.isArray(items.path) ? items.path : [items.path])
    cache.set(items, f)
  }
  return f(path)
}

/** `list` with `item` moved to the end (most recent), at most `max` long. */
export function remember(list: readonly string[] | undefined, item: string, max: number): string[] {
  const out = (list ?? []).filter((i) => i !== item)
  out.push(item)
  return out.length > max ? out.slice(-max) : out
}
