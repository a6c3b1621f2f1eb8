// `veneer`: thin wrappers over the Worker's own schema, publishing, explain and token code (SPEC 10).
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadTs } from '../../scripts/load-ts.mjs'
import { CliError, EXIT, readDevVars, readUserFile, secret } from './env.mjs'
import { withLocalRules } from './local.mjs'
import { callApi, remoteTarget } from './remote.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
let libPromise
/** The Worker's TypeScript, bundled once per run. */
const lib = () => (libPromise ??= loadTs(join(root, 'src', 'cli', 'lib.ts')))

const TARGET = {
  local: { type: 'boolean', desc: 'use the `wrangler dev` local state (default)' },
  remote: { type: 'boolean', desc: 'use the admin API of a running Worker' },
  url: { type: 'string', desc: 'the Worker for --remote (default $VENEER_URL or http://localhost:8787); token from $VENEER_ADMIN_TOKEN' },
  'persist-to': { type: 'string', desc: 'the local state folder, as for `wrangler dev --persist-to`' },
  config: { type: 'string', desc: 'wrangler.toml to read for --local (default ./wrangler.toml)' },
}
const HELP = { help: { type: 'boolean', short: 'h', desc: 'show this help' } }

const COMMANDS = {
  validate: {
    usage: 'veneer validate <file>',
    about: 'Validates a ruleset file with the Worker\'s schema and compiler; prints every error with its JSON path, and warnings.',
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
    options: { ...TARGET, version: { type: 'string', desc: 'a stored version instead of the active one' }, out: { type: 'string', desc: 'write to this file' } },
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
  'qa-token': {
    usage: 'veneer qa-token [--ttl 8h] [--sub <name>]',
    about: 'Mints a QA token (HS256, QA_SECRET from the environment or .dev.vars), at most 7 days. Prints only the token.',
    options: { ttl: { type: 'string', desc: 'lifetime: 30m, 8h, 2d or seconds (default 8h, at most 7d)' }, sub: { type: 'string', desc: 'the subject (who it is for)' } },
    run: qaToken,
  },
  explain: {
    usage: 'veneer explain <context.json> [--ruleset <file>] [--local | --remote] [--json]',
    about: 'Explains what a visitor gets: segments, and per placement the variant, the rule and the operations.\n' +
      'The context is partial JSON, e.g. {"geo":{"country":"DE"},"device":{"type":"mobile"},"time":{"hour":20},"path":"/"}.\n' +
      '--local (default) runs the same decide code in Node with the ruleset from --ruleset or local KV; --remote calls POST api/explain.',
    options: { ...TARGET, ruleset: { type: 'string', desc: 'explain this ruleset file instead of the active one' }, json: { type: 'boolean', desc: 'print the full trace as JSON' } },
    run: explainCmd,
  },
  'profile-token': {
    usage: 'veneer profile-token --claim tier=gold [--claim interests=["run"]] [--ttl 1h] [--sub <id>] [--kid <kid>]',
    about: 'Mints a site profile token (veneer_profile) for testing: HS256 with PROFILE_SECRET from the environment or .dev.vars.\n' +
      'Claim values are JSON when they parse as JSON, else strings. Prints only the token.',
    options: { claim: { type: 'string', multiple: true, desc: 'a claim, name=value (repeatable)' }, ttl: { type: 'string', desc: 'lifetime (default 1h)' }, sub: { type: 'string', desc: 'the subject' }, kid: { type: 'string', desc: 'a key id header' } },
    run: profileToken,
  },
}

function helpText(name) {
  if (name === undefined) {
    const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(14)}${c.about.split('\n')[0]}`)
    return `veneer: manage Veneer rulesets, QA and test tokens.\n\nUsage: veneer <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nveneer <command> --help shows a command's options.\nExit codes: 0 ok, 1 validation or usage failure, 2 remote or I/O failure.`
  }
  const c = COMMANDS[name]
  const opts = Object.entries({ ...c.options, ...HELP }).map(([k, o]) => `  --${k}${o.type === 'string' ? ' <value>' : ''}`.padEnd(26) + o.desc)
  return `Usage: ${c.usage}\n\n${c.about}\n\nOptions:\n${opts.join('\n')}`
}

/** Runs the CLI; resolves to the exit code. `out`/`err` are injectable for tests. */
export async function main(argv, io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) }) {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText(rest[0] in COMMANDS ? rest[0] : undefined))
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    io.err(`veneer: unknown command "${name}"\n\n${helpText()}`)
    return EXIT.USAGE
  }
  let parsed
  try {
    const options = Object.fromEntries(
      Object.entries({ ...command.options, ...HELP }).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
    )
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
  } catch (err) {
    io.err(`veneer ${name}: ${err.message}\n\n${helpText(name)}`)
    return EXIT.USAGE
  }
  if (parsed.values.help) {
    io.out(helpText(name))
    return EXIT.OK
  }
  try {
    return (await command.run(parsed.positionals, parsed.values, io)) ?? EXIT.OK
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`veneer ${name}: ${err.message}`)
      return err.code
    }
    io.err(`veneer ${name}: unexpected failure: ${err?.stack ?? err}`)
    return EXIT.IO
  }
}

function one(positionals, what, name) {
  if (positionals.length !== 1) throw new CliError(EXIT.USAGE, `expected exactly one ${what}\n\n${helpText(name)}`)
  return positionals[0]
}

function mode(flags) {
  if (flags.local && flags.remote) throw new CliError(EXIT.USAGE, 'choose --local or --remote, not both')
  return flags.remote || (flags.url !== undefined && !flags.local) ? 'remote' : 'local'
}

function printIssues(io, title, issues) {
  io.err(title)
  for (const i of issues) io.err(`  ${i.path === '' ? '(root)' : i.path}: ${i.message}`)
}

/** Validates a file with the Worker's code; throws (exit 1) with every issue when invalid. */
async function validateFile(file, io, { quiet = false } = {}) {
  const text = readUserFile(file)
  const { validateText, summarize } = await lib()
  const v = validateText(text)
  if (!v.ok) {
    printIssues(io, `✗ ${file} is ${v.kind === 'invalid_json' ? 'not valid JSON' : 'not a valid ruleset'} (${v.issues.length} problem${v.issues.length === 1 ? '' : 's'}):`, v.issues)
    throw new CliError(EXIT.INVALID, `${file} was not ${quiet ? 'published' : 'accepted'}`)
  }
  for (const w of v.warnings) io.err(`warning ${w.path === '' ? '(root)' : w.path}: ${w.message}`)
  return { text, v, summary: summarize(v.ruleset) }
}

async function validate(positionals, flags, io) {
  const file = one(positionals, 'ruleset file', 'validate')
  const text = readUserFile(file)
  const { validateText, summarize } = await lib()
  const v = validateText(text)
  if (flags.json) {
    io.out(JSON.stringify(v.ok ? { ok: true, errors: [], warnings: v.warnings, summary: summarize(v.ruleset) } : { ok: false, errors: v.issues, warnings: v.warnings }, null, 2))
    return v.ok ? EXIT.OK : EXIT.INVALID
  }
  if (!v.ok) {
    printIssues(io, `✗ ${file} is ${v.kind === 'invalid_json' ? 'not valid JSON' : 'not a valid ruleset'} (${v.issues.length} problem${v.issues.length === 1 ? '' : 's'}):`, v.issues)
    return EXIT.INVALID
  }
  const s = summarize(v.ruleset)
  io.out(`✓ ${file} is valid: ${s.segments} segments, ${s.placements} placements, ${s.goals} goals, ${s.experiments.length} experiments`)
  for (const w of v.warnings) io.out(`warning ${w.path === '' ? '(root)' : w.path}: ${w.message}`)
  io.out('(selectors were checked against the HTMLRewriter subset; the Worker also asks workerd\'s parser on publish)')
  return EXIT.OK
}

async function push(positionals, flags, io) {
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
  io.out(`published ${out.version} to local KV${out.previous ? ` (was ${out.previous})` : ''}; a running \`wrangler dev\` serves it within settings.refreshSeconds`)
  return EXIT.OK
}

async function activeText(flags, version) {
  if (mode(flags) === 'remote') {
    const target = remoteTarget(flags)
    return callApi(target, 'GET', version === undefined ? '/ruleset' : `/ruleset?version=${encodeURIComponent(version)}`, undefined, { raw: true })
  }
  const { RULESET_KEY, versionKey } = await lib()
  const text = await withLocalRules(flags, (store) => store.get(version === undefined ? RULESET_KEY : versionKey(version)))
  if (text === null) throw new CliError(EXIT.INVALID, version === undefined ? 'no ruleset is published in local KV' : `no stored version "${version}" in local KV`)
  return text
}

async function pull(positionals, flags, io) {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `pull takes no file; use --out\n\n${helpText('pull')}`)
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

async function diff(positionals, flags, io) {
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

async function rollback(positionals, flags, io) {
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
    if (!check.ok) throw new CliError(EXIT.INVALID, `stored version ${version} does not validate any more: ${check.issues[0].path}: ${check.issues[0].message}`)
    return rollbackTo(store, version)
  })
  if (!out.ok) throw new CliError(EXIT.INVALID, `no stored version "${version}" in local KV`)
  io.out(`rolled back to ${out.version} in local KV${out.previous ? ` (was ${out.previous})` : ''}`)
  return EXIT.OK
}

async function versions(positionals, flags, io) {
  let list
  if (mode(flags) === 'remote') list = await callApi(remoteTarget(flags), 'GET', '/ruleset/versions')
  else {
    const { listVersions } = await lib()
    list = await withLocalRules(flags, (store) => listVersions(store))
  }
  if (flags.json) io.out(JSON.stringify(list, null, 2))
  else {
    io.out(`active: ${list.active ?? '(none)'}`)
    for (const v of list.versions) io.out(`${v.version === list.active ? '*' : ' '} ${v.version}  ${v.publishedAt}  ${v.size} B${v.note ? `  ${v.note}` : ''}`)
  }
  return EXIT.OK
}

async function qaToken(positionals, flags, io) {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `qa-token takes no arguments\n\n${helpText('qa-token')}`)
  const key = secret('QA_SECRET')
  if (key === undefined) throw new CliError(EXIT.USAGE, 'QA_SECRET is not set (environment or .dev.vars)')
  const { parseTtl, mintQaToken, MAX_QA_TTL_SECONDS } = await lib()
  const ttl = parseTtl(flags.ttl ?? '8h')
  if (ttl === undefined) throw new CliError(EXIT.USAGE, `--ttl ${flags.ttl} is not a duration (30m, 8h, 2d or seconds)`)
  if (ttl > MAX_QA_TTL_SECONDS) throw new CliError(EXIT.USAGE, '--ttl is at most 7d')
  io.out(await mintQaToken(key, ttl, flags.sub ?? 'qa'))
  io.err(`valid until ${new Date(Date.now() + ttl * 1000).toISOString()}; send it as x-veneer-qa, or open /__veneer/qa?token=…`)
  return EXIT.OK
}

function readJsonFile(file, what) {
  const text = readUserFile(file)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new CliError(EXIT.INVALID, `${what} ${file} is not valid JSON: ${err.message}`)
  }
}

function printTrace(io, t) {
  io.out(`ruleset ${t.rulesetVersion}, path ${t.path}: x-veneer ${t.xVeneer ?? '(not handled)'}`)
  if (t.note) io.out(`note: ${t.note}`)
  if (t.context) io.out(`context: ${t.context.geo.country ?? '?'}${t.context.geo.city ? `/${t.context.geo.city}` : ''}, ${t.context.device.type}, ${t.context.time.dayOfWeek} ${String(t.context.time.hour).padStart(2, '0')}:${String(t.context.time.minute).padStart(2, '0')} local`)
  if (t.segments.length > 0) io.out(`segments matched: ${t.segments.filter((s) => s.matched).map((s) => s.id).join(', ') || '(none)'}`)
  for (const p of t.placements) {
    const r = p.reason
    const why = r.kind === 'rule' ? `rule ${r.rule}` : r.kind === 'experiment' ? `experiment ${r.experiment} (rule ${r.rule})` : r.kind === 'experiment-skipped' ? `experiment ${r.experiment} skipped: ${r.why}` : r.kind
    io.out(`  ${p.placement}: ${p.variant}  (${why})`)
  }
  for (const w of t.rewrite) for (const op of w.ops) io.out(`    ${w.selector} ${op.op}${op.name ? ` ${op.name}` : ''}${op.value !== undefined ? ` ${JSON.stringify(op.value)}` : op.className ? ` ${op.className}` : ''}`)
}

async function explainCmd(positionals, flags, io) {
  const file = one(positionals, 'context file', 'explain')
  const context = readJsonFile(file, 'context')
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new CliError(EXIT.INVALID, `${file} must hold a JSON object`)
  let trace
  if (mode(flags) === 'remote') {
    const body = flags.ruleset === undefined ? context : { context, ruleset: readJsonFile(flags.ruleset, 'ruleset') }
    trace = await callApi(remoteTarget(flags), 'POST', '/explain', body)
  } else {
    const { compileRulesetText, explain, RULESET_KEY } = await lib()
    const text = flags.ruleset !== undefined ? readUserFile(flags.ruleset) : await withLocalRules(flags, (store) => store.get(RULESET_KEY))
    if (text === null) throw new CliError(EXIT.INVALID, 'no ruleset is published in local KV; pass --ruleset <file>')
    const compiled = compileRulesetText(text)
    if (!compiled.ok) {
      printIssues(io, 'the ruleset is not valid:', compiled.issues)
      return EXIT.INVALID
    }
    // The secrets a request would use (to read cookies given in "headers"), from .dev.vars.
    trace = await explain(compiled.ruleset, context, { ...readDevVars(), ...pick(process.env, ['VISITOR_SECRET', 'PROFILE_SECRET', 'PROFILE_JWKS', 'QA_SECRET']) })
  }
  if (flags.json) io.out(JSON.stringify(trace, null, 2))
  else printTrace(io, trace)
  return EXIT.OK
}

function pick(obj, keys) {
  return Object.fromEntries(keys.filter((k) => obj[k] !== undefined && obj[k] !== '').map((k) => [k, obj[k]]))
}

function claimValue(raw) {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

async function profileToken(positionals, flags, io) {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `profile-token takes no arguments\n\n${helpText('profile-token')}`)
  const key = secret('PROFILE_SECRET')
  if (key === undefined) throw new CliError(EXIT.USAGE, 'PROFILE_SECRET is not set (environment or .dev.vars)')
  const claims = {}
  for (const c of flags.claim ?? []) {
    const i = c.indexOf('=')
    if (i <= 0) throw new CliError(EXIT.USAGE, `--claim ${c}: expected name=value`)
    const name = c.slice(0, i)
    if (['exp', 'iat', 'nbf'].includes(name)) throw new CliError(EXIT.USAGE, `--claim ${name}: set times with --ttl`)
    claims[name] = claimValue(c.slice(i + 1))
  }
  const { parseTtl, mintTestProfileToken } = await lib()
  const ttl = parseTtl(flags.ttl ?? '1h')
  if (ttl === undefined) throw new CliError(EXIT.USAGE, `--ttl ${flags.ttl} is not a duration`)
  io.out(await mintTestProfileToken(key, claims, ttl, { subject: flags.sub, kid: flags.kid }))
  io.err(`valid until ${new Date(Date.now() + ttl * 1000).toISOString()}; set it as the veneer_profile cookie`)
  return EXIT.OK
}
