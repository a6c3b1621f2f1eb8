/**
 * The editor's draft (issue 15): the document the visual editor's "Save" writes to, in KV under
 * `ruleset:draft`, until "Publish" validates it and publishes it with the usual history
 * (`admin/versions.ts`) or "Discard" drops it. Visitors never see a draft.
 */
export const DRAFT_KEY = 'ruleset:draft'
/** A draft keeps the last this many change summaries. */
const MAX_EDITS = 50

export interface Draft {
  /** The active version the draft started from, when there was one. */
  base?: string
  /** The whole ruleset document, as JSON text. */
  text: string
  /** One line per saved change, oldest first. */
  edits: string[]
  savedAt: string
}

function isDraft(v: unknown): v is Draft {
  if (typeof v !== 'object' || v === null) return false
  const d = v as Record<string, unknown>
  return (
    typeof d.text === 'string' &&
    typeof d.savedAt === 'string' &&
    Array.isArray(d.edits) &&
    d.edits.every((e) => typeof e === 'string') &&
    (d.base === undefined || typeof d.base === 'string')
  )
}

/** The stored draft, or undefined when there is none (or it is unreadable: then it is ignored). */
export async function readDraft(kv: KVNamespace): Promise<Draft | undefined> {
  const text = await kv.get(DRAFT_KEY, 'text')
  if (text === null) return undefined
  try {
    const v: unknown = JSON.parse(text)
    return isDraft(v) ? v : undefined
  } catch {
    return undefined
  }
}

export async function writeDraft(kv: KVNamespace, draft: Draft): Promise<void> {
  await kv.put(DRAFT_KEY, JSON.stringify({ ...draft, edits: draft.edits.slice(-MAX_EDITS) }))
}

export async function deleteDraft(kv: KVNamespace): Promise<void> {
  await kv.delete(DRAFT_KEY)
}
