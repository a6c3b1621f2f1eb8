// Where the CLI finds its configuration: flags, then the environment, then `.dev.vars` (local dev).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Exit codes: 0 ok, 1 validation or usage failure, 2 remote or I/O failure. */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 1, REMOTE: 2, IO: 2 }

/** An expected failure with its exit code; the message is printed as is. */
export class CliError extends Error {
  constructor(code, message) {
    super(message)
    this.name = 'CliError'
    this.code = code
  }
}

/** Parses `.dev.vars` (KEY=VALUE lines, `#` comments, optional quotes) in `dir`; {} when absent. */
export function readDevVars(dir = process.cwd()) {
  const path = join(dir, '.dev.vars')
  if (!existsSync(path)) return {}
  const out = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (m === null || line.trimStart().startsWith('#')) continue
    out[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1')
  }
  return out
}

/** A secret from the environment, else `.dev.vars`; undefined when neither has it. */
export function secret(name) {
  const v = process.env[name]
  if (v !== undefined && v !== '') return v
  const d = readDevVars()[name]
  return d === undefined || d === '' ? undefined : d
}

/** Reads a file the user named; a missing or unreadable file is an I/O failure (exit 2). */
export function readUserFile(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CliError(EXIT.IO, `cannot read ${path}: ${err.code ?? err.message}`)
  }
}
