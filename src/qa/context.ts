import { EU_COUNTRIES } from '../context/geo'
import { localTime } from '../context/time'
import type { BehaviorContext, Context, GeoContext, TimeContext } from '../context/types'
import { coerceQaValue, urlHost, type QaValue } from './fields'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const CITY_LEVEL: readonly (keyof GeoContext)[] = [
  'region',
  'regionCode',
  'city',
  'postalCode',
  'latitude',
  'longitude',
  'timezone',
  'continent',
]

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/**
 * Location: simulating `geo.country` replaces the whole location, so the real city of the
 * tester does not leak into the simulated visitor. The city-level fields then come only from
 * what is simulated; `geo.isEU` is derived from the country and `geo.continent` is `EU` for
 * EU members, unless those are simulated too.
 */
function simulateGeo(real: GeoContext, get: (k: string) => QaValue | undefined): GeoContext {
  const geo: GeoContext = { ...real }
  const country = get('geo.country')
  if (typeof country === 'string') {
    for (const k of CITY_LEVEL) delete geo[k]
    geo.country = country
    geo.isEU = EU_COUNTRIES.has(country)
    if (geo.isEU) geo.continent = 'EU'
  }
  for (const k of ['region', 'regionCode', 'city', 'continent', 'postalCode', 'timezone'] as const) {
    const v = get(`geo.${k}`)
    if (typeof v === 'string') geo[k] = v
  }
  const isEU = get('geo.isEU')
  if (typeof isEU === 'boolean') geo.isEU = isEU
  for (const k of ['latitude', 'longitude'] as const) {
    const v = get(`geo.${k}`)
    if (typeof v === 'number') geo[k] = v
  }
  return geo
}

/**
 * Time: recomputed for the simulated timezone first, then `time.date`, `time.dayOfWeek`,
 * `time.hour`, `time.minute` are set on top; `dayOfWeek` follows a simulated date and `iso`
 * is rebuilt from the result so every time attribute tells the same story.
 */
function simulateTime(
  real: TimeContext,
  geo: GeoContext,
  realTimezone: string | undefined,
  at: Date,
  get: (k: string) => QaValue | undefined,
): TimeContext {
  const time: TimeContext = geo.timezone !== realTimezone ? localTime(at, geo.timezone) : { ...real }
  const date = get('time.date')
  if (typeof date === 'string') {
    time.date = date
    time.dayOfWeek = DAYS[new Date(`${date}T00:00:00Z`).getUTCDay()] ?? time.dayOfWeek
  }
  const dow = get('time.dayOfWeek')
  if (typeof dow === 'string') time.dayOfWeek = dow as TimeContext['dayOfWeek']
  const hour = get('time.hour')
  if (typeof hour === 'number') time.hour = hour
  const minute = get('time.minute')
  if (typeof minute === 'number') time.minute = minute
  // Keep the seconds and UTC offset of the real local time: `YYYY-MM-DDTHH:MM:SS±HH:MM`.
  const tail = /T\d{2}:\d{2}(:\d{2}(?:Z|[+-]\d{2}:\d{2}))$/.exec(time.iso)?.[1] ?? ':00Z'
  time.iso = `${time.date}T${pad(time.hour)}:${pad(time.minute)}${tail}`
  return time
}

function simulateBehavior(
  real: BehaviorContext | undefined,
  sim: ReadonlyMap<string, string>,
  get: (k: string) => QaValue | undefined,
): BehaviorContext | undefined {
  const keys = [...sim.keys()].filter((k) => k.startsWith('behavior.'))
  if (keys.length === 0) return real
  const behavior: BehaviorContext = { pageViews: 0, cartAdds: 0, purchases: 0, ...real, views: { ...real?.views } }
  for (const k of ['pageViews', 'cartAdds', 'purchases'] as const) {
    const v = get(`behavior.${k}`)
    if (typeof v === 'number') behavior[k] = v
  }
  const last = get('behavior.lastEvent')
  if (typeof last === 'string') behavior.lastEvent = last
  for (const k of keys) {
    const v = k.startsWith('behavior.views.') ? get(k) : undefined
    if (typeof v === 'number') behavior.views[k.slice('behavior.views.'.length)] = v
  }
  return behavior
}

/**
 * Applies a QA request's simulated attributes (`x-veneer-context`, SPEC 6) over the real
 * context, before segments are evaluated. Returns a new context; invalid entries are skipped.
 * Profile claims and behavior counters are simulated even without personalization consent:
 * the tester is describing a visitor, not reading one.
 *
 * @example applyQaContext(ctx, new Map([['geo.country', 'DE'], ['time.hour', '20']]), at)
 */
export function applyQaContext(ctx: Context, sim: ReadonlyMap<string, string>, at: Date): Context {
  if (sim.size === 0) return ctx
  const get = (k: string): QaValue | undefined => {
    const raw = sim.get(k)
    return raw === undefined ? undefined : coerceQaValue(k, raw)
  }
  const geo = simulateGeo(ctx.geo, get)
  const time = simulateTime(ctx.time, geo, ctx.geo.timezone, at, get)

  const device = { ...ctx.device }
  const type = get('device.type')
  if (typeof type === 'string') {
    device.type = type as Context['device']['type']
    device.isBot = type === 'bot'
  }
  for (const k of ['os', 'browser'] as const) {
    const v = get(`device.${k}`)
    if (typeof v === 'string') device[k] = v
  }

  const request = { ...ctx.request, query: { ...ctx.request.query }, utm: { ...ctx.request.utm } }
  const language = get('request.language')
  if (typeof language === 'string') request.language = language
  const referrer = get('request.referrer')
  if (typeof referrer === 'string') {
    request.referrer = referrer
    request.referrerHost = urlHost(referrer)
  }
  for (const k of ['source', 'medium', 'campaign', 'term', 'content'] as const) {
    const v = get(`request.utm.${k}`)
    if (typeof v === 'string') request.utm[k] = v
  }

  let profile = ctx.profile
  for (const k of sim.keys()) {
    const v = get(k)
    if (v === undefined) continue
    if (k.startsWith('request.query.')) request.query[k.slice('request.query.'.length)] = String(v)
    else if (k.startsWith('profile.')) profile = { ...profile, [k.slice('profile.'.length)]: v }
  }

  return { ...ctx, geo, time, device, request, profile, behavior: simulateBehavior(ctx.behavior, sim, get), segments: [] }
}
