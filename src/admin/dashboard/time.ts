const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function ago(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 45) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.round(m / 60)
  if (h < 36) return `${h} h ago`
  const d = Math.round(h / 24)
  return `${d} day${d === 1 ? '' : 's'} ago`
}

/**
 * A stored ISO time as people read it, in UTC (the Worker knows no admin's timezone) with how long
 * ago: `30 Nov 2026, 06:59 UTC (5 min ago)`. Undefined for a time that does not parse.
 */
export function readableTime(iso: string, now: number = Date.now()): string | undefined {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return undefined
  const d = new Date(t)
  const hh = String(d.getUTCHours()).padStart(2, '0')
  const mm = String(d.getUTCMinutes()).padStart(2, '0')
  const when = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`
  return t <= now + 60_000 ? `${when} (${ago(now - t)})` : when
}
