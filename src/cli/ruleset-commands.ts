// Ruleset commands: validate, push, pull, diff, rollback, versions (local state or the admin API).
import { writeFileSync } from 'node:fs'
import { activeVersionOf, listVersions, publishDocument, rollbackTo, versionKey } from '../admin/versions'
import { summarize, validateText } from '../admin/validate'
import { compileRulesetText } from '../rules/compile'
import { RULESET_KEY } from '../rules/store'
import { comparableJson, formatDiff, lineDiff } from './diff'
import { bool, CliError, type Command, errorCode, EXIT, type Flags, type Io, readUserFile, str } from './io'
import { withLocalRules } from './local'
import { callApi, field, remoteTarget } from './remote'
import { issuePath, mode, none, one, printIssues, problems, TARGET, validateFile } from './shared'

async function validate(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const file = one(positionals, 'ruleset file', 'validate')
  const v = validateText(readUserFile(file))
  if (bool(flags, 'json')) {
    const out = v.ok
      ? { ok: true, errors: [], warnings: v.warnings, summary: summarize(v.ruleset) }
      : { ok: false, errors: v.issues, warnings: v.warnings }
    io.out(JSON.stringify(out, null, 2))
    return v.ok ? EXIT.OK : EXIT.INVALID
  }
  if (!v.ok) {
    printIssues(io, problems(file, v.kind, v.issues.length), v.issues)
    return EXIT.INVALID
  }
  const s = summarize(v.ruleset)
  io.out(
    `✓ ${file} is valid: ${s.segments} segments, ${s.placements} placements, ${s.goals} goals, ${s.experiments.length} experiments`,
  )
  for (const w of v.warnings) io.out(`warning ${issuePath(w)}: ${w.message}`)
  io.out("(selectors were checked against the HTMLRewriter subset; the Worker also asks workerd's parser on publish)")
  return EXIT.OK
}

async function push(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const file = one(positionals, 'ruleset file', 'push')
  const note = str(flags, 'note')
  if (mode(flags) === 'remote') {
    const target = remoteTarget(flags)
    const text = readUserFile(file)
    try {
      JSON.parse(text)
    } catch (err) {
      throw new CliError(EXIT.INVALID, `${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
    }
    const headers: Record<string, string> = note === undefined ? {} : { 'x-veneer-note': encodeURIComponent(note) }
    const r = await callApi(target, 'PUT', '/ruleset', text, { headers })
    const warnings = typeof r === 'object' && r !== null ? (r as { warnings?: unknown }).warnings : undefined
    if (Array.isArray(warnings))
      for (const w of warnings) io.err(`warning ${field(w, 'path') ?? ''}: ${field(w, 'message') ?? ''}`)
    const previous = field(r, 'previous')
    io.out(`published ${field(r, 'version') ?? '?'} to ${target.base}${previous ? ` (was ${previous})` : ''}`)
    return EXIT.OK
  }
  const { v } = validateFile(file, io, { quiet: true })
  const out = await withLocalRules(flags, (store) => publishDocument(store, v.doc, { note }))
  io.out(
    `published ${out.version} to local KV${out.previous ? ` (was ${out.previous})` : ''}; a running \`wrangler dev\` serves it within settings.refreshSeconds`,
  )
  return EXIT.OK
}

async function activeText(flags: Flags, version?: string): Promise<string> {
  if (mode(flags) === 'remote') {
    const path = version === undefined ? '/ruleset' : `/ruleset?version=${encodeURIComponent(version)}`
    return String(await callApi(remoteTarget(flags), 'GET', path, undefined, { raw: true }))
  }
  const text = await withLocalRules(flags, (store) => store.get(version === undefined ? RULESET_KEY : versionKey(version)))
  if (text === null)
    throw new CliError(
      EXIT.INVALID,
      version === undefined ? 'no ruleset is published in local KV' : `no stored version "${version}" in local KV`,
    )
  return text
}

async function pull(positionals: string[], flags: Flags, io: Io): Promise<number> {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, 'pull takes no file; use --out (see veneer pull --help)')
  const text = await activeText(flags, str(flags, 'version'))
  const out = str(flags, 'out')
  if (out === undefined) {
    io.out(text)
    return EXIT.OK
  }
  try {
    writeFileSync(out, text.endsWith('\n') ? text : `${text}\n`)
  } catch (err) {
    throw new CliError(EXIT.IO, `cannot write ${out}: ${errorCode(err)}`)
  }
  io.err(`wrote ${out}`)
  return EXIT.OK
}

async function diff(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const file = one(positionals, 'ruleset file', 'diff')
  const mine = readUserFile(file)
  const active = await activeText(flags)
  let a: string[]
  let b: string[]
  try {
    a = comparableJson(active)
  } catch {
    throw new CliError(EXIT.IO, 'the active ruleset is not valid JSON')
  }
  try {
    b = comparableJson(mine)
  } catch (err) {
    throw new CliError(EXIT.INVALID, `${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  const text = formatDiff(lineDiff(a, b))
  if (text === '') {
    io.out(`no differences between the active ruleset (${activeVersionOf(active) ?? 'no version'}) and ${file}`)
    return EXIT.OK
  }
  io.out(`--- active ${activeVersionOf(active) ?? ''}\n+++ ${file}\n${text}`)
  return bool(flags, 'exit-code') ? EXIT.INVALID : EXIT.OK
}

async function rollback(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const version = one(positionals, 'version', 'rollback')
  if (mode(flags) === 'remote') {
    const r = await callApi(remoteTarget(flags), 'POST', '/ruleset/rollback', { version })
    const previous = field(r, 'previous')
    io.out(`rolled back to ${field(r, 'version') ?? version}${previous ? ` (was ${previous})` : ''}`)
    return EXIT.OK
  }
  const out = await withLocalRules(flags, async (store) => {
    const text = await store.get(versionKey(version))
    if (text === null) return { ok: false as const }
    const check = compileRulesetText(text)
    if (!check.ok) {
      const first = check.issues[0]
      throw new CliError(
        EXIT.INVALID,
        `stored version ${version} does not validate any more: ${first ? `${first.path}: ${first.message}` : ''}`,
      )
    }
    return rollbackTo(store, version)
  })
  if (!out.ok) throw new CliError(EXIT.INVALID, `no stored version "${version}" in local KV (see veneer versions)`)
  io.out(`rolled back to ${out.version} in local KV${out.previous ? ` (was ${out.previous})` : ''}`)
  return EXIT.OK
}

interface VersionList {
  active?: string
  versions: { version: string; publishedAt: string; size: number; note?: string }[]
}

async function versions(positionals: string[], flags: Flags, io: Io): Promise<number> {
  none(positionals, 'versions')
  const list: VersionList =
    mode(flags) === 'remote'
      ? ((await callApi(remoteTarget(flags), 'GET', '/ruleset/versions')) as VersionList)
      : await withLocalRules(flags, (store) => listVersions(store))
  if (bool(flags, 'json')) {
    io.out(JSON.stringify(list, null, 2))
    return EXIT.OK
  }
  io.out(`active: ${list.active ?? '(none)'}`)
  for (const v of list.versions ?? [])
    io.out(`${v.version === list.active ? '*' : ' '} ${v.version}  ${v.publishedAt}  ${v.size} B${v.note ? `  ${v.note}` : ''}`)
  return EXIT.OK
}

export const rulesetCommands: Record<string, Command> = {
  validate: {
    usage: 'veneer validate <file>',
    about: "Validates a ruleset file with the Worker's schema and compiler; prints every error with its JSON path, and warnings.",
    options: { json: { type: 'boolean', desc: 'print the result as JSON' } },
    run: validate,
  },
  push: {
    usage: 'veneer push <file> [--local | --remote --url <url>] [--note <text>]',
    about: 'Validates and publishes a ruleset: a new version `v<n>-<time>` written to `ruleset:v:<version>`, then `ruleset`.',
    options: { ...TARGET, note: { type: 'string', desc: 'a note kept in the version history' } },
    run: push,
  },
  pull: {
    usage: 'veneer pull [--local | --remote] [--version <v>] [--out <file>]',
    about: 'Prints the active ruleset (or a stored version) as JSON, or writes it to --out.',
    options: {
      ...TARGET,
      version: { type: 'string', desc: 'a stored version instead of the active one' },
      out: { type: 'string', desc: 'write to this file' },
    },
    run: pull,
  },
  diff: {
    usage: 'veneer diff <file> [--local | --remote]',
    about: 'A line diff of the active ruleset against a file, as pretty JSON (the server-assigned `version` ignored).',
    options: { ...TARGET, 'exit-code': { type: 'boolean', desc: 'exit 1 when there are differences' } },
    run: diff,
  },
  rollback: {
    usage: 'veneer rollback <version> [--local | --remote]',
    about: 'Makes a stored version active again (copies `ruleset:v:<version>` to `ruleset`).',
    options: TARGET,
    run: rollback,
  },
  versions: {
    usage: 'veneer versions [--local | --remote]',
    about: 'Lists the published versions, newest first, and the active one.',
    options: { ...TARGET, json: { type: 'boolean', desc: 'print JSON' } },
    run: versions,
  },
}
