/**
 * The anytime-valid 95% confidence sequence (`cs95`, SPEC 12.1): the two-sided normal-mixture
 * boundary of Howard, Ramdas, McAuliffe & Sekhon (2021, Ann. Statist. 49(2), eq. 14), used as an
 * asymptotic confidence sequence (Waudby-Smith et al. 2023) the way GrowthBook's sequential
 * testing and Eppo's confidence sequences use it. With n the visitors of both arms and s² = n·se²
 * (se the standard error of the difference):
 *
 *   halfwidth = √s² · √( 2(nρ² + 1) / (n²ρ²) · ln( √(nρ² + 1) / α ) )
 *
 * It holds at every n simultaneously, so results may be read every day without raising the
 * false-positive rate. The tuning parameter N* (default {@link DEFAULT_TUNING} visitors) is where
 * the sequence is narrowest: ρ² = (−2 ln α + ln(−2 ln α + 1)) / N*. A larger N* is narrower late
 * and wider early. docs/measurement.md explains how to choose it.
 */

/** N*: total visitors (both arms) where the sequence is tightest. GrowthBook's default too. */
export const DEFAULT_TUNING = 5_000

/** ρ for a two-sided level α, optimised for N* visitors. */
export function mixtureRho(alpha: number, tuning: number = DEFAULT_TUNING): number {
  const l = -2 * Math.log(alpha)
  return Math.sqrt((l + Math.log(l + 1)) / tuning)
}

/**
 * The half-width of the confidence sequence for an estimate with standard error `se` after `n`
 * observations (visitors of both arms). Null when n or se is not positive.
 */
export function sequenceHalfwidth(se: number, n: number, alpha = 0.05, tuning: number = DEFAULT_TUNING): number | null {
  if (!(n > 0) || !(se > 0) || !Number.isFinite(se)) return null
  const rho2 = mixtureRho(alpha, tuning) ** 2
  const s2 = se * se * n
  const nr = n * rho2 + 1
  return Math.sqrt(s2) * Math.sqrt(((2 * nr) / (n * n * rho2)) * Math.log(Math.sqrt(nr) / alpha))
}

/** The 95% confidence sequence around `estimate`, or null (see {@link sequenceHalfwidth}). */
export function confidenceSequence(
  estimate: number,
  se: number,
  n: number,
  alpha = 0.05,
  tuning: number = DEFAULT_TUNING,
): [number, number] | null {
  const h = sequenceHalfwidth(se, n, alpha, tuning)
  return h === null ? null : [estimate - h, estimate + h]
}
