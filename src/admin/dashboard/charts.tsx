import type { ExperimentResults } from '../../measure/types'

/** Series colors, distinguishable in print and for common color-vision deficiencies. */
export const COLORS = ['#1f6feb', '#d4380d', '#389e0d', '#722ed1', '#d48806', '#08979c']

/** 95% Wilson score interval of a proportion; [0, 0] with no trials. */
export function wilson(successes: number, trials: number, z = 1.959964): [number, number] {
  if (trials <= 0) return [0, 0]
  const p = successes / trials
  const d = 1 + (z * z) / trials
  const centre = (p + (z * z) / (2 * trials)) / d
  const half = (z * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials))) / d
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`

/** Conversion rate per variant for one goal, each with its 95% interval (plain SVG). */
export function RateChart({ results, goal }: { results: ExperimentResults; goal: string }) {
  const rows = results.arms.map((arm) => {
    const g = arm.goals.find((x) => x.goal === goal)
    const conversions = g?.conversions ?? 0
    const rate = arm.visitors > 0 ? conversions / arm.visitors : 0
    return { variant: arm.variant, visitors: arm.visitors, conversions, rate, ci: wilson(conversions, arm.visitors) }
  })
  const max = Math.max(0.01, ...rows.map((r) => r.ci[1])) * 1.1
  const left = 110
  const width = 600
  const plot = width - left - 90
  const rowH = 34
  const height = rows.length * rowH + 28
  const x = (v: number) => Math.round((left + (v / max) * plot) * 10) / 10
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Conversion rate for goal ${goal} per variant, with 95% intervals`}
    >
      <line x1={left} y1={4} x2={left} y2={height - 22} stroke="#999" />
      {[0, 0.25, 0.5, 0.75, 1].map((t) => (
        <g>
          <line x1={x(max * t)} y1={height - 22} x2={x(max * t)} y2={height - 18} stroke="#999" />
          <text x={x(max * t)} y={height - 6} font-size="11" text-anchor="middle" fill="#555">
            {pct(max * t)}
          </text>
        </g>
      ))}
      {rows.map((r, i) => {
        const y = 8 + i * rowH
        return (
          <g>
            <title>{`${r.variant}: ${r.conversions} of ${r.visitors} visitors, ${pct(r.rate)} (95% interval ${pct(r.ci[0])} to ${pct(r.ci[1])})`}</title>
            <text x={left - 8} y={y + 15} font-size="13" text-anchor="end" fill="#222">
              {r.variant}
            </text>
            <rect
              x={left}
              y={y + 2}
              width={Math.max(1, Math.round((x(r.rate) - left) * 10) / 10)}
              height={18}
              fill={r.variant === results.control ? '#8c8c8c' : (COLORS[i % COLORS.length] as string)}
              opacity="0.85"
            />
            <line x1={x(r.ci[0])} y1={y + 11} x2={x(r.ci[1])} y2={y + 11} stroke="#111" stroke-width="2" />
            <line x1={x(r.ci[0])} y1={y + 5} x2={x(r.ci[0])} y2={y + 17} stroke="#111" stroke-width="2" />
            <line x1={x(r.ci[1])} y1={y + 5} x2={x(r.ci[1])} y2={y + 17} stroke="#111" stroke-width="2" />
            <text x={x(r.ci[1]) + 6} y={y + 15} font-size="12" fill="#222">
              {pct(r.rate)}
            </text>
          </g>
        )
      })}
    </svg>
  )
}

/** Distinct exposed visitors per day and variant (plain SVG line chart). */
export function ExposureChart({ results }: { results: ExperimentResults }) {
  const days = [...new Set(results.exposuresByDay.map((d) => d.day))].sort()
  const variants = results.arms.map((a) => a.variant)
  if (days.length === 0) return <p class="muted">No exposures recorded yet.</p>
  const width = 600
  const height = 220
  const left = 44
  const bottom = 30
  const max = Math.max(1, ...results.exposuresByDay.map((d) => d.visitors))
  const x = (i: number) => left + (days.length === 1 ? (width - left - 20) / 2 : (i / (days.length - 1)) * (width - left - 20))
  const y = (v: number) => height - bottom - (v / max) * (height - bottom - 12)
  const step = Math.max(1, Math.ceil(days.length / 6))
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Exposed visitors per day and variant">
        <line x1={left} y1={8} x2={left} y2={height - bottom} stroke="#999" />
        <line x1={left} y1={height - bottom} x2={width - 10} y2={height - bottom} stroke="#999" />
        {[0, 0.5, 1].map((t) => (
          <text x={left - 6} y={y(max * t) + 4} font-size="11" text-anchor="end" fill="#555">
            {Math.round(max * t)}
          </text>
        ))}
        {days.map((d, i) =>
          i % step === 0 || i === days.length - 1 ? (
            <text x={x(i)} y={height - 10} font-size="11" text-anchor="middle" fill="#555">
              {d.slice(5)}
            </text>
          ) : null,
        )}
        {variants.map((v, vi) => {
          const color = v === results.control ? '#8c8c8c' : (COLORS[vi % COLORS.length] as string)
          const points = days.map(
            (d, i) =>
              `${x(i).toFixed(1)},${y(results.exposuresByDay.find((e) => e.day === d && e.variant === v)?.visitors ?? 0).toFixed(1)}`,
          )
          return (
            <g>
              <polyline points={points.join(' ')} fill="none" stroke={color} stroke-width="2.5" />
              {points.map((p) => {
                const [cx, cy] = p.split(',')
                return <circle cx={cx} cy={cy} r="3" fill={color} />
              })}
            </g>
          )
        })}
      </svg>
      <figcaption class="legend">
        {variants.map((v, vi) => (
          <span>
            <i style={`background:${v === results.control ? '#8c8c8c' : COLORS[vi % COLORS.length]}`}></i>
            {v}
          </span>
        ))}
      </figcaption>
    </figure>
  )
}

/**
 * The primary goal's lift over time per arm: the line is the lift, the band the 95% confidence
 * sequence, the dashed line zero (plain SVG). A band that leaves zero is a real difference.
 */
export function SequenceChart({ results }: { results: ExperimentResults }) {
  const days = [...new Set(results.history.map((h) => h.day))].sort()
  const arms = [...new Set(results.history.map((h) => h.arm))]
  const points = results.history.filter((h) => h.cs95 !== null && h.lift !== null)
  if (days.length === 0 || points.length === 0) return <p class="muted">Not enough data for the confidence sequence yet.</p>
  const width = 600
  const height = 240
  const left = 56
  const bottom = 30
  const lo = Math.min(0, ...points.map((h) => (h.cs95 as [number, number])[0]))
  const hi = Math.max(0, ...points.map((h) => (h.cs95 as [number, number])[1]))
  const span = hi - lo || 1
  const x = (i: number) => left + (days.length === 1 ? (width - left - 20) / 2 : (i / (days.length - 1)) * (width - left - 20))
  const y = (v: number) => 8 + ((hi - v) / span) * (height - bottom - 16)
  const step = Math.max(1, Math.ceil(days.length / 6))
  const label = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} pp`
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Lift on ${results.primaryGoal ?? 'the primary goal'} over time with its 95% confidence sequence`}
      >
        <line x1={left} y1={y(0)} x2={width - 10} y2={y(0)} stroke="#555" stroke-dasharray="4 3" />
        {[lo, 0, hi].map((v) => (
          <text x={left - 6} y={y(v) + 4} font-size="11" text-anchor="end" fill="#555">
            {label(v)}
          </text>
        ))}
        {days.map((d, i) =>
          i % step === 0 || i === days.length - 1 ? (
            <text x={x(i)} y={height - 10} font-size="11" text-anchor="middle" fill="#555">
              {d.slice(5)}
            </text>
          ) : null,
        )}
        {arms.map((arm, ai) => {
          const color = COLORS[(ai + 1) % COLORS.length] as string
          const own: { i: number; lift: number; cs: [number, number] }[] = []
          days.forEach((d, i) => {
            const h = points.find((p) => p.day === d && p.arm === arm)
            if (h?.cs95 != null && h.lift !== null) own.push({ i, lift: h.lift, cs: h.cs95 })
          })
          const last = own[own.length - 1]
          if (last === undefined) return null
          const upper = own.map(({ i, cs }) => `${x(i).toFixed(1)},${y(cs[1]).toFixed(1)}`)
          const lower = own.map(({ i, cs }) => `${x(i).toFixed(1)},${y(cs[0]).toFixed(1)}`).reverse()
          const line = own.map(({ i, lift }) => `${x(i).toFixed(1)},${y(lift).toFixed(1)}`)
          return (
            <g>
              <title>{`${arm}: lift ${label(last.lift)}, 95% confidence sequence ${label(last.cs[0])} to ${label(last.cs[1])}`}</title>
              <polygon points={[...upper, ...lower].join(' ')} fill={color} opacity="0.18" />
              <polyline points={line.join(' ')} fill="none" stroke={color} stroke-width="2.5" />
            </g>
          )
        })}
      </svg>
      <figcaption class="legend">
        {arms.map((arm, ai) => (
          <span>
            <i style={`background:${COLORS[(ai + 1) % COLORS.length]}`}></i>
            {arm} vs {results.control}
          </span>
        ))}
      </figcaption>
    </figure>
  )
}
