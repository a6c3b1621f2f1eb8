// `veneer stats [file]` (SPEC 12.1): experiment statistics on counts; stdin when no file.
import { readFileSync } from 'node:fs'
import { runStats } from '../measure/stats-cli'
import { CliError, type Command, EXIT, type Flags, type Io, readUserFile, str } from './io'

async function stats(positionals: string[], flags: Flags, io: Io): Promise<number> {
  if (positionals.length > 1) throw new CliError(EXIT.USAGE, 'expected at most one file (see veneer stats --help)')
  const [file] = positionals
  const text = file === undefined ? readFileSync(0, 'utf8') : readUserFile(file)
  const tuningText = str(flags, 'tuning')
  const tuning = tuningText === undefined ? undefined : Number(tuningText)
  if (tuning !== undefined && !(Number.isFinite(tuning) && tuning > 0))
    throw new CliError(EXIT.USAGE, '--tuning is a positive number of visitors')
  const r = runStats(text, tuning)
  if (!r.ok) {
    for (const e of r.errors) io.err(`  ${e}`)
    throw new CliError(EXIT.INVALID, 'the input is not a valid list of experiments')
  }
  io.out(r.text)
  return EXIT.OK
}

export const statsCommands: Record<string, Command> = {
  stats: {
    usage: 'veneer stats [file] [--tuning <visitors>]',
    about:
      'Experiment statistics on daily counts (the code behind GET api/results): reads a JSON array of\n' +
      '{ "id", "control", "weights": { arm: weight }, "arms": { arm: [[visitors, conversions], …per day] } }\n' +
      'from the file or stdin and prints, per experiment and day, cumulative rate, lift, ci95, cs95, pValue and srm.',
    options: { tuning: { type: 'string', desc: 'N*, visitors where the confidence sequence is tightest (default 5000)' } },
    run: stats,
  },
}
