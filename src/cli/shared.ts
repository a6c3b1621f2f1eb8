// Helpers the CLI commands share: argument checks, the target (local state or admin API), and
// validation of a ruleset file with the Worker's own code.
import { summarize, validateText } from '../admin/validate'
import type { RulesetIssue } from '../rules/errors'
import { bool, CliError, EXIT, type Flags, type Io, type OptionSpec, readUserFile, str } from './io'

/** The options of every command that reads or writes a Worker's rulesets. */
export const TARGET: Record<string, OptionSpec> = {
  local: { type: 'boolean', desc: "use this project's `wrangler dev` local state, through its own wrangler (default)" },
  remote: { type: 'boolean', desc: 'use the admin API of a running Worker' },
  url: {
    type: 'string',
    desc: 'the Worker for --remote (default $VENEER_URL or http://localhost:8787); token from $VENEER_ADMIN_TOKEN',
  },
  'persist-to': { type: 'string', desc: 'the local state folder, as for `wrangler dev --persist-to`' },
  config: { type: 'string', desc: 'the wrangler config for --local (default ./wrangler.toml, .jsonc or .json)' },
}

export function one(positionals: string[], what: string, name: string): string {
  const [first] = positionals
  if (positionals.length !== 1 || first === undefined)
    throw new CliError(EXIT.USAGE, `expected exactly one ${what} (see veneer ${name} --help)`)
  return first
}

export function none(positionals: string[], name: string): void {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `${name} takes no arguments (see veneer ${name} --help)`)
}

export function mode(flags: Flags): 'local' | 'remote' {
  if (bool(flags, 'local') && bool(flags, 'remote')) throw new CliError(EXIT.USAGE, 'choose --local or --remote, not both')
  return bool(flags, 'remote') || (str(flags, 'url') !== undefined && !bool(flags, 'local')) ? 'remote' : 'local'
}

export function issuePath(i: RulesetIssue): string {
  return i.path === '' ? '(root)' : i.path
}

export function printIssues(io: Io, title: string, issues: readonly RulesetIssue[]): void {
  io.err(title)
  for (const i of issues) io.err(`  ${issuePath(i)}: ${i.message}`)
}

const WHAT: Record<'invalid_json' | 'invalid_ruleset' | 'too_deep', string> = {
  invalid_json: 'not valid JSON',
  invalid_ruleset: 'not a valid ruleset',
  too_deep: 'nested too deeply',
}

export function problems(file: string, kind: 'invalid_json' | 'invalid_ruleset' | 'too_deep', n: number): string {
  return `✗ ${file} is ${WHAT[kind]} (${n} problem${n === 1 ? '' : 's'}):`
}

/** Validates a file with the Worker's code; throws (exit 1) with every issue when invalid. */
export function validateFile(file: string, io: Io, { quiet = false } = {}) {
  const text = readUserFile(file)
  const v = validateText(text)
  if (!v.ok) {
    printIssues(io, problems(file, v.kind, v.issues.length), v.issues)
    throw new CliError(EXIT.INVALID, `${file} was not ${quiet ? 'published' : 'accepted'}`)
  }
  for (const w of v.warnings) io.err(`warning ${issuePath(w)}: ${w.message}`)
  return { text, v, summary: summarize(v.ruleset) }
}
