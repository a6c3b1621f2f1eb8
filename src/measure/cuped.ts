import { Z95 } from './stats'

/**
 * Sufficient statistics of one arm for CUPED (Deng, Xu, Kohavi & Walker 2013): visitors n and
 * Σy, Σy², Σx, Σx², Σxy of the metric y and the pre-exposure covariate x.
 */
export interface Moments {
  n: number
  sy: number
  syy: number
  sx: number
  sxx: number
  sxy: number
}

export interface CupedResult {
  /** Adjusted difference of means, arm − control. */
  lift: number
  ci95: [number, number]
  /** Standard error of the adjusted difference. */
  se: number
  /** 1 − Var(adjusted) / Var(unadjusted) of the difference: the share of variance removed. */
  varianceReduction: number
  /** θ, the pooled within-arm regression slope of y on x. */
  theta: number
}

interface Centered {
  n: number
  my: number
  mx: number
  vy: number
  vx: number
  cxy: number
}

function centered(m: Moments): Centered | null {
  if (!(m.n >= 2)) return null
  const my = m.sy / m.n
  const mx = m.sx / m.n
  const k = m.n - 1
  return {
    n: m.n,
    my,
    mx,
    vy: Math.max(0, (m.syy - m.n * my * my) / k),
    vx: Math.max(0, (m.sxx - m.n * mx * mx) / k),
    cxy: (m.sxy - m.n * mx * my) / k,
  }
}

/**
 * CUPED-adjusted difference arm − control: ȳ − θ(x̄ − x̄ₐₗₗ) per arm, with θ the pooled
 * within-arm slope (the treatment coefficient of the regression y ~ arm + x), its 95% interval
 * and the variance reduction. Null when either arm has fewer than two visitors or x does not vary.
 */
export function cuped(control: Moments, arm: Moments): CupedResult | null {
  const a = centered(control)
  const b = centered(arm)
  if (a === null || b === null) return null
  const sxx = a.vx * (a.n - 1) + b.vx * (b.n - 1)
  if (!(sxx > 0)) return null
  const theta = (a.cxy * (a.n - 1) + b.cxy * (b.n - 1)) / sxx
  const lift = b.my - a.my - theta * (b.mx - a.mx)
  const adjVar = (c: Centered) => Math.max(0, c.vy - 2 * theta * c.cxy + theta * theta * c.vx) / c.n
  const se2 = adjVar(a) + adjVar(b)
  const raw2 = a.vy / a.n + b.vy / b.n
  if (!(raw2 > 0)) return null
  const se = Math.sqrt(se2)
  return {
    lift,
    ci95: [lift - Z95 * se, lift + Z95 * se],
    se,
    varianceReduction: Math.min(1, Math.max(0, 1 - se2 / raw2)),
    theta,
  }
}
