/**
 * Adjusted p-values across the comparisons of one experiment (goals × arms), SPEC 12.1.
 * Both return the adjusted values in the input's order; nulls stay null and are not counted.
 */

export type Correction = 'holm' | 'bh'

/** Holm–Bonferroni step-down adjusted p-values (controls the family-wise error rate). */
export function holm(pValues: readonly (number | null)[]): (number | null)[] {
  const idx = pValues.flatMap((p, i) => (p === null ? [] : [i])).sort((a, b) => (pValues[a] as number) - (pValues[b] as number))
  const m = idx.length
  const out: (number | null)[] = pValues.map(() => null)
  let running = 0
  idx.forEach((i, k) => {
    running = Math.max(running, Math.min(1, (m - k) * (pValues[i] as number)))
    out[i] = running
  })
  return out
}

/** Benjamini–Hochberg step-up adjusted p-values (controls the false discovery rate). */
export function benjaminiHochberg(pValues: readonly (number | null)[]): (number | null)[] {
  const idx = pValues.flatMap((p, i) => (p === null ? [] : [i])).sort((a, b) => (pValues[a] as number) - (pValues[b] as number))
  const m = idx.length
  const out: (number | null)[] = pValues.map(() => null)
  let running = 1
  for (let k = m - 1; k >= 0; k--) {
    const i = idx[k] as number
    running = Math.min(running, ((pValues[i] as number) * m) / (k + 1))
    out[i] = Math.min(1, running)
  }
  return out
}

/** The adjustment by name. */
export function adjust(pValues: readonly (number | null)[], correction: Correction): (number | null)[] {
  return correction === 'bh' ? benjaminiHochberg(pValues) : holm(pValues)
}
