import { env } from 'cloudflare:workers'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import demo from '../../demo/ruleset.json'

export const TOKEN = 'test-admin-token'
export const testEnv = env as Env
export const BASE = 'https://shop.example'

/** A deep copy of the demo ruleset, fresh for each test. */
export function demoRuleset(): Record<string, any> {
  return JSON.parse(JSON.stringify(demo))
}

export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` })

export async function clearRules(): Promise<void> {
  const kv = testEnv.RULES!
  const list = await kv.list({ prefix: 'ruleset' })
  await Promise.all(list.keys.map((k) => kv.delete(k.name)))
}

const app = createApp()

/** An admin API call through the real app with the test env. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth(),
  e: Env = testEnv,
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
  }
  return app.request(`${BASE}/__veneer/api${path}`, init, e)
}

/** A complete `cf` object (miniflare merges partial ones with its Austin placeholder). */
export function cfGermany(): IncomingRequestCfProperties {
  return {
    country: 'DE',
    city: 'Berlin',
    region: 'Berlin',
    regionCode: 'BE',
    continent: 'EU',
    timezone: 'Europe/Berlin',
    isEUCountry: '1',
    postalCode: '10115',
    latitude: '52.52',
    longitude: '13.40',
    colo: 'FRA',
    asn: 3320,
  } as unknown as IncomingRequestCfProperties
}

export const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
