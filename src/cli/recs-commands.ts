// `veneer catalog push` and `veneer recs evaluate` (SPEC 10, 13): the logic is src/recs/cli.ts.
import { type CliOutcome, catalogPushLocal, checkCatalogText, recsEvaluate } from '../recs/cli'
import { bool, CliError, type Command, EXIT, type Flags, type Io, readUserFile, str } from './io'
import { withLocalRules } from './local'
import { callApi, field, remoteTarget } from './remote'
import { mode, TARGET } from './shared'

/** The item count of the API's answer, `?` when it has none. */
function itemCount(r: unknown): string {
  const n = typeof r === 'object' && r !== null ? (r as { items?: unknown }).items : undefined
  return typeof n === 'number' ? String(n) : '?'
}

function emit(io: Io, r: CliOutcome): number {
  for (const l of r.out) io.out(l)
  for (const l of r.err) io.err(l)
  return r.code
}

async function catalog(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const [sub, file, ...more] = positionals
  if (sub !== 'push' || file === undefined || more.length > 0)
    throw new CliError(EXIT.USAGE, 'usage: veneer catalog push <file> [--local | --remote]')
  const text = readUserFile(file)
  if (mode(flags) === 'remote') {
    const checked = checkCatalogText(text)
    if (!('ok' in checked)) return emit(io, checked)
    const target = remoteTarget(flags)
    const r = await callApi(target, 'PUT', '/catalog', text)
    const previous = field(r, 'previous')
    io.out(
      `published catalog ${field(r, 'version') ?? '?'} (${itemCount(r)} items) to ${target.base}${previous ? ` (was ${previous})` : ''}`,
    )
    return EXIT.OK
  }
  return emit(io, await withLocalRules(flags, (store) => catalogPushLocal(text, store)))
}

async function recs(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const [sub, file, ...more] = positionals
  if (sub !== 'evaluate' || file === undefined || more.length > 0)
    throw new CliError(EXIT.USAGE, 'usage: veneer recs evaluate <events.csv> [--k 10] [--json]')
  return emit(io, recsEvaluate(readUserFile(file), { k: str(flags, 'k'), json: bool(flags, 'json') }))
}

export const recsCommands: Record<string, Command> = {
  catalog: {
    usage: 'veneer catalog push <file> [--local | --remote --url <url>]',
    about:
      'Validates a recommendations catalog ({ version?, items: [{ id, title, url, image?, category?, price? }] }) and publishes it to KV `catalog`.',
    options: TARGET,
    run: catalog,
  },
  recs: {
    usage: 'veneer recs evaluate <events.csv> [--k 10] [--json]',
    about:
      'Offline evaluation of the recommendations model on a history (CSV visitor,item,timestamp): leave-last-out, HR@k, precision@k, recall@k, NDCG@k, coverage, against popularity.',
    options: { k: { type: 'string', desc: 'list length (default 10)' }, json: { type: 'boolean', desc: 'print JSON' } },
    run: recs,
  },
}
