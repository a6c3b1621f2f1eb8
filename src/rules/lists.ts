import type { TextStore } from '../admin/versions'
import { logWarn } from '../util/log'
import type { CompiledRuleset } from './compile'
import { ListName } from './schema'

/**
 * Saved id lists (`$inList: "<name>"`): sets of ids too long for `$in` (beta testers, accounts),
 * stored apart from the ruleset under KV key `list:<name>` as a JSON array of strings, published
 * with `PUT api/lists/:name` or `veneer lists push`. They are read with the ruleset (every
 * refresh) and looked up as a Set; a list that is missing or invalid matches nothing.
 */
export const listKey = (name: string): string => `list:${name}`

/** At most this many ids per list, each at most MAX_LIST_ITEM characters. */
export const MAX_LIST_ITEMS = 100_000
export const MAX_LIST_ITEM = 200
/** Stored text longer than this is refused unparsed (bounded CPU on refresh). */
export const MAX_LIST_CHARS = 4 * 1024 * 1024

export type ListParse = { ok: true; items: string[] } | { ok: false; message: string }

/** Checks a list name (the same rule as the schema's `$inList`). */
export function listNameProblem(name: string): string | undefined {
  const r = ListName.safeParse(name)
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'not a valid list name')
}

/** Validates list items: strings (numbers become strings), non-empty, bounded, deduplicated. */
export function listItems(value: unknown): ListParse {
  if (!Array.isArray(value)) return { ok: false, message: 'a list is a JSON array of ids' }
  if (value.length > MAX_LIST_ITEMS) return { ok: false, message: `a list holds at most ${MAX_LIST_ITEMS} ids` }
  const seen = new Set<string>()
  for (const [i, v] of value.entries()) {
    const id = typeof v === 'number' && Number.isFinite(v) ? String(v) : v
    if (typeof id !== 'string' || id === '' || id.length > MAX_LIST_ITEM)
      return { ok: false, message: `item ${i} is not an id (a string of 1 to ${MAX_LIST_ITEM} characters)` }
    seen.add(id)
  }
  return { ok: true, items: [...seen] }
}

/** A list file or body: a JSON array, or else one id per line (blank lines and `#` comments skipped). */
export function parseListText(text: string): ListParse {
  if (text.length > MAX_LIST_CHARS) return { ok: false, message: `a list is at most ${MAX_LIST_CHARS} characters` }
  const trimmed = text.trimStart()
  if (trimmed.startsWith('[')) {
    try {
      return listItems(JSON.parse(trimmed) as unknown)
    } catch {
      return { ok: false, message: 'not a valid JSON array' }
    }
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  return listItems(lines)
}

/** Publishes a list: validated, then written as a JSON array. */
export async function publishList(store: TextStore, name: string, text: string): Promise<ListParse> {
  const problem = listNameProblem(name)
  if (problem !== undefined) return { ok: false, message: problem }
  const parsed = parseListText(text)
  if (parsed.ok) await store.put(listKey(name), JSON.stringify(parsed.items))
  return parsed
}

/** What the store remembers of each list between refreshes, so an unchanged text is not parsed again. */
export type ListCache = Map<string, { text: string | null; set: ReadonlySet<string> }>

const EMPTY: ReadonlySet<string> = new Set()

/**
 * Reads every list `ruleset` refers to, in parallel, into its `lists` map. A list that cannot be
 * read keeps its last contents; one that is missing or invalid is empty (matches nothing).
 */
export async function loadLists(kv: KVNamespace, ruleset: CompiledRuleset, cache: ListCache): Promise<void> {
  const names = ruleset.listNames ?? []
  if (names.length === 0 || ruleset.lists === undefined) return
  const lists = ruleset.lists
  await Promise.all(
    names.map(async (name) => {
      let text: string | null
      try {
        text = await kv.get(listKey(name), 'text')
      } catch {
        const last = cache.get(name)
        if (last !== undefined) lists.set(name, last.set)
        return
      }
      const last = cache.get(name)
      if (last !== undefined && last.text === text) {
        lists.set(name, last.set)
        return
      }
      let set = EMPTY
      if (text !== null) {
        const parsed = parseListText(text)
        if (parsed.ok) set = new Set(parsed.items)
        else logWarn('list_invalid', { list: name, bytes: text.length })
      } else logWarn('list_missing', { list: name })
      cache.set(name, { text, set })
      lists.set(name, set)
    }),
  )
}
