// What every CLI command shares: exit codes, the expected-failure error, output, flags and the
// places configuration comes from (flags, then the environment, then `.dev.vars`).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Exit codes (SPEC 10): 0 ok, 1 validation or usage failure, 2 remote or I/O failure. */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 1, REMOTE: 2, IO: 2 } as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An expected failure with its exit code; the message is printed as is. */
export class CliError extends Error {
  readonly code: ExitCode
  constructor(code: ExitCode, message: string) {
    super(message)
    this.name = 'CliError'
    this.code = code
  }
}

/** Where a command prints: `out` is stdout (data, parsed by scripts), `err` is stderr (messages). */
export interface Io {
  out(text: string): void
  err(text: string): void
}

/** Parsed options of one command, as `node:util` parseArgs returns them. */
export type Flags = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>

/** One option of a command: its parseArgs type and its line in `--help`. */
export interface OptionSpec {
  type: 'boolean' | 'string'
  desc: string
  short?: string
  multiple?: boolean
}

/**
 * One `veneer <name>` command. Commands live in tables (`src/cli/commands.ts` merges them), so
 * adding one is a new entry there and a module with its `run`.
 */
export interface Command {
  usage: string
  about: string
  options: Record<string, OptionSpec>
  run(positionals: string[], flags: Flags, io: Io): Promise<number>
}

/** A string option, or undefined when absent. */
export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name]
  return typeof v === 'string' ? v : undefined
}

/** A boolean option: true only when given. */
export function bool(flags: Flags, name: string): boolean {
  return flags[name] === true
}

/** A repeatable string option, [] when absent. */
export function list(flags: Flags, name: string): string[] {
  const v = flags[name]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []
}

/** Parses `.dev.vars` (KEY=VALUE lines, `#` comments, optional quotes) in `dir`; {} when absent. */
export function readDevVars(dir = process.cwd()): Record<string, string> {
  const path = join(dir, '.dev.vars')
  if (!existsSync(path)) return {}
  const out: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (m === null || line.trimStart().startsWith('#')) continue
    const [, key = '', value = ''] = m
    out[key] = value.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1')
  }
  return out
}

/** A secret from the environment, else `.dev.vars`; undefined when neither has it. */
export function secret(name: string): string | undefined {
  const v = process.env[name]
  if (v !== undefined && v !== '') return v
  const d = readDevVars()[name]
  return d === undefined || d === '' ? undefined : d
}

/** The `code` of a Node system error (ENOENT…), else its message. */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return err instanceof Error ? err.message : String(err)
}

/** Reads a file the user named; a missing or unreadable file is an I/O failure (exit 2). */
export function readUserFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CliError(EXIT.IO, `cannot read ${path}: ${errorCode(err)}`)
  }
}

/** Parses JSON a user gave; a parse failure is invalid input (exit 1). */
export function parseUserJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new CliError(EXIT.INVALID, `${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
}
