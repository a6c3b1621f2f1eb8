/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { ExperimentResults } from '../../measure/types'
import { ExposureChart, RateChart } from './charts'

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(2)}%`)
const signed = (x: number | null) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`)

/** One experiment's results: sample-ratio check, a rate chart per goal, the table, exposures over time. */
export function ResultsView({ results }: { results: ExperimentResults }) {
  const goals = [...new Set(results.arms.flatMap((a) => a.goals.map((g) => g.goal)))]
  const total = results.arms.reduce((s, a) => s + a.visitors, 0)
  return (
    <div class="results">
      <p>
        {total} exposed visitors{results.placement === null ? '' : ` on placement ${results.placement}`}; control is{' '}
        <b>{results.control}</b>.
      </p>
      {results.srm?.mismatch === true ? (
        <p class="error">
          Sample-ratio mismatch (χ² {results.srm.chiSquare.toFixed(1)}, p {results.srm.pValue.toExponential(1)}): the observed
          split does not match the configured one. Check the setup before reading the results.
        </p>
      ) : results.srm !== null ? (
        <p class="muted">Sample ratio as configured (p {results.srm.pValue.toFixed(3)}).</p>
      ) : null}
      {goals.map((goal) => (
        <section>
          <h4>Goal {goal}: conversion rate per variant (95% interval)</h4>
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
                  <th>95% interval of lift</th>
                  <th>p</th>
                </tr>
              </thead>
              <tbody>
                {results.arms.map((arm) => {
                  const g = arm.goals.find((x) => x.goal === goal)
                  return (
                    <tr>
                      <td>{arm.variant}</td>
                      <td>{arm.visitors}</td>
                      <td>{g?.conversions ?? 0}</td>
                      <td>{pct(g?.rate ?? null)}</td>
                      <td>
                        {signed(g?.absoluteLift ?? null)}
                        {g?.significant ? ' ✓' : ''}
                      </td>
                      <td>{g?.ci95 ? `${signed(g.ci95[0])} … ${signed(g.ci95[1])}` : (g?.note ?? '–')}</td>
                      <td>{g?.pValue === null || g?.pValue === undefined ? '–' : g.pValue.toFixed(3)}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      <h4>Exposed visitors per day</h4>
      <ExposureChart results={results} />
      {results.notes.map((n) => (
        <p class="muted">{n}</p>
      ))}
    </div>
  )
}
