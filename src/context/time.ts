import type { TimeContext } from './types'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

// Intl.DateTimeFormat construction is the expensive part: one per timezone per isolate.
const formatters = new Map<string, Intl.DateTimeFormat | null>()

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
    } catch {
      f = null // unknown zone name: fall back to UTC
    }
    if (formatters.size < 1000) formatters.set(timeZone, f)
  }
  return f
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function utcTime(at: Date): TimeContext {
  return {
    hour: at.getUTCHours(),
    minute: at.getUTCMinutes(),
    dayOfWeek: DAYS[at.getUTCDay()] as TimeContext['dayOfWeek'],
    date: `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`,
    iso: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }
}

/**
 * Local time in `timeZone` (an IANA name from `request.cf.timezone`), else UTC.
 * `iso` is the local wall-clock time with its UTC offset, e.g. `2026-11-22T20:05:00+01:00`.
 */
export function localTime(at: Date, timeZone: string | undefined): TimeContext {
  const offsetMin = timeZone === undefined ? undefined : offsetFor(at, timeZone)
  if (offsetMin === undefined) return utcTime(at)
  // The wall clock is UTC shifted by the zone's offset: read it with the UTC getters.
  const local = new Date(Math.floor(at.getTime() / 1000) * 1000 + offsetMin * 60_000)
  const y = local.getUTCFullYear(),
    mo = local.getUTCMonth() + 1,
    d = local.getUTCDate()
  const h = local.getUTCHours(),
    mi = local.getUTCMinutes(),
    s = local.getUTCSeconds()
  const sign = offsetMin < 0 ? '-' : '+'
  const abs = Math.abs(offsetMin)
  return {
    hour: h,
    minute: mi,
    dayOfWeek: DAYS[local.getUTCDay()] as TimeContext['dayOfWeek'],
    date: `${pad(y, 4)}-${pad(mo)}-${pad(d)}`,
    iso: `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`,
  }
}

/**
 * A zone's UTC offset in minutes at `at`, or `undefined` for an unknown zone. Offsets change
 * only on whole minutes, so one `formatToParts` per zone per UTC minute serves every request
 * in that minute (it is the costly call of the context).
 */
const offsets = new Map<string, { minute: number; offsetMin: number }>()

function offsetFor(at: Date, timeZone: string): number | undefined {
  const minute = Math.floor(at.getTime() / 60_000)
  const cached = offsets.get(timeZone)
  if (cached !== undefined && cached.minute === minute) return cached.offsetMin
  const f = formatterFor(timeZone)
  if (f === null) return undefined
  const parts: Record<string, string> = {}
  for (const p of f.formatToParts(at)) parts[p.type] = p.value
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  const offsetMin = Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60000)
  if (offsets.size < 1000 || offsets.has(timeZone)) offsets.set(timeZone, { minute, offsetMin })
  return offsetMin
}
