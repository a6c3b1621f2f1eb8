/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { BanditResults } from '../../bandit/results'
import type { ExperimentResults, GoalResult } from '../../measure/types'
import { ExposureChart, RateChart, SequenceChart } from './charts'

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(2)}%`)
const signed = (x: number | null | undefined) =>
  x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`
const interval = (ci: [number, number] | null | undefined) => (ci ? `${signed(ci[0])} … ${signed(ci[1])}` : '–')
const p = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x < 0.001 ? '<0.001' : x.toFixed(3))
const money = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(2))

const VERDICT: Record<ExperimentResults['decision'], string> = {
  ship: 'Ship it',
  stop: 'Stop it',
  'keep-running': 'Keep running',
  inconclusive: 'Inconclusive',
}

/** A figure's cell, with the reason when it is missing. */
function cupedCell(g: GoalResult | undefined) {
  if (g?.cuped == null) return '–'
  return `${signed(g.cuped.lift)} (${interval(g.cuped.ci95)}), −${Math.round(g.cuped.varianceReduction * 100)}% variance`
}

/**
 * One experiment's results: the decision in words, the confidence sequence of the primary goal
 * over time, per goal a rate chart and the table (fixed and anytime-valid intervals, adjusted
 * p-values, CUPED), and exposures over time.
 */
export function ResultsView({ results }: { results: ExperimentResults }) {
  const goals = [...new Set(results.arms.flatMap((a) => a.goals.map((g) => g.goal)))]
  const total = results.arms.reduce((s, a) => s + a.visitors, 0)
  const correction = results.correction === 'bh' ? 'Benjamini–Hochberg' : 'Holm'
  return (
    <div class="results">
      <p class={`decision decision-${results.decision}`}>
        <b>{VERDICT[results.decision]}.</b> {results.reason}
      </p>
      <p>
        {total} exposed visitors{results.placement === null ? '' : ` on placement ${results.placement}`}; control is{' '}
        <b>{results.control}</b>
        {results.segment === '*' ? '' : `; segment ${results.segment}`}.
      </p>
      {results.srm?.mismatch === true ? (
        <p class="error">
          Sample-ratio mismatch (χ² {results.srm.chiSquare.toFixed(1)}, p {results.srm.pValue.toExponential(1)}): the observed
          split does not match the configured one. Check the setup before reading the results.
        </p>
      ) : results.srm !== null ? (
        <p class="muted">Sample ratio as configured (p {results.srm.pValue.toFixed(3)}).</p>
      ) : null}
      {results.bandit === undefined ? null : <BanditPanel bandit={results.bandit} />}
      {results.power.mde !== null ? (
        <p class="muted">
          Smallest change the test can see now: {signed(results.power.mde)} on {results.power.goal}
          {results.power.visitorsNeeded !== null && results.power.visitorsNeeded > 0
            ? `; about ${results.power.visitorsNeeded} more visitors to see a ${Math.round(results.power.targetLift * 100)}% change.`
            : '.'}
        </p>
      ) : null}
      {results.primaryGoal !== null && results.history.length > 0 ? (
        <section>
          <h4>
            Lift on {results.primaryGoal} over time: the shaded band is the 95% confidence sequence (safe to read every day); when
            it leaves zero, the difference is real.
          </h4>
          <SequenceChart results={results} />
        </section>
      ) : null}
      {goals.map((goal) => {
        const value = results.arms.some((a) => a.goals.some((g) => g.goal === goal && g.mean !== undefined))
        return (
          <section>
            <h4>
              Goal {goal}
              {results.arms[0]?.goals.find((g) => g.goal === goal)?.guardrail ? ' (guardrail)' : ''}: conversion rate per variant
              (95% interval)
            </h4>
            <RateChart results={results} goal={goal} />
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>variant</th>
                    <th>visitors</th>
                    <th>conversions</th>
                    <th>rate</th>
                    <th>lift vs control</th>
                    <th>95% interval (fixed)</th>
                    <th>95% confidence sequence</th>
                    <th>p</th>
                    <th>p adjusted ({correction})</th>
                    <th>CUPED lift</th>
                    {value ? <th>value / visitor</th> : null}
                    {value ? <th>value lift (Welch 95%)</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {results.arms.map((arm) => {
                    const g = arm.goals.find((x) => x.goal === goal)
                    const sure = g?.cs95 != null && (g.cs95[0] > 0 || g.cs95[1] < 0)
                    return (
                      <tr>
                        <td>{arm.variant}</td>
                        <td>{arm.visitors}</td>
                        <td>{g?.conversions ?? 0}</td>
                        <td>{pct(g?.rate)}</td>
                        <td>
                          {signed(g?.lift?.abs)}
                          {sure ? ' ✓' : ''}
                        </td>
                        <td>{g?.ci95 ? interval(g.ci95) : (g?.note ?? '–')}</td>
                        <td>{interval(g?.cs95)}</td>
                        <td>{p(g?.pValue)}</td>
                        <td>{p(g?.pAdjusted)}</td>
                        <td>{cupedCell(g)}</td>
                        {value ? <td>{money(g?.mean)}</td> : null}
                        {value ? (
                          <td>
                            {money(g?.meanLift)}
                            {g?.meanCi95 ? ` (${money(g.meanCi95[0])} … ${money(g.meanCi95[1])})` : ''}
                          </td>
                        ) : null}
                      </tr>
                    )
                  })}
                </tbody>
              </table>
            </div>
          </section>
        )
      })}
      <h4>Exposed visitors per day</h4>
      <ExposureChart results={results} />
      {results.notes.map((n) => (
        <p class="muted">{n}</p>
      ))}
    </div>
  )
}

/**
 * A bandit's own figures: the weights in force, and per arm the period-weighted rate (unbiased
 * under changing weights, unlike the pooled figures below it), its lift over control and P(best).
 */
export function BanditPanel({ bandit }: { bandit: BanditResults }) {
  return (
    <section class="bandit">
      <h4>
        Bandit on {bandit.goal} ({bandit.phase === 'burn-in' ? 'still in burn-in: the configured split is in force' : 'adapting'}
        ): read these rates, not the pooled ones below, which are biased while the weights change.
      </h4>
      {bandit.srm?.mismatch === true ? (
        <p class="error">
          Sample-ratio mismatch against the weights in force (p {bandit.srm.pValue.toExponential(1)}): check the setup before
          reading the results.
        </p>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>arm</th>
            <th>share of new visitors now</th>
            <th>visitors</th>
            <th>rate (period-weighted)</th>
            <th>95% interval</th>
            <th>vs {bandit.control}</th>
            <th>chance it is best</th>
          </tr>
        </thead>
        <tbody>
          {bandit.arms.map((a) => (
            <tr>
              <td>{a.arm}</td>
              <td>{`${a.weight.toFixed(1)}%`}</td>
              <td>{a.visitors}</td>
              <td>{pct(a.rate)}</td>
              <td>{a.ci95 === null ? '–' : `${pct(a.ci95[0])} … ${pct(a.ci95[1])}`}</td>
              <td>{a.arm === bandit.control ? '–' : `${signed(a.lift)} (${interval(a.liftCi95)})`}</td>
              <td>{a.probabilityBest === null ? '–' : `${Math.round(a.probabilityBest * 100)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {bandit.notes.map((n) => (
        <p class="muted">{n}</p>
      ))}
    </section>
  )
}
