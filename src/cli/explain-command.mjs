// `veneer explain`: the decision trace for a simulated visitor, local (Node) or remote (API).
import { CliError, EXIT, readDevVars, readUserFile } from './env.mjs'
import { withLocalRules } from './local.mjs'
import { callApi, remoteTarget } from './remote.mjs'
import { lib, mode, one, printIssues } from './shared.mjs'

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
  if (t.context)
    io.out(
      `context: ${t.context.geo.country ?? '?'}${t.context.geo.city ? `/${t.context.geo.city}` : ''}, ${t.context.device.type}, ${t.context.time.dayOfWeek} ${String(t.context.time.hour).padStart(2, '0')}:${String(t.context.time.minute).padStart(2, '0')} local`,
    )
  if (t.segments.length > 0)
    io.out(
      `segments matched: ${
        t.segments
          .filter((s) => s.matched)
          .map((s) => s.id)
          .join(', ') || '(none)'
      }`,
    )
  for (const p of t.placements) {
    const r = p.reason
    const why =
      r.kind === 'rule'
        ? `rule ${r.rule}`
        : r.kind === 'experiment'
          ? `experiment ${r.experiment} (rule ${r.rule})`
          : r.kind === 'experiment-skipped'
            ? `experiment ${r.experiment} skipped: ${r.why}`
            : r.kind
    io.out(`  ${p.placement}: ${p.variant}  (${why})`)
  }
  for (const w of t.rewrite)
    for (const op of w.ops)
      io.out(
        `    ${w.selector} ${op.op}${op.name ? ` ${op.name}` : ''}${op.value !== undefined ? ` ${JSON.stringify(op.value)}` : op.className ? ` ${op.className}` : ''}`,
      )
}

export async function explainCmd(positionals, flags, io) {
  const file = one(positionals, 'context file', 'explain')
  const context = readJsonFile(file, 'context')
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    throw new CliError(EXIT.INVALID, `${file} must hold a JSON object`)
  let trace
  if (mode(flags) === 'remote') {
    const body = flags.ruleset === undefined ? context : { context, ruleset: readJsonFile(flags.ruleset, 'ruleset') }
    trace = await callApi(remoteTarget(flags), 'POST', '/explain', body)
  } else {
    const { compileRulesetText, explain, RULESET_KEY } = await lib()
    const text =
      flags.ruleset !== undefined ? readUserFile(flags.ruleset) : await withLocalRules(flags, (store) => store.get(RULESET_KEY))
    if (text === null) throw new CliError(EXIT.INVALID, 'no ruleset is published in local KV; pass --ruleset <file>')
    const compiled = compileRulesetText(text)
    if (!compiled.ok) {
      printIssues(io, 'the ruleset is not valid:', compiled.issues)
      return EXIT.INVALID
    }
    // The secrets a request would use (to read cookies given in "headers"), from .dev.vars.
    trace = await explain(compiled.ruleset, context, {
      ...readDevVars(),
      ...pick(process.env, ['VISITOR_SECRET', 'PROFILE_SECRET', 'PROFILE_JWKS', 'QA_SECRET']),
    })
  }
  if (flags.json) io.out(JSON.stringify(trace, null, 2))
  else printTrace(io, trace)
  return EXIT.OK
}

function pick(obj, keys) {
  return Object.fromEntries(keys.filter((k) => obj[k] !== undefined && obj[k] !== '').map((k) => [k, obj[k]]))
}
