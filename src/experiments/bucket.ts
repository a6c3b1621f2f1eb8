/**
 * Maps a bucket value in [0, 1) to an arm of a split. Arms with weight 0 are left out; the
 * others are taken in ascending order of their id (plain code-unit order, which is byte order
 * for ids, and independent of the order of keys in the JSON) and cover consecutive ranges
 * proportional to their weight: with `{ control: 50, evening: 50 }` control is [0, 0.5),
 * evening [0.5, 1).
 */
export function pickArm(split: Readonly<Record<string, number>>, bucket: number): string | undefined {
  const arms = Object.keys(split)
    .filter((id) => (split[id] ?? 0) > 0)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  let total = 0
  for (const id of arms) total += split[id] as number
  if (arms.length === 0 || !(total > 0)) return undefined
  const target = bucket * total
  let cum = 0
  for (const id of arms) {
    cum += split[id] as number
    if (target < cum) return id
  }
  return arms[arms.length - 1] // float rounding at the top end
}

/** Whether `at` lies in the experiment's `[start, end)` window (ISO dates; a bare date is UTC midnight). */
export function windowState(exp: { start?: string; end?: string }, at: Date): 'running' | 'not started' | 'ended' {
  const t = at.getTime()
  if (exp.start !== undefined && t < Date.parse(exp.start)) return 'not started'
  if (exp.end !== undefined && t >= Date.parse(exp.end)) return 'ended'
  return 'running'
}
