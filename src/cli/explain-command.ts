// `veneer explain`: the decision trace for a simulated visitor, local (Node) or remote (API).
import { type ExplainResult, explain } from '../admin/explain'
import type { Env } from '../env'
import { compileRulesetText } from '../rules/compile'
import { listKey, parseListText } from '../rules/lists'
import { RULESET_KEY } from '../rules/store'
import { bool, CliError, type Command, EXIT, type Flags, type Io, parseUserJson, readDevVars, readUserFile, str } from './io'
import { withLocalRules } from './local'
import { callApi, remoteTarget } from './remote'
import { mode, one, printIssues, TARGET } from './shared'

function readJsonFile(file: string, what: string): unknown {
  return parseUserJson(readUserFile(file), `${what} ${file}`)
}

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}

function printTrace(io: Io, t: ExplainResult): void {
  io.out(`ruleset ${t.rulesetVersion}, path ${t.path}: x-veneer ${t.xVeneer ?? '(not handled)'}`)
  if (t.note) io.out(`note: ${t.note}`)
  const c = t.context
  if (c)
    io.out(
      `context: ${c.geo.country ?? '?'}${c.geo.city ? `/${c.geo.city}` : ''}, ${c.device.type}, ${c.time.dayOfWeek} ${pad2(c.time.hour)}:${pad2(c.time.minute)} local`,
    )
  if (t.segments.length > 0) {
    const matched = t.segments.filter((s) => s.matched).map((s) => s.id)
    io.out(`segments matched: ${matched.join(', ') || '(none)'}`)
  }
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
    for (const op of w.ops) {
      const o = op as { op: string; name?: string; value?: unknown; className?: string }
      const detail = o.value !== undefined ? ` ${JSON.stringify(o.value)}` : o.className ? ` ${o.className}` : ''
      io.out(`    ${w.selector} ${o.op}${o.name ? ` ${o.name}` : ''}${detail}`)
    }
}

const SECRET_NAMES = ['VISITOR_SECRET', 'PROFILE_SECRET', 'PROFILE_JWKS', 'QA_SECRET'] as const

async function explainCmd(positionals: string[], flags: Flags, io: Io): Promise<number> {
  const file = one(positionals, 'context file', 'explain')
  const context = readJsonFile(file, 'context')
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    throw new CliError(EXIT.INVALID, `${file} must hold a JSON object`)
  const rulesetFile = str(flags, 'ruleset')
  let trace: ExplainResult
  if (mode(flags) === 'remote') {
    const body = rulesetFile === undefined ? context : { context, ruleset: readJsonFile(rulesetFile, 'ruleset') }
    trace = (await callApi(remoteTarget(flags), 'POST', '/explain', body)) as ExplainResult
  } else {
    // From local KV, the saved lists its `$inList` tests name are read too; with --ruleset they are
    // empty (such a test matches nothing), as in a Worker where the list is not published.
    const { text, lists } =
      rulesetFile === undefined
        ? await withLocalRules(flags, async (store) => {
            const t = await store.get(RULESET_KEY)
            const first = t === null ? undefined : compileRulesetText(t)
            const names = first?.ok ? (first.ruleset.listNames ?? []) : []
            const entries = await Promise.all(
              names.map(async (n) => {
                const parsed = parseListText((await store.get(listKey(n))) ?? '[]')
                return [n, new Set(parsed.ok ? parsed.items : [])] as const
              }),
            )
            return { text: t, lists: new Map<string, ReadonlySet<string>>(entries) }
          })
        : { text: readUserFile(rulesetFile), lists: undefined }
    if (text === null) throw new CliError(EXIT.INVALID, 'no ruleset is published in local KV; pass --ruleset <file>')
    const compiled = compileRulesetText(text, { lists })
    if (!compiled.ok) {
      printIssues(io, 'the ruleset is not valid:', compiled.issues)
      return EXIT.INVALID
    }
    // The secrets a request would use (to read cookies given in "headers"), from .dev.vars.
    const env: Env = { ...pickSecrets(readDevVars()), ...pickSecrets(process.env) }
    trace = await explain(compiled.ruleset, context as Record<string, unknown>, env)
  }
  if (bool(flags, 'json')) io.out(JSON.stringify(trace, null, 2))
  else printTrace(io, trace)
  return EXIT.OK
}

function pickSecrets(source: Record<string, string | undefined>): Env {
  const out: Record<string, string> = {}
  for (const k of SECRET_NAMES) {
    const v = source[k]
    if (v !== undefined && v !== '') out[k] = v
  }
  return out
}

export const explainCommands: Record<string, Command> = {
  explain: {
    usage: 'veneer explain <context.json> [--ruleset <file>] [--local | --remote] [--json]',
    about:
      'Explains what a visitor gets: segments, and per placement the variant, the rule and the operations.\n' +
      'The context is partial JSON, e.g. {"geo":{"country":"DE"},"device":{"type":"mobile"},"time":{"hour":20},"path":"/"}.\n' +
      '--local (default) runs the same decide code in Node with the ruleset from --ruleset or local KV; --remote calls POST api/explain.',
    options: {
      ...TARGET,
      ruleset: { type: 'string', desc: 'explain this ruleset file instead of the active one' },
      json: { type: 'boolean', desc: 'print the full trace as JSON' },
    },
    run: explainCmd,
  },
}
