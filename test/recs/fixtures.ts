import type { CatalogItemDoc } from '../../src/recs/catalog'
import type { RecsModelDoc } from '../../src/recs/model'
import { indexModel } from '../../src/recs/model-codec'
import type { RecsIndex } from '../../src/recs/model-index'

/** 40 items in 4 categories (`c0`…`c3`), `i0`…`i39`; item `iN` is in category `c(N % 4)`. */
export function items(n = 40): CatalogItemDoc[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `i${i}`,
    title: `Item ${i}`,
    url: `/products/i${i}`,
    category: `c${i % 4}`,
    price: 10 + i,
  }))
}

/** A model document: popular is i0…i39 in order; i0's neighbours are i1…i10 (best first). */
export function modelDoc(over: Partial<RecsModelDoc> = {}): RecsModelDoc {
  const list = items()
  const popularByCategory: Record<string, string[]> = {}
  for (const it of list) (popularByCategory[it.category as string] ??= []).push(it.id)
  return {
    version: 'm-test',
    builtAt: '2026-11-30T00:00:00.000Z',
    catalogVersion: 'c1',
    items: list,
    alsoViewed: {
      i0: Array.from({ length: 10 }, (_, k) => [`i${k + 1}`, 1 - k / 20] as const),
      i20: [
        ['i21', 0.9],
        ['i22', 0.5],
      ],
    },
    alsoBought: { i5: [['i6', 0.7]] },
    trending: ['i30', 'i31', 'i32', 'i33', 'i34'],
    popular: list.map((i) => i.id),
    popularByCategory,
    ...over,
  }
}

/** The fixture model's index, through the stored form (encoded and decoded as the Worker reads it). */
export function index(over: Partial<RecsModelDoc> = {}): RecsIndex {
  return indexModel(modelDoc(over))
}
