import { seededRng } from '../../src/util/random'
import { describe, expect, it } from 'vitest'
import { recommend, type RecommendSpec, type VisitorItems } from '../../src/recs/recommend'
import { compileItemTemplate, renderItem } from '../../src/recs/template'
import { isSafeUrl } from '../../src/recs/url'
import { compileModel } from '../../src/recs/model-codec'
import { index, items, modelDoc } from './fixtures'

const nobody: VisitorItems = { recent: [], purchased: [] }
const ids = (r: ReturnType<typeof recommend>) => r.slots.map((s) => s.item.id)
const spec = (s: Partial<RecommendSpec>): RecommendSpec => ({ strategy: 'also-viewed', count: 4, ...s })

describe('recommend: strategies', () => {
  it('also-viewed on an item page ranks the page item’s neighbours, best first, never the item itself', () => {
    const r = recommend(index(), spec({}), { ...nobody, current: 'i0' })
    expect(ids(r)).toEqual(['i1', 'i2', 'i3', 'i4'])
    expect(r.coldStart).toBe(false)
  })

  it('also-viewed elsewhere aggregates the neighbours of the recent items, the most recent weighing most', () => {
    const r = recommend(index(), spec({ count: 2 }), { recent: ['i0', 'i20'], purchased: [] })
    expect(ids(r)).toEqual(['i21', 'i1']) // i20 is the most recent: 0.9 beats i0's 1.0 × 0.8
  })

  it('also-bought uses the bought graph and the purchased items', () => {
    expect(ids(recommend(index(), spec({ strategy: 'also-bought', count: 1 }), { recent: [], purchased: ['i5'] }))).toEqual([
      'i6',
    ])
  })

  it('recently-viewed lists the visitor’s items, most recent first, without the page’s own', () => {
    const r = recommend(index(), spec({ strategy: 'recently-viewed', count: 3 }), {
      current: 'i9',
      recent: ['i7', 'i8', 'i9'],
      purchased: [],
    })
    expect(ids(r).slice(0, 2)).toEqual(['i8', 'i7'])
  })

  it('trending and popular read the model’s lists; popular on an item page starts with its category', () => {
    expect(ids(recommend(index(), spec({ strategy: 'trending' }), nobody))).toEqual(['i30', 'i31', 'i32', 'i33'])
    expect(ids(recommend(index(), spec({ strategy: 'popular' }), nobody))).toEqual(['i0', 'i1', 'i2', 'i3'])
    expect(ids(recommend(index(), spec({ strategy: 'popular' }), { ...nobody, current: 'i1' }))).toEqual([
      'i5',
      'i9',
      'i13',
      'i17',
    ])
  })

  it('cold start: a new visitor on a page without neighbours gets popular, and says so', () => {
    const r = recommend(index(), spec({}), nobody)
    expect(ids(r)).toEqual(['i0', 'i1', 'i2', 'i3'])
    expect(r.coldStart).toBe(true)
    const unknown = recommend(index(), spec({}), { ...nobody, current: 'i39' }) // no neighbours: its category’s best
    expect(unknown.coldStart).toBe(true)
    expect(ids(unknown)).toEqual(['i3', 'i7', 'i11', 'i15'])
  })

  it('slots the ranking cannot fill are filled from popular (the page item’s category first)', () => {
    const r = recommend(index(), spec({ count: 4 }), { ...nobody, current: 'i20' })
    expect(ids(r)).toEqual(['i21', 'i22', 'i0', 'i4'])
  })
})

describe('recommend: exclusion and diversity', () => {
  it('exclude "viewed" drops every recent item; "purchased" drops the purchased ones', () => {
    const visitor = { current: 'i0', recent: ['i1', 'i3'], purchased: ['i2'] }
    expect(ids(recommend(index(), spec({ exclude: 'viewed' }), visitor))).toEqual(['i2', 'i4', 'i5', 'i6'])
    expect(ids(recommend(index(), spec({ exclude: 'purchased' }), visitor))).toEqual(['i1', 'i3', 'i4', 'i5'])
  })

  it('perCategory caps the items of one category, the next best of another taking the slot', () => {
    // i0's neighbours i1…i10 cycle through c1, c2, c3, c0: with perCategory 1 the first of each.
    const r = recommend(index(), spec({ count: 4, perCategory: 1 }), { ...nobody, current: 'i0' })
    expect(ids(r)).toEqual(['i1', 'i2', 'i3', 'i4'])
    const two = recommend(index(), spec({ count: 6, perCategory: 1 }), { ...nobody, current: 'i0' })
    const cats = two.slots.map((s) => s.item.category)
    expect(new Set(cats).size).toBe(cats.length) // 4 categories: at most 4 slots, all different
    expect(two.slots.length).toBe(4)
  })

  it('never shows an item twice, nor more than count', () => {
    for (let seed = 1; seed < 50; seed++) {
      const r = recommend(
        index(),
        spec({ count: 8, explore: 0.5 }),
        { current: 'i0', recent: ['i5'], purchased: [] },
        seededRng(seed),
      )
      expect(new Set(ids(r)).size).toBe(r.slots.length)
      expect(r.slots.length).toBe(8)
      expect(ids(r)).not.toContain('i0')
    }
  })
})

describe('recommend: exploration', () => {
  // 10,000 renders: the share of slots filled by exploration is the configured share ±3 points.
  for (const [explore, count] of [
    [0.1, 4],
    [0.25, 4],
    [0.3, 5],
  ] as const) {
    it(`explore ${explore} with count ${count}: the explored share over 10,000 renders is within ±3 points`, () => {
      const random = seededRng(42 + count)
      let explored = 0
      let slots = 0
      const top = new Set(['i1', 'i2', 'i3', 'i4', 'i5'].slice(0, count))
      for (let n = 0; n < 10_000; n++) {
        const r = recommend(index(), spec({ count, explore }), { ...nobody, current: 'i0' }, random)
        slots += r.slots.length
        for (const s of r.slots) {
          if (!s.explore) continue
          explored++
          expect(top.has(s.item.id)).toBe(false) // drawn from outside the top list
        }
      }
      expect(slots).toBe(10_000 * count)
      expect(Math.abs(explored / slots - explore)).toBeLessThanOrEqual(0.03)
    })
  }

  it('explored items land at varying positions, not always last', () => {
    const random = seededRng(7)
    const positions = new Set<number>()
    for (let n = 0; n < 200; n++) {
      const r = recommend(index(), spec({ count: 4, explore: 0.25 }), { ...nobody, current: 'i0' }, random)
      positions.add(r.slots.findIndex((s) => s.explore))
    }
    expect([...positions].sort()).toEqual([0, 1, 2, 3])
  })
})

describe('item template: escaping and URLs', () => {
  const tpl = compileItemTemplate(
    '<a href="{{item.url}}"><img src="{{item.image}}" alt="{{item.title}}">{{item.title}} {{item.price}}</a>',
  )

  it('escapes every field for text and quoted attributes', () => {
    expect(tpl.problems).toEqual([])
    const html = renderItem(tpl.parts, { id: 'x', title: `<script>alert("x")</script>&'`, url: '/p?a=1&b="2"', price: 5 })
    expect(html).toBe(
      '<a href="/p?a=1&amp;b=&quot;2&quot;"><img src="" alt="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39; 5</a>',
    )
  })

  it('refuses an item whose URL is not http(s) or relative', () => {
    for (const url of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,x',
      ' javascript:x',
      'vbscript:x',
    ])
      expect(renderItem(tpl.parts, { id: 'x', title: 't', url })).toBeUndefined()
    for (const url of ['/p/1', 'https://shop.example/p', 'http://x.example', '../p', '?q=1', '//cdn.example/p'])
      expect(isSafeUrl(url)).toBe(true)
  })

  it('a stored model with an unsafe item drops that item and every reference to it', () => {
    const bad = modelDoc()
    bad.items = [...items(), { id: 'evil', title: 'x', url: 'javascript:alert(1)' }]
    bad.popular = ['evil', ...bad.popular]
    bad.alsoViewed = { i0: [['evil', 1]] }
    const idx = compileModel(bad)
    expect(idx?.indexOf('evil')).toBeUndefined()
    expect(idx?.id(idx.popular[0] as number)).toBe('i0')
    const neighbours: number[] = []
    idx?.forEachNeighbour('viewed', 0, (j) => neighbours.push(j))
    expect(neighbours).toEqual([])
  })

  it('refuses unknown placeholders and unquoted attribute values', () => {
    expect(compileItemTemplate('{{geo.city}}').problems[0]).toMatch(/unknown placeholder/)
    expect(compileItemTemplate('<a href={{item.url}}>x</a>').problems[0]).toMatch(/unquoted/)
    expect(compileItemTemplate('{{item.secret}}').problems[0]).toMatch(/unknown placeholder/)
  })
})
