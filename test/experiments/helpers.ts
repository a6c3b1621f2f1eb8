import { buildContext, contextualContext } from '../../src/context/build'
import type { Context, VisitorState } from '../../src/context/types'
import { decide } from '../../src/decide/decide'
import type { Decision } from '../../src/decide/types'
import { experimentHooks } from '../../src/experiments/hooks'
import { compileRuleset, type CompiledRuleset } from '../../src/rules/compile'
import type { RulesetInput } from '../../src/rules/schema'

/** Deterministic UUID-shaped visitor ids (xorshift32), so statistical tests cannot flake. */
export function visitorIds(n: number, seed = 0x9e3779b9): string[] {
  let x = seed >>> 0
  const next = () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x.toString(16).padStart(8, '0')
  }
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const a = next(),
      b = next(),
      c = next(),
      d = next()
    out.push(`${a}-${b.slice(0, 4)}-4${b.slice(5)}-8${c.slice(1, 4)}-${c.slice(4)}${d}`)
  }
  return out
}

export function compile(doc: RulesetInput): CompiledRuleset {
  const r = compileRuleset(doc)
  if (!r.ok) throw new Error(JSON.stringify(r.issues))
  return r.ruleset
}

export function state(id: string | undefined, assignments?: Record<string, string>, personalization = true): VisitorState {
  return {
    consent: { personalization, analytics: personalization, gpc: false },
    visitor: id === undefined ? undefined : { id, isNew: false, sessions: 1, firstSeen: '2026-11-01' },
    assignments,
  }
}

const BERLIN_CF = {
  country: 'DE',
  city: 'Berlin',
  region: 'Land Berlin',
  regionCode: 'BE',
  continent: 'EU',
  isEUCountry: '1',
  timezone: 'Europe/Berlin',
  postalCode: '10115',
  latitude: '52.52',
  longitude: '13.40',
}

export const AT = new Date('2026-11-22T12:00:00Z')

export function context(s: VisitorState, url = 'https://shop.example/', at = AT): Context {
  const request = new Request(url, {
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' },
    cf: BERLIN_CF,
  })
  return buildContext(contextualContext(request, at), s)
}

/** One page decision the way the pipeline makes it: context, then decide with the experiment hooks. */
export function decideFor(ruleset: CompiledRuleset, s: VisitorState, path = '/', at = AT): Decision {
  const ctx = context(s, `https://shop.example${path}`, at)
  return decide(ruleset, ctx, path, experimentHooks(ruleset, ctx, s, at))
}

/** A one-placement ruleset whose single rule is the given experiment. */
export function experimentRuleset(
  experiment: Record<string, unknown>,
  variants = ['b'],
  extra: Partial<RulesetInput> = {},
): CompiledRuleset {
  return compile({
    ...extra,
    placements: [
      {
        id: 'hero',
        paths: ['/*'],
        selector: 'h1',
        variants: variants.map((id) => ({ id, ops: [{ op: 'setText', value: id }] })),
        rules: [{ experiment: experiment as never }],
      },
    ],
  })
}

export function variantOf(d: Decision, placement = 'hero'): string | undefined {
  return d.placements.find((p) => p.placement === placement)?.variant
}
