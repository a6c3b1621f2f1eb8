import { indexModel } from './model-codec'
import type { RecsIndex } from './model-index'
import { recommend } from './recommend'
import { byCount, pairKey, topNeighbours } from './similarity'
import { NEIGHBOURS_PER_ITEM } from './model'

/**
 * Offline evaluation (SPEC 13, `veneer recs evaluate`): leave-last-out by time. Per visitor with
 * at least two distinct items, the item of the visitor's last event is held out and the other
 * distinct items are the history; the model is built from all histories (a visitor with one
 * item contributes it as history, and nothing is held out of them); for each held-out item the
 * top-k `also-viewed` recommendations over the history (history excluded), made by the same
 * `recommend` code the Worker runs, are compared with it, and so are the k most popular items
 * (history excluded): the popularity baseline.
 */

export interface ItemEvent {
  visitor: string
  item: string
  /** Milliseconds (or any number that orders the visitor's events). */
  time: number
}

export interface Metrics {
  hitRate: number
  precision: number
  recall: number
  ndcg: number
  coverage: number
}

export interface Evaluation {
  k: number
  visitors: number
  model: Metrics
  popularity: Metrics
}

export interface CsvIssue {
  line: number
  message: string
}

/** RFC 4180 fields of one CSV text: quoted fields may hold commas, quotes ("") and newlines. */
function* csvRecords(text: string): Generator<{ line: number; fields: string[] }> {
  let fields: string[] = []
  let field = ''
  let quoted = false
  let line = 1
  let start = 1
  let any = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
      continue
    }
    if (ch === '"' && field === '') {
      quoted = true
      any = true
    } else if (ch === ',') {
      fields.push(field)
      field = ''
      any = true
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      fields.push(field)
      if (any || field !== '') yield { line: start, fields }
      fields = []
      field = ''
      any = false
      line++
      start = line
    } else {
      field += ch
      any = true
    }
  }
  if (any || field !== '') {
    fields.push(field)
    yield { line: start, fields }
  }
}

/** A timestamp: a number (epoch seconds or milliseconds, any consistent unit) or an ISO date. */
function parseTime(s: string): number | undefined {
  const t = s.trim()
  if (t === '') return undefined
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t)
  const d = Date.parse(t)
  return Number.isNaN(d) ? undefined : d
}

const MAX_ISSUES = 20

/** Parses `visitor,item,timestamp` CSV (a header names the columns; others are ignored). */
export function parseEventsCsv(text: string): { ok: true; events: ItemEvent[] } | { ok: false; issues: CsvIssue[] } {
  const records = csvRecords(text.startsWith('\uFEFF') ? text.slice(1) : text)
  const header = records.next()
  if (header.done === true)
    return { ok: false, issues: [{ line: 1, message: 'the file is empty: a header visitor,item,timestamp is needed' }] }
  const names = header.value.fields.map((f) => f.trim().toLowerCase())
  const col = { visitor: names.indexOf('visitor'), item: names.indexOf('item'), time: names.indexOf('timestamp') }
  const missing = Object.entries({ visitor: col.visitor, item: col.item, timestamp: col.time })
    .filter(([, i]) => i < 0)
    .map(([n]) => n)
  if (missing.length > 0)
    return {
      ok: false,
      issues: [{ line: 1, message: `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` }],
    }
  const events: ItemEvent[] = []
  const issues: CsvIssue[] = []
  for (const { line, fields } of records) {
    const visitor = fields[col.visitor]?.trim() ?? ''
    const item = fields[col.item]?.trim() ?? ''
    const time = parseTime(fields[col.time] ?? '')
    if (visitor === '' || item === '' || time === undefined) {
      if (issues.length < MAX_ISSUES)
        issues.push({
          line,
          message:
            visitor === ''
              ? 'no visitor'
              : item === ''
                ? 'no item'
                : `timestamp "${(fields[col.time] ?? '').slice(0, 40)}" is not a number or an ISO date`,
        })
      continue
    }
    events.push({ visitor, item, time })
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, events }
}

interface Split {
  history: string[] // distinct, in time order of first appearance
  heldOut?: string
}

/** Leave-last-out by time; ties in time keep the input order. */
export function splitByVisitor(events: readonly ItemEvent[]): Split[] {
  const byVisitor = new Map<string, { item: string; time: number; n: number }[]>()
  events.forEach((e, n) => {
    let l = byVisitor.get(e.visitor)
    if (l === undefined) byVisitor.set(e.visitor, (l = []))
    l.push({ item: e.item, time: e.time, n })
  })
  const out: Split[] = []
  for (const list of byVisitor.values()) {
    list.sort((a, b) => a.time - b.time || a.n - b.n)
    const distinct = [...new Set(list.map((e) => e.item))]
    if (distinct.length < 2) {
      out.push({ history: distinct })
      continue
    }
    const heldOut = (list[list.length - 1] as { item: string }).item
    // The history is every other distinct item, in the order the visitor last saw it.
    const order = new Map<string, number>()
    list.forEach((e, i) => {
      if (e.item !== heldOut) order.set(e.item, i)
    })
    out.push({ history: [...order].sort((a, b) => a[1] - b[1]).map(([i]) => i), heldOut })
  }
  return out
}

/** The model the Worker would build from these histories, as its compiled index. */
export function modelFromHistories(histories: readonly (readonly string[])[]): RecsIndex {
  const counts = new Map<string, number>()
  const pairs = new Map<string, number>()
  for (const h of histories) {
    for (let i = 0; i < h.length; i++) {
      const a = h[i] as string
      counts.set(a, (counts.get(a) ?? 0) + 1)
      for (let j = i + 1; j < h.length; j++) {
        const key = pairKey(a, h[j] as string)
        pairs.set(key, (pairs.get(key) ?? 0) + 1)
      }
    }
  }
  const neighbours = topNeighbours(counts, pairs, { top: NEIGHBOURS_PER_ITEM })
  return indexModel({
    version: 'evaluate',
    builtAt: '',
    catalogVersion: '',
    items: [...counts.keys()].map((id) => ({ id, title: id, url: '/' })),
    alsoViewed: Object.fromEntries(neighbours),
    alsoBought: {},
    trending: [],
    popular: byCount(counts, counts.size),
    popularByCategory: {},
  })
}

class Tally {
  hits = 0
  ndcg = 0
  n = 0
  readonly shown = new Set<string>()
  add(list: readonly string[], heldOut: string): void {
    this.n++
    for (const i of list) this.shown.add(i)
    const rank = list.indexOf(heldOut)
    if (rank >= 0) {
      this.hits++
      this.ndcg += 1 / Math.log2(rank + 2)
    }
  }
  metrics(k: number, catalogSize: number): Metrics {
    const per = (x: number) => (this.n === 0 ? 0 : x / this.n)
    return {
      hitRate: per(this.hits),
      // One relevant item per visitor: precision@k = hits/k, recall@k = hits/1.
      precision: per(this.hits / k),
      recall: per(this.hits),
      ndcg: per(this.ndcg),
      coverage: catalogSize === 0 ? 0 : this.shown.size / catalogSize,
    }
  }
}

/** Evaluates the model against the popularity baseline at `k`. */
export function evaluate(events: readonly ItemEvent[], k = 10): Evaluation {
  const splits = splitByVisitor(events)
  const index = modelFromHistories(splits.map((s) => s.history))
  const catalogSize = new Set(events.map((e) => e.item)).size
  const model = new Tally()
  const popularity = new Tally()
  for (const s of splits) {
    if (s.heldOut === undefined) continue
    const history = new Set(s.history)
    const rec = recommend(index, { strategy: 'also-viewed', count: k, exclude: 'viewed' }, { recent: s.history, purchased: [] })
    model.add(
      rec.slots.map((x) => x.item.id),
      s.heldOut,
    )
    const popular: string[] = []
    for (const i of index.popular) {
      const id = index.id(i)
      if (popular.length >= k) break
      if (!history.has(id)) popular.push(id)
    }
    popularity.add(popular, s.heldOut)
  }
  return { k, visitors: model.n, model: model.metrics(k, catalogSize), popularity: popularity.metrics(k, catalogSize) }
}
