import type { TimeContext } from './types'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const WEEKDAY: Record<string, TimeContext['dayOfWeek']> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
}

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
        weekday: 'short',
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
  const f = timeZone === undefined ? null : formatterFor(timeZone)
  if (f === null) return utcTime(at)
  const parts: Record<string, string> = {}
  for (const p of f.formatToParts(at)) parts[p.type] = p.value
  const y = Number(parts.year),
    mo = Number(parts.month),
    d = Number(parts.day)
  const h = Number(parts.hour),
    mi = Number(parts.minute),
    s = Number(parts.second)
  const offsetMin = Math.round((Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(at.getTime() / 1000) * 1000) / 60000)
  const sign = offsetMin < 0 ? '-' : '+'
  const abs = Math.abs(offsetMin)
  return {
    hour: h,
    minute: mi,
    dayOfWeek: WEEKDAY[parts.weekday ?? ''] ?? 'mon',
    date: `${pad(y, 4)}-${pad(mo)}-${pad(d)}`,
    iso: `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`,
  }
}
