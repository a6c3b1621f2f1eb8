/**
 * Guardrails (SPEC 12.2): an experiment with `guardrails: [goalId…]` stops itself when an arm
 * is worse on one of those goals by the anytime-valid interval (its cs95 lies wholly below zero).
 * Stopping publishes a new ruleset version with `experiment.stopped` set, through the same
 * publish code as the admin API, so it is in the history and a rollback resumes the experiment.
 * Stopped experiments serve control (src/experiments/hooks.ts) and keep their results.
 *
 * Where it runs: in the queue consumer right after a batch is stored (only for experiments the
 * batch touched, at most once per {@link CHECK_EVERY_MS} per isolate), because that is when new
 * evidence arrives and the data are freshest; and in the scheduled handler for every guarded
 * experiment, the backstop when no queue is bound (add a frequent cron then; docs/measurement.md).
 * Because cs95 is valid however often it is read, checking often does not raise false stops.
 */
import { kvStore, publishDocument } from '../admin/versions'
import type { Env } from '../env'
import { compileRulesetText } from '../rules/compile'
import { RULESET_KEY } from '../rules/store'
import { logError } from '../util/log'
import { guardrailBreaches } from './analysis'
import { experimentResults } from './results'

/** The consumer checks at most this often per isolate. */
export const CHECK_EVERY_MS = 5 * 60_000

export interface GuardrailStop {
  experiment: string
  arm: string
  goal: string
  cs95: [number, number]
}

export interface GuardrailOutcome {
  checked: string[]
  stopped: GuardrailStop[]
  /** The published version, when something was stopped. */
  version?: string
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The experiment objects of a ruleset document, by id (untrusted JSON, walked with guards). */
function experimentsOf(doc: Json): Map<string, Json> {
  const out = new Map<string, Json>()
  const placements = Array.isArray(doc.placements) ? doc.placements : []
  for (const pl of placements) {
    const rules = isObject(pl) && Array.isArray(pl.rules) ? pl.rules : []
    for (const rule of rules) {
      const e = isObject(rule) ? rule.experiment : undefined
      if (isObject(e) && typeof e.id === 'string') out.set(e.id, e)
    }
  }
  return out
}

/**
 * Checks guarded, running experiments (all, or only those in `only`) and stops the ones with a
 * breach in one new published version. Never throws (logged).
 */
export async function checkGuardrails(
  env: Env,
  options: { only?: ReadonlySet<string>; now?: Date } = {},
): Promise<GuardrailOutcome> {
  const outcome: GuardrailOutcome = { checked: [], stopped: [] }
  const db = env.DB
  const kv = env.RULES
  if (db === undefined || kv === undefined) return outcome
  try {
    const store = kvStore(kv)
    const text = await store.get(RULESET_KEY)
    if (text === null) return outcome
    const compiled = compileRulesetText(text)
    if (!compiled.ok) return outcome
    const ruleset = compiled.ruleset
    const doc: unknown = JSON.parse(text)
    if (!isObject(doc)) return outcome
    const docExperiments = experimentsOf(doc)
    const now = options.now ?? new Date()
    for (const pl of ruleset.doc.placements) {
      for (const rule of pl.rules) {
        const e = rule.experiment
        if (e === undefined || e.stopped !== undefined || (e.guardrails ?? []).length === 0) continue
        if (options.only !== undefined && !options.only.has(e.id)) continue
        if (outcome.checked.includes(e.id)) continue
        outcome.checked.push(e.id)
        const results = await experimentResults(db, ruleset, e.id)
        if (results === undefined) continue
        const breach = guardrailBreaches(results.arms, results.control)[0]
        const target = docExperiments.get(e.id)
        if (breach === undefined || target === undefined) continue
        const pctRange = `${(breach.cs95[0] * 100).toFixed(2)} to ${(breach.cs95[1] * 100).toFixed(2)} points`
        target.stopped = {
          at: now.toISOString(),
          reason: `guardrail "${breach.goal}": "${breach.arm}" is worse (95% confidence sequence ${pctRange}).`,
        }
        outcome.stopped.push({ experiment: e.id, ...breach })
      }
    }
    if (outcome.stopped.length === 0) return outcome
    const note = `guardrail stop: ${outcome.stopped.map((s) => `${s.experiment} (${s.goal})`).join(', ')}`
    const published = await publishDocument(store, doc, { note, at: now })
    outcome.version = published.version
    console.log(JSON.stringify({ level: 'info', source: 'veneer', code: 'guardrail_stopped', note, version: published.version }))
  } catch (err) {
    logError('guardrail_check_failed', err)
  }
  return outcome
}

let lastCheck = 0

/**
 * The consumer's hook: checks the experiments a stored batch touched, at most once per
 * {@link CHECK_EVERY_MS} per isolate (the rest waits for the next batch or the cron).
 */
export async function checkTouched(
  env: Env,
  experiments: ReadonlySet<string>,
  now: number = Date.now(),
): Promise<GuardrailOutcome | undefined> {
  if (experiments.size === 0 || now - lastCheck < CHECK_EVERY_MS) return undefined
  lastCheck = now
  return checkGuardrails(env, { only: experiments, now: new Date(now) })
}

/** Tests only: forget when the consumer last checked. */
export function resetGuardrailClock(): void {
  lastCheck = 0
}
