import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { forgetRuleset } from '../../src/rules/store'

/** Complete `cf` fixtures: miniflare fills missing fields from Austin, US (PLATFORM-NOTES). */
export const CF = {
  DE: {
    country: 'DE',
    city: 'Berlin',
    region: 'Berlin',
    regionCode: 'BE',
    timezone: 'Europe/Berlin',
    continent: 'EU',
    isEUCountry: '1',
    postalCode: '10115',
    latitude: '52.52',
    longitude: '13.40',
    colo: 'FRA',
    asn: 3320,
  },
  US: {
    country: 'US',
    city: 'Chicago',
    region: 'Illinois',
    regionCode: 'IL',
    timezone: 'America/Chicago',
    continent: 'NA',
    postalCode: '60601',
    latitude: '41.88',
    longitude: '-87.63',
    colo: 'ORD',
    asn: 7922,
  },
} as const

export const testEnv = env as unknown as Env

/** Publishes a ruleset to the test KV and makes the next lookup cold. */
export async function seedRuleset(doc: unknown): Promise<void> {
  const kv = testEnv.RULES
  if (kv === undefined) throw new Error('no RULES binding')
  await kv.put('ruleset', JSON.stringify(doc))
  forgetRuleset(kv)
}

export interface SendOptions {
  method?: string
  cf?: Record<string, unknown>
  cookies?: Record<string, string>
  headers?: Record<string, string>
  body?: BodyInit
  env?: Partial<Env>
  origin?: string
}

export interface Sent {
  res: Response
  body: string
  setCookies: string[]
  /** name → value of the cookies set (a deletion has value ''). */
  jar: Record<string, string>
}

const app = createApp()

/** One request through the whole Worker app (demo shop as origin), with background work flushed. */
export async function send(path: string, o: SendOptions = {}): Promise<Sent> {
  const headers = new Headers(o.headers)
  if (o.cookies !== undefined)
    headers.set(
      'cookie',
      Object.entries(o.cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; '),
    )
  headers.set('accept-encoding', 'identity')
  // A test fixture's partial `cf` object: the runtime accepts any shape here.
  const init = { method: o.method ?? 'GET', headers, cf: o.cf ?? CF.US, body: o.body ?? null } as RequestInit
  const req = new Request(`${o.origin ?? 'https://shop.example'}${path}`, init)
  const ctx = createExecutionContext()
  const res = await app.fetch(req, { ...testEnv, ...o.env }, ctx)
  const body = await res.text()
  await waitOnExecutionContext(ctx)
  const setCookies = res.headers.getAll('set-cookie')
  const jar: Record<string, string> = {}
  for (const c of setCookies) {
    const first = c.split(';')[0] ?? ''
    const eq = first.indexOf('=')
    jar[first.slice(0, eq)] = first.slice(eq + 1)
  }
  return { res, body, setCookies, jar }
}

/** The text inside the element with this id in an HTML body (first match, tags stripped). */
export function textOf(body: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(body)
  return m?.[1]
}

/** The decoded payload of a JWT (no verification: for assertions only). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? ''
  return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>
}
