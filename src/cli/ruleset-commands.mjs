// Ruleset commands: validate, push, pull, diff, rollback, versions (local KV or the admin API).
import { writeFileSync } from 'node:fs'
import { CliError, EXIT, readUserFile } from './env.mjs'
import { withLocalRules } from './local.mjs'
import { callApi, remoteTarget } from './remote.mjs'
import { lib, mode, one, printIssues, validateFile } from './shared.mjs'

export async function validate(positionals, flags, io) {
  const file = one(positionals, 'ruleset file', 'validate')
  const text = readUserFile(file)
  const { validateText, summarize } = await lib()
  const v = validateText(text)
  if (flags.json) {
    io.out(
      JSON.stringify(
        v.ok
          ? { ok: true, errors: [], warnings: v.warnings, summary: summarize(v.ruleset) }
          : { ok: false, errors: v.issues, warnings: v.warnings },
        null,
        2,
      ),
    )
    return v.ok ? EXIT.OK : EXIT.INVALID
  }
  if (!v.ok) {
    printIssues(
      io,
      `✗ ${file} is ${v.kind === 'invalid_json' ? 'not valid JSON' : 'not a valid ruleset'} (${v.issues.length} problem${v.issues.length === 1 ? '' : 's'}):`,
      v.issues,
    )
    return EXIT.INVALID
  }
  const s = summarize(v.ruleset)
  io.out(
    `✓ ${file} is valid: ${s.segments} segments, ${s.placements} placements, ${s.goals} goals, ${s.experiments.length} experiments`,
  )
  for (const w of v.warnings) io.out(`warning ${w.path === '' ? '(root)' : w.path}: ${w.message}`)
  io.out("(selectors were checked against the HTMLRewriter subset; the Worker also asks workerd's parser on publish)")
  return EXIT.OK
}

export async function push(positionals, flags, io) {
  const file = one(positionals, 'ruleset file', 'push')
  if (mode(flags) === 'remote') {
    const target = remoteTarget(flags)
    const text = readUserFile(file)
    try {
      JSON.parse(text)
    } catch (err) {
      throw new CliError(EXIT.INVALID, `${file} is not valid JSON: ${err.message}`)
    }
    const headers = flags.note === undefined ? {} : { 'x-veneer-note': encodeURIComponent(flags.note) }
    const r = await callApi(target, 'PUT', '/ruleset', text, { headers })
    for (const w of r.warnings ?? []) io.err(`warning ${w.path}: ${w.message}`)
    io.out(`published ${r.version} to ${target.base}${r.previous ? ` (was ${r.previous})` : ''}`)
    return EXIT.OK
  }
  const { v } = await validateFile(file, io, { quiet: true })
  const { publishDocument } = await lib()
  const out = await withLocalRules(flags, (store) => publishDocument(store, v.doc, { note: flags.note }))
  io.out(
    `published ${out.version} to local KV${out.previous ? ` (was ${out.previous})` : ''}; a running \`wrangler dev\` serves it within settings.refreshSeconds`,
  )
  return EXIT.OK
}

async function activeText(flags, version) {
  if (mode(flags) === 'remote') {
    const target = remoteTarget(flags)
    return callApi(
      target,
      'GET',
      version === undefined ? '/ruleset' : `/ruleset?version=${encodeURIComponent(version)}`,
      undefined,
      { raw: true },
    )
  }
  const { RULESET_KEY, versionKey } = await lib()
  const text = await withLocalRules(flags, (store) => store.get(version === undefined ? RULESET_KEY : versionKey(version)))
  if (text === null)
    throw new CliError(
      EXIT.INVALID,
      version === undefined ? 'no ruleset is published in local KV' : `no stored version "${version}" in local KV`,
    )
  return text
}

export async function pull(positionals, flags, io) {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, 'pull takes no file; use --out (see veneer pull --help)')
  const text = await activeText(flags, flags.version)
  if (flags.out !== undefined) {
    try {
      writeFileSync(flags.out, text.endsWith('\n') ? text : `${text}\n`)
    } catch (err) {
      throw new CliError(EXIT.IO, `cannot write ${flags.out}: ${err.code ?? err.message}`)
    }
    io.err(`wrote ${flags.out}`)
  } else io.out(text)
  return EXIT.OK
}

export async function diff(positionals, flags, io) {
  const file = one(positionals, 'ruleset file', 'diff')
  const mine = readUserFile(file)
  const active = await activeText(flags)
  const { comparableJson, lineDiff, formatDiff, activeVersionOf } = await lib()
  let a, b
  try {
    a = comparableJson(active)
  } catch {
    throw new CliError(EXIT.IO, 'the active ruleset is not valid JSON')
  }
  try {
    b = comparableJson(mine)
  } catch (err) {
    throw new CliError(EXIT.INVALID, `${file} is not valid JSON: ${err.message}`)
  }
  const text = formatDiff(lineDiff(a, b))
  if (text === '') {
    io.out(`no differences between the active ruleset (${activeVersionOf(active) ?? 'no version'}) and ${file}`)
    return EXIT.OK
  }
  io.out(`--- active ${activeVersionOf(active) ?? ''}\n+++ ${file}\n${text}`)
  return flags['exit-code'] ? EXIT.INVALID : EXIT.OK
}

export async function rollback(positionals, flags, io) {
  const version = one(positionals, 'version', 'rollback')
  if (mode(flags) === 'remote') {
    const target = remoteTarget(flags)
    const r = await callApi(target, 'POST', '/ruleset/rollback', { version })
    io.out(`rolled back to ${r.version}${r.previous ? ` (was ${r.previous})` : ''}`)
    return EXIT.OK
  }
  const { rollbackTo, compileRulesetText, versionKey } = await lib()
  const out = await withLocalRules(flags, async (store) => {
    const text = await store.get(versionKey(version))
    if (text === null) return { ok: false }
    const check = compileRulesetText(text)
    if (!check.ok)
      throw new CliError(
        EXIT.INVALID,
        `stored version ${version} does not validate any more: ${check.issues[0].path}: ${check.issues[0].message}`,
      )
    return rollbackTo(store, version)
  })
  if (!out.ok) throw new CliError(EXIT.INVALID, `no stored version "${version}" in local KV`)
  io.out(`rolled back to ${out.version} in local KV${out.previous ? ` (was ${out.previous})` : ''}`)
  return EXIT.OK
}

export async function versions(_positionals, flags, io) {
  let list
  if (mode(flags) === 'remote') list = await callApi(remoteTarget(flags), 'GET', '/ruleset/versions')
  else {
    const { listVersions } = await lib()
    list = await withLocalRules(flags, (store) => listVersions(store))
  }
  if (flags.json) io.out(JSON.stringify(list, null, 2))
  else {
    io.out(`active: ${list.active ?? '(none)'}`)
    for (const v of list.versions)
      io.out(`${v.version === list.active ? '*' : ' '} ${v.version}  ${v.publishedAt}  ${v.size} B${v.note ? `  ${v.note}` : ''}`)
  }
  return EXIT.OK
}
