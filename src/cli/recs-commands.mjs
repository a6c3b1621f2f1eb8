// `veneer catalog push` and `veneer recs evaluate` (SPEC 10, 13): the logic is src/recs/cli.ts.
import { CliError, EXIT, readUserFile } from './env.mjs'
import { withLocalRules } from './local.mjs'
import { callApi, remoteTarget } from './remote.mjs'
import { lib, mode } from './shared.mjs'

function emit(io, r) {
  for (const l of r.out) io.out(l)
  for (const l of r.err) io.err(l)
  return r.code
}

async function catalog([sub, file, ...more], flags, io) {
  if (sub !== 'push' || file === undefined || more.length > 0)
    throw new CliError(EXIT.USAGE, 'usage: veneer catalog push <file> [--local | --remote]')
  const text = readUserFile(file)
  const { catalogPushLocal, checkCatalogText } = await lib()
  if (mode(flags) === 'remote') {
    const checked = checkCatalogText(text)
    if (!('ok' in checked)) return emit(io, checked)
    const target = remoteTarget(flags)
    const r = await callApi(target, 'PUT', '/catalog', text)
    io.out(`published catalog ${r.version} (${r.items} items) to ${target.base}${r.previous ? ` (was ${r.previous})` : ''}`)
    return EXIT.OK
  }
  return emit(io, await withLocalRules(flags, (store) => catalogPushLocal(text, store)))
}

async function recs([sub, file, ...more], flags, io) {
  if (sub !== 'evaluate' || file === undefined || more.length > 0)
    throw new CliError(EXIT.USAGE, 'usage: veneer recs evaluate <events.csv> [--k 10] [--json]')
  const { recsEvaluate } = await lib()
  return emit(io, recsEvaluate(readUserFile(file), flags))
}

/** The CLI entries (registered in main.mjs). */
export const recsCommands = (target) => ({
  catalog: {
    usage: 'veneer catalog push <file> [--local | --remote --url <url>]',
    about:
      'Validates a recommendations catalog ({ version?, items: [{ id, title, url, image?, category?, price? }] }) and publishes it to KV `catalog`.',
    options: target,
    run: catalog,
  },
  recs: {
    usage: 'veneer recs evaluate <events.csv> [--k 10] [--json]',
    about:
      'Offline evaluation of the recommendations model on a history (CSV visitor,item,timestamp): leave-last-out, HR@k, precision@k, recall@k, NDCG@k, coverage, against popularity.',
    options: { k: { type: 'string', desc: 'list length (default 10)' }, json: { type: 'boolean', desc: 'print JSON' } },
    run: recs,
  },
})
