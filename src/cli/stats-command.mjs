// `veneer stats [file]` (SPEC 12.1): experiment statistics on counts; stdin when no file.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTs } from '../../scripts/load-ts.mjs'
import { CliError, EXIT, readUserFile } from './env.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

async function run(positionals, flags, io) {
  if (positionals.length > 1) throw new CliError(EXIT.USAGE, 'expected at most one file (see veneer stats --help)')
  const text = positionals.length === 1 ? readUserFile(positionals[0]) : readFileSync(0, 'utf8')
  const tuning = flags.tuning === undefined ? undefined : Number(flags.tuning)
  if (tuning !== undefined && !(Number.isFinite(tuning) && tuning > 0))
    throw new CliError(EXIT.USAGE, '--tuning is a positive number of visitors')
  const { runStats } = await loadTs(join(root, 'src', 'measure', 'stats-cli.ts'))
  const r = runStats(text, tuning)
  if (!r.ok) {
    for (const e of r.errors) io.err(`  ${e}`)
    throw new CliError(EXIT.INVALID, 'the input is not a valid list of experiments')
  }
  io.out(r.text)
  return EXIT.OK
}

/** The command's entry for src/cli/main.mjs. */
export const statsCommand = {
  usage: 'veneer stats [file] [--tuning <visitors>]',
  about:
    'Experiment statistics on daily counts (the code behind GET api/results): reads a JSON array of\n' +
    '{ "id", "control", "weights": { arm: weight }, "arms": { arm: [[visitors, conversions], …per day] } }\n' +
    'from the file or stdin and prints, per experiment and day, cumulative rate, lift, ci95, cs95, pValue and srm.',
  options: { tuning: { type: 'string', desc: 'N*, visitors where the confidence sequence is tightest (default 5000)' } },
  run,
}
