// Decision time (compile excluded) for rulesets of 10/100/1,000 segments × 10/50/200
// placements, in Node, on the Worker's own decision code (src/decide, src/rules, src/context).
import { loadTsTogether } from '../scripts/load-ts.mjs'
import { benchRuleset } from './fixtures.mjs'

const CF = {
  country: 'US',
  city: 'Austin',
  region: 'Texas',
  regionCode: 'TX',
  continent: 'NA',
  timezone: 'America/Chicago',
  postalCode: '78701',
  latitude: '30.27',
  longitude: '-97.74',
  isEUCountry: undefined,
}
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36'

export async function measureScale({ segments = [10, 100, 1000], placements = [10, 50, 200], minMs = 300 } = {}) {
  // One bundle, as in the Worker: the modules share state (the matched-segment Sets).
  const { decide, compileRulesetText, contextualContext, buildContext } = await loadTsTogether([
    'src/decide/decide.ts',
    'src/rules/compile.ts',
    'src/context/build.ts',
  ])
  const request = new Request('https://shop.example/page-100KB?utm_source=bench', {
    headers: { 'user-agent': UA, 'accept-language': 'en-US' },
  })
  Object.defineProperty(request, 'cf', { value: CF })
  const at = new Date('2026-05-01T18:30:00Z')
  const state = { consent: { personalization: true, analytics: true, gpc: false } }
  const rows = []
  for (const s of segments) {
    for (const p of placements) {
      const compiled = compileRulesetText(JSON.stringify(benchRuleset({ segments: s, placements: p, allOnPage: true })))
      if (!compiled.ok)
        throw new Error(`bench ruleset ${s}x${p} does not compile: ${JSON.stringify(compiled.issues.slice(0, 3))}`)
      const ruleset = compiled.ruleset
      const contextual = contextualContext(request, at)
      const run = () => decide(ruleset, buildContext(contextual, state), '/page-100KB')
      let last
      const w0 = performance.now()
      while (performance.now() - w0 < minMs / 2) last = run() // warm up the JIT
      let n = 0
      const t0 = performance.now()
      const c0 = process.cpuUsage()
      while (performance.now() - t0 < minMs) {
        for (let i = 0; i < 50; i++) last = run()
        n += 50
      }
      const wallUs = ((performance.now() - t0) * 1000) / n
      const c1 = process.cpuUsage(c0)
      // CPU time of this process, not wall time: other sessions share the two cores.
      const us = (c1.user + c1.system) / n
      const rulesPerPlacement = ruleset.placements[0]?.rules.length ?? 0
      rows.push({
        segments: s,
        placements: p,
        decisions: n,
        usPerDecision: Math.round(us * 100) / 100,
        wallUsPerDecision: Math.round(wallUs * 100) / 100,
        matchedSegments: last.segments.length,
        decidedPlacements: last.placements.length,
        personalizedPlacements: last.placements.filter((d) => d.variant !== 'control').length,
        rulesPerPlacement,
      })
    }
  }
  // About linear: a 10× step in segments (100 → 1,000) or a 4× step in placements (50 → 200)
  // costs at most 1.5× that factor. The small steps are dominated by fixed costs (context).
  const usAt = (seg, pl) => rows.find((r) => r.segments === seg && r.placements === pl)?.usPerDecision
  const steps = []
  for (const pl of placements)
    steps.push({ step: `segments 100→1000 @ ${pl} placements`, sizeFactor: 10, costFactor: usAt(1000, pl) / usAt(100, pl) })
  for (const seg of segments)
    steps.push({ step: `placements 50→200 @ ${seg} segments`, sizeFactor: 4, costFactor: usAt(seg, 200) / usAt(seg, 50) })
  for (const st of steps) st.costFactor = Math.round(st.costFactor * 100) / 100
  const linear = steps.every((st) => st.costFactor <= st.sizeFactor * 1.5)
  const worst = usAt(1000, 200)
  return { rows, steps, linear, worstUs: worst, worstWithin1ms: worst <= 1000 }
}
