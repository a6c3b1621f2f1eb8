// Helpers the CLI commands share: the Worker's code (bundled once per run), argument checks.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTs } from '../../scripts/load-ts.mjs'
import { CliError, EXIT, readUserFile } from './env.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
let libPromise
/** The Worker's TypeScript (src/cli/lib.ts), bundled with esbuild once per run. */
export const lib = () => (libPromise ??= loadTs(join(root, 'src', 'cli', 'lib.ts')))

export function one(positionals, what, name) {
  if (positionals.length !== 1) throw new CliError(EXIT.USAGE, `expected exactly one ${what} (see veneer ${name} --help)`)
  return positionals[0]
}

export function mode(flags) {
  if (flags.local && flags.remote) throw new CliError(EXIT.USAGE, 'choose --local or --remote, not both')
  return flags.remote || (flags.url !== undefined && !flags.local) ? 'remote' : 'local'
}

export function printIssues(io, title, issues) {
  io.err(title)
  for (const i of issues) io.err(`  ${i.path === '' ? '(root)' : i.path}: ${i.message}`)
}

/** Validates a file with the Worker's code; throws (exit 1) with every issue when invalid. */
export async function validateFile(file, io, { quiet = false } = {}) {
  const text = readUserFile(file)
  const { validateText, summarize } = await lib()
  const v = validateText(text)
  if (!v.ok) {
    printIssues(
      io,
      `✗ ${file} is ${v.kind === 'invalid_json' ? 'not valid JSON' : 'not a valid ruleset'} (${v.issues.length} problem${v.issues.length === 1 ? '' : 's'}):`,
      v.issues,
    )
    throw new CliError(EXIT.INVALID, `${file} was not ${quiet ? 'published' : 'accepted'}`)
  }
  for (const w of v.warnings) io.err(`warning ${w.path === '' ? '(root)' : w.path}: ${w.message}`)
  return { text, v, summary: summarize(v.ruleset) }
}
