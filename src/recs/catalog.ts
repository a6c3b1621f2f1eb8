import { z } from 'zod'
import { isSafeUrl } from './url'

/**
 * The item catalog for recommendations (SPEC 13): KV key `catalog`, `{ version, items }`.
 * Validated on publish (zod; exported as JSON Schema to `schema/catalog.schema.json`); every
 * published version is also kept under `catalog:v:<version>`.
 */
export const CATALOG_KEY = 'catalog'
export const catalogVersionKey = (version: string): string => `catalog:v:${version}`
/** Items per catalog: the model holds each with its neighbours in one KV value. */
export const MAX_CATALOG_ITEMS = 20_000
/** Body limit of `PUT api/catalog`. */
export const MAX_CATALOG_BYTES = 5 * 1024 * 1024

/** Item ids: what `settings.items` extracts from a path and what `veneer_visitor` keeps. */
export const ItemId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'item ids are letters, digits, "_", "-", ".", ":" (at most 64)')

const Url = z.string().max(2000).refine(isSafeUrl, 'a URL is http(s) or relative, without spaces or control characters')

export const CatalogItem = z.strictObject({
  id: ItemId,
  title: z.string().min(1).max(500),
  url: Url,
  image: Url.optional(),
  category: z.string().min(1).max(100).optional(),
  price: z.union([z.number().finite(), z.string().max(50)]).optional(),
})

export const CatalogDocument = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.union([z.string().min(1).max(100), z.number()]).optional(),
    items: z.array(CatalogItem).max(MAX_CATALOG_ITEMS),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>()
    doc.items.forEach((item, i) => {
      if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: ['items', i, 'id'], message: `duplicate item id "${item.id}"` })
      seen.add(item.id)
    })
  })

export type CatalogItemDoc = z.output<typeof CatalogItem>
export type CatalogDoc = z.output<typeof CatalogDocument>

export type CatalogValidation = { ok: true; doc: CatalogDoc } | { ok: false; issues: { path: string; message: string }[] }

/** Validates a parsed JSON value as a catalog; every problem with its JSON path. */
export function validateCatalog(input: unknown): CatalogValidation {
  const parsed = CatalogDocument.safeParse(input)
  if (parsed.success) return { ok: true, doc: parsed.data }
  return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) }
}

/** The catalog's JSON Schema, for editors (what an author may write). */
export function catalogJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(CatalogDocument, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://veneer.dev/schema/catalog.schema.json',
    title: 'Veneer recommendations catalog',
  }
}

/** Minimal KV surface, so the CLI can publish to local KV with the same code. */
export interface CatalogStore {
  get(key: string): Promise<string | null>
  put(key: string, value: string): Promise<void>
}

/**
 * Publishes a validated catalog: the version is the document's own, else `c<n>-<time>` with `n`
 * one more than the active one's. Written to `catalog:v:<version>` first, then `catalog` (one
 * value each, so a reader sees the old catalog or the new one, never a mix).
 */
export async function publishCatalog(
  store: CatalogStore,
  doc: CatalogDoc,
  at: Date = new Date(),
): Promise<{ version: string; previous?: string; items: number }> {
  const previous = activeCatalogVersion(await store.get(CATALOG_KEY))
  const version = doc.version === undefined ? nextCatalogVersion(previous, at) : String(doc.version)
  const { $schema: _schema, ...rest } = doc
  const text = JSON.stringify({ ...rest, version })
  await store.put(catalogVersionKey(version), text)
  await store.put(CATALOG_KEY, text)
  return previous === undefined ? { version, items: doc.items.length } : { version, previous, items: doc.items.length }
}

function activeCatalogVersion(text: string | null): string | undefined {
  if (text === null) return undefined
  try {
    const v: unknown = JSON.parse(text)
    const version = typeof v === 'object' && v !== null ? (v as { version?: unknown }).version : undefined
    return typeof version === 'string' || typeof version === 'number' ? String(version) : undefined
  } catch {
    return undefined
  }
}

function nextCatalogVersion(previous: string | undefined, at: Date): string {
  const n = Number(/^c(\d+)-/.exec(previous ?? '')?.[1] ?? 0) + 1
  return `c${n}-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}`
}

/** Reads and validates the stored catalog; undefined when absent or invalid. */
export function parseStoredCatalog(text: string | null): CatalogDoc | undefined {
  if (text === null) return undefined
  try {
    const v = validateCatalog(JSON.parse(text))
    return v.ok ? v.doc : undefined
  } catch {
    return undefined
  }
}
