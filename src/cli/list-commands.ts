// `veneer lists push`: publishes a saved id list for `$inList` (local state or the admin API).
import { publishList } from '../rules/lists'
import { CliError, type Command, EXIT, type Flags, type Io, readUserFile } from './io'
import { withLocalRules } from './local'
import { callApi, remoteTarget } from './remote'
import { mode, TARGET } from './shared'

async function listsPush(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const [name, file, ...extra] = positionals
  if (name === undefined || file === undefined || extra.length > 0)
    throw new CliError(EXIT.USAGE, 'expected a list name and a file (see veneer lists push --help)')
  const text = readUserFile(file)
  if (mode(flags) === 'remote') {
    const target = remoteTarget(flags)
    const r = await callApi(target, 'PUT', `/lists/${encodeURIComponent(name)}`, text, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    })
    const size = typeof r === 'object' && r !== null ? (r as { size?: unknown }).size : undefined
    io.out(`published list ${name} (${String(size)} ids) to ${target.base}`)
    return EXIT.OK
  }
  const out = await withLocalRules(flags, (store) => publishList(store, name, text))
  if (!out.ok) throw new CliError(EXIT.INVALID, `${file}: ${out.message}`)
  io.out(
    `published list ${name} (${out.items.length} ids) to local KV; a running \`wrangler dev\` reads it within settings.refreshSeconds`,
  )
  return EXIT.OK
}

export const listCommands: Record<string, Command> = {
  'lists push': {
    usage: 'veneer lists push <name> <file> [--local | --remote --url <url>]',
    about:
      'Publishes a saved id list for `$inList: "<name>"` (KV key `list:<name>`): a JSON array of ids, or one id per line.\n' +
      'At most 100,000 ids of up to 200 characters; duplicates are dropped.',
    options: TARGET,
    run: listsPush,
  },
}
