// `veneer segments discover [sample.csv] [--k auto|N] [--json] [--assign]` (SPEC 15). Node side:
// reads the file (or the sample from local D1, or asks a running Worker), runs `discover`, prints.
import { discover, type DiscoverResult } from './discover'
import { featureOf, parseSampleCsv, type Sample, SampleError } from './features'
import { readSample } from './sample'

/** Exit codes (SPEC 10). */
const OK = 0
const INVALID = 1
const IO = 2

interface Io {
  out(text: string): void
  err(text: string): void
}
type Flags = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>

/** Opens local D1 (the `wrangler dev` state) for `fn`; provided by the CLI's local-state module. */
export type WithLocalDb = <T>(flags: Flags, fn: (db: D1Database) => Promise<T>) => Promise<T>

/** What the command needs from Node, injected so this module type-checks as Worker code. */
export interface SegmentsDeps {
  readText?: (path: string) => string
  withLocalDb?: WithLocalDb
  fetch?: typeof fetch
  env?: Record<string, string | undefined>
}

const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name]
  return typeof v === 'string' ? v : undefined
}

class Failure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

function parseK(raw: string | undefined): number | 'auto' {
  if (raw === undefined || raw === 'auto') return 'auto'
  if (!/^\d+$/.test(raw)) throw new Failure(INVALID, `--k is "auto" or a whole number, not "${raw}"`)
  return Number(raw)
}

function parseDays(raw: string | undefined): number {
  if (raw === undefined) return 7
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 366)
    throw new Failure(INVALID, '--days is a whole number from 1 to 366')
  return Number(raw)
}

function parseAsOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const t = Date.parse(raw)
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t))
    throw new Failure(INVALID, `--as-of is a date (YYYY-MM-DD), not "${raw}"`)
  return t
}

/** A readable report: one block per cluster, its condition and how well it fits. */
export function formatDiscover(r: DiscoverResult): string {
  const lines = [
    `${r.rows} visitors, k = ${r.k}, silhouette ${r.silhouette}${r.tried === undefined ? '' : ` (tried ${r.tried.map((t) => `${t.k}: ${t.silhouette}`).join(', ')})`}`,
  ]
  for (const c of r.clusters) {
    lines.push('')
    lines.push(`cluster ${c.id}: ${c.size} visitors (${(c.share * 100).toFixed(1)}%)`)
    lines.push(`  when ${c.when === null ? '(no describable column)' : JSON.stringify(c.when)}`)
    lines.push(
      `  condition: accuracy ${(c.accuracy * 100).toFixed(1)}%, precision ${(c.precision * 100).toFixed(1)}%, recall ${(c.recall * 100).toFixed(1)}%`,
    )
    lines.push(
      `  centroid ${Object.entries(c.centroid)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    )
  }
  if (r.undescribed.length > 0) lines.push('', `clustered on but not usable in conditions: ${r.undescribed.join(', ')}`)
  lines.push('', `dates in conditions count back from ${r.asOf}.`)
  return lines.join('\n')
}

/** The stored sample as `GET api/segments/sample` returns it, checked. */
function remoteSample(body: unknown): Sample {
  const o = body as { features?: unknown; rows?: unknown } | null
  if (typeof o !== 'object' || o === null || !Array.isArray(o.features) || !Array.isArray(o.rows))
    throw new Failure(IO, 'api/segments/sample: not a sample ({ features, rows })')
  const names = o.features
  if (!names.every((n): n is string => typeof n === 'string')) throw new Failure(IO, 'api/segments/sample: bad feature names')
  const rows: number[][] = []
  for (const r of o.rows) {
    if (!Array.isArray(r) || r.length !== names.length || !r.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new Failure(IO, 'api/segments/sample: a row is not one number per feature')
    rows.push(r as number[])
  }
  return { features: names.map(featureOf), rows }
}

/**
 * Without a file, `--remote`: downloads the stored sample from a running Worker (`GET
 * api/segments/sample`, no ids) and clusters it here, with the command line's full settings (the
 * Worker's own discovery is bounded for requests).
 */
async function remoteDiscover(flags: Flags, days: number, deps: SegmentsDeps): Promise<Sample> {
  const env = deps.env ?? {}
  const base = str(flags, 'url') ?? env.VENEER_URL ?? 'http://localhost:8787'
  const token = env.VENEER_ADMIN_TOKEN
  if (token === undefined || token === '') throw new Failure(INVALID, 'set VENEER_ADMIN_TOKEN to call the admin API')
  const url = new URL('/__veneer/api/segments/sample', base)
  url.searchParams.set('days', String(days))
  let res: Response
  try {
    res = await (deps.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${token}` } })
  } catch (err) {
    throw new Failure(IO, `cannot reach ${url.origin}: ${err instanceof Error ? err.message : String(err)}`)
  }
  const body: unknown = await res.json().catch(() => undefined)
  if (!res.ok) {
    const details = typeof body === 'object' && body !== null && 'details' in body ? String(body.details) : res.statusText
    throw new Failure(res.status === 422 ? INVALID : IO, `${url.pathname}: ${res.status} ${details}`)
  }
  return remoteSample(body)
}

async function run(positionals: string[], flags: Flags, io: Io, deps: SegmentsDeps): Promise<number> {
  try {
    const [sub, file, ...extra] = positionals
    if (sub !== 'discover') throw new Failure(INVALID, `unknown subcommand "${sub ?? ''}": try veneer segments discover`)
    if (extra.length > 0) throw new Failure(INVALID, 'expected at most one sample file')
    if (flags.local === true && flags.remote === true) throw new Failure(INVALID, 'choose --local or --remote, not both')
    const k = parseK(str(flags, 'k'))
    const days = parseDays(str(flags, 'days'))
    const asOf = parseAsOf(str(flags, 'as-of'))
    const seedRaw = str(flags, 'seed')
    if (seedRaw !== undefined && !/^\d{1,9}$/.test(seedRaw)) throw new Failure(INVALID, '--seed is a whole number')
    const options = {
      k,
      assign: flags.assign === true,
      seed: seedRaw === undefined ? 1 : Number(seedRaw),
      ...(asOf === undefined ? {} : { asOf }),
    }
    let result: DiscoverResult
    if (file !== undefined) {
      let text: string
      try {
        if (deps.readText === undefined) throw new Error('no file access here')
        text = deps.readText(file)
      } catch (err) {
        throw new Failure(IO, `cannot read ${file}: ${(err as { code?: string }).code ?? String(err)}`)
      }
      result = discover(parseSampleCsv(text), options)
    } else if (flags.remote === true || (str(flags, 'url') !== undefined && flags.local !== true)) {
      result = discover(await remoteDiscover(flags, days, deps), options)
    } else {
      if (deps.withLocalDb === undefined) throw new Failure(IO, 'local D1 is not available here: pass a sample file')
      const sample = await deps.withLocalDb(flags, (db) => readSample(db, days))
      result = discover(sample, options)
    }
    io.out(flags.json === true ? JSON.stringify(result, null, 2) : formatDiscover(result))
    return OK
  } catch (err) {
    if (err instanceof Failure) {
      io.err(`veneer segments: ${err.message}`)
      return err.code
    }
    if (err instanceof SampleError) {
      io.err(`veneer segments: ${err.message}`)
      return INVALID
    }
    // Local D1 without migration 0006, or another storage failure.
    const message = err instanceof Error ? err.message : String(err)
    if (/no such table/.test(message)) {
      io.err(
        'veneer segments: the database has no sample table yet: apply the migrations (npx wrangler d1 migrations apply DB --local)',
      )
      return IO
    }
    io.err(`veneer segments: cannot read the sample: ${err instanceof Error ? err.message : String(err)}`)
    return IO
  }
}

/** The command table entry, in the shape the CLI's command registry uses. */
export function segmentsCommands(deps: SegmentsDeps = {}) {
  return {
    segments: {
      usage: 'veneer segments discover [sample.csv] [--k auto|N] [--json] [--assign] [--local | --remote] [--days 7]',
      about:
        'Finds clusters of visitors (k-means on standardised behaviour) and describes each with a Veneer condition.\n' +
        'CSV: a header, a "visitor" column (ignored), then numeric columns named after context attributes\n' +
        '(behavior.pageViews, visitor.sessions, visitor.daysSinceFirstSeen, device.type=mobile as 0/1, …).\n' +
        'Without a file: the sample stored in DB over the last --days days (local D1, or --remote via the admin API).\n' +
        'See docs/segments.md for how to read the output and when not to trust it.',
      options: {
        k: { type: 'string' as const, desc: 'number of clusters, or "auto" (best silhouette for k = 2…8; default)' },
        json: { type: 'boolean' as const, desc: 'print { k, silhouette, clusters: [...] } as JSON' },
        assign: { type: 'boolean' as const, desc: 'also print each row\'s cluster, in input order ("assignments")' },
        seed: { type: 'string' as const, desc: 'random seed for k-means++ (default 1): same seed, same result' },
        'as-of': {
          type: 'string' as const,
          desc: 'the day the sample was taken (YYYY-MM-DD; default today), for firstSeen dates',
        },
        days: { type: 'string' as const, desc: 'without a file: days of stored sample to use (default 7)' },
        local: { type: 'boolean' as const, desc: 'without a file: read the sample from the `wrangler dev` local D1 (default)' },
        remote: {
          type: 'boolean' as const,
          desc: 'without a file: download the sample from a running Worker (GET api/segments/sample) and cluster it here',
        },
        url: {
          type: 'string' as const,
          desc: 'the Worker for --remote (default $VENEER_URL or http://localhost:8787); token from $VENEER_ADMIN_TOKEN',
        },
        'persist-to': { type: 'string' as const, desc: 'the local state folder, as for `wrangler dev --persist-to`' },
        config: { type: 'string' as const, desc: 'wrangler.toml to read for --local (default ./wrangler.toml)' },
      },
      run: (positionals: string[], flags: Flags, io: Io) => run(positionals, flags, io, deps),
    },
  }
}
