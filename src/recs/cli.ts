import { publishCatalog, validateCatalog, type CatalogStore } from './catalog'
import { evaluate, parseEventsCsv } from './evaluate'

/**
 * The recommendations commands of the `veneer` CLI (SPEC 10, 13), as functions of their inputs:
 * the Node shell (src/cli/recs-commands.mjs) reads files and opens KV or the admin API.
 * Exit codes as the CLI's: 0 ok, 1 invalid input, 2 cannot reach or run.
 */
export interface CliOutcome {
  code: 0 | 1 | 2
  out: string[]
  err: string[]
}

const round = (x: number) => Math.round(x * 1e4) / 1e4

/** `veneer recs evaluate <events.csv> [--k 10] [--json]`. */
export function recsEvaluate(csv: string, flags: { k?: string; json?: boolean }): CliOutcome {
  const k = flags.k === undefined ? 10 : Number(flags.k)
  if (!Number.isInteger(k) || k < 1 || k > 1000)
    return { code: 1, out: [], err: [`--k is a whole number from 1 to 1000, not "${flags.k}"`] }
  const parsed = parseEventsCsv(csv)
  if (!parsed.ok)
    return {
      code: 1,
      out: [],
      err: ['the events file is not valid:', ...parsed.issues.map((i) => `  line ${i.line}: ${i.message}`)],
    }
  const r = evaluate(parsed.events, k)
  if (flags.json) return { code: 0, out: [JSON.stringify(r, null, 2)], err: [] }
  const row = (name: string, m: typeof r.model) =>
    `${name.padEnd(12)}${[m.hitRate, m.precision, m.recall, m.ndcg, m.coverage].map((x) => round(x).toFixed(4).padStart(11)).join('')}`
  const ratio = r.popularity.hitRate > 0 ? r.model.hitRate / r.popularity.hitRate : Number.NaN
  return {
    code: 0,
    out: [
      `leave-last-out over ${r.visitors} visitors, k = ${r.k}`,
      `${''.padEnd(12)}${['HR@k', 'precision', 'recall', 'NDCG@k', 'coverage'].map((h) => h.padStart(11)).join('')}`,
      row('model', r.model),
      row('popularity', r.popularity),
      Number.isFinite(ratio)
        ? `the model's hit rate is ${ratio.toFixed(2)}× popularity's`
        : 'popularity has no hits to compare with',
    ],
    err: r.visitors === 0 ? ['no visitor has two distinct items: nothing to evaluate'] : [],
  }
}

/** Validates catalog file text; the issues as lines when it is not a catalog. */
export function checkCatalogText(
  text: string,
): { ok: true; doc: ReturnType<typeof validateCatalog> & { ok: true } } | CliOutcome {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { code: 1, out: [], err: [`not valid JSON: ${err instanceof Error ? err.message : 'parse error'}`] }
  }
  const v = validateCatalog(value)
  if (!v.ok)
    return {
      code: 1,
      out: [],
      err: [
        `not a valid catalog (${v.issues.length} problem${v.issues.length === 1 ? '' : 's'}):`,
        ...v.issues.map((i) => `  ${i.path === '' ? '(root)' : i.path}: ${i.message}`),
      ],
    }
  return { ok: true, doc: v }
}

/** `veneer catalog push <file> --local`: validates and publishes into a KV store. */
export async function catalogPushLocal(text: string, store: CatalogStore): Promise<CliOutcome> {
  const checked = checkCatalogText(text)
  if (!('ok' in checked)) return checked
  const r = await publishCatalog(store, checked.doc.doc)
  return {
    code: 0,
    out: [
      `published catalog ${r.version} (${r.items} items) to local KV${r.previous === undefined ? '' : ` (was ${r.previous})`}; the model picks it up at its next build (POST /__veneer/api/recs/build or the cron)`,
    ],
    err: [],
  }
}
