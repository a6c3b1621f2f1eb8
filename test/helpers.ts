import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { createApp, type AppOptions } from '../src/app'
import type { Env } from '../src/env'
import type { RulesetInput } from '../src/rules/schema'

/** Complete `request.cf` fixtures: miniflare merges partial ones with Austin, US. */
export const CF = {
  berlin: {
    country: 'DE',
    city: 'Berlin',
    region: 'Berlin',
    regionCode: 'BE',
    continent: 'EU',
    postalCode: '10115',
    timezone: 'Europe/Berlin',
    isEUCountry: '1',
    latitude: '52.52',
    longitude: '13.40',
  },
  newYork: {
    country: 'US',
    city: 'New York',
    region: 'New York',
    regionCode: 'NY',
    continent: 'NA',
    postalCode: '10001',
    timezone: 'America/New_York',
    latitude: '40.71',
    longitude: '-74.00',
  },
  tokyo: {
    country: 'JP',
    city: 'Tokyo',
    region: 'Tokyo',
    regionCode: '13',
    continent: 'AS',
    postalCode: '100-0001',
    timezone: 'Asia/Tokyo',
    latitude: '35.68',
    longitude: '139.69',
  },
} as const

export const UA = {
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  desktopChrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
} as const

let kvSeq = 0

/**
 * A KV binding holding `doc` (as JSON, or raw text) under `ruleset`, backed by the real local KV.
 * Each call returns a new binding object, so the per-isolate ruleset cache starts cold.
 * `delayMs` slows every read; `fail` makes reads throw.
 */
export async function rulesKv(
  doc: RulesetInput | string | null,
  opts: { delayMs?: number; fail?: boolean } = {},
): Promise<KVNamespace & { reads: number; set(doc: RulesetInput | string | null): Promise<void> }> {
  const key = `ruleset-test-${++kvSeq}`
  const real = (env as unknown as Env).RULES as KVNamespace
  const set = async (d: RulesetInput | string | null) => {
    if (d === null) await real.delete(key)
    else await real.put(key, typeof d === 'string' ? d : JSON.stringify(d))
  }
  await set(doc)
  const wrapper = {
    reads: 0,
    delayMs: opts.delayMs ?? 0,
    set,
    async get(name: string, type?: unknown) {
      wrapper.reads++
      if (wrapper.delayMs > 0) await new Promise((r) => setTimeout(r, wrapper.delayMs))
      if (opts.fail === true) throw new Error('KV unavailable (test)')
      return real.get(name === 'ruleset' ? key : name, type as 'text')
    },
  }
  return wrapper as unknown as KVNamespace & { reads: number; set(doc: RulesetInput | string | null): Promise<void> }
}

export const PAGE = `<!doctype html><html><head><title>Shop</title></head><body>
<div id="promo" class="bar">Free returns.</div>
<section id="hero"><h1>Everyday gear.</h1><p class="sub">Made to last.</p></section>
<a id="cta" href="/products" title="Shop">Shop now</a>
<p id="greeting">Welcome.</p>
</body></html>`

/** Records the keys `kv.get` is asked for, from now on (wraps the namespace's `get` in place). */
export function recordKvGets(kv: KVNamespace): string[] {
  const names: string[] = []
  const get = kv.get.bind(kv) as (name: string, type?: unknown) => Promise<unknown>
  ;(kv as unknown as { get: typeof get }).get = (name, type) => {
    names.push(name)
    return get(name, type)
  }
  return names
}

/** An origin that serves `html` (or a function of the request), counting its calls. */
export function origin(html: string | ((req: Request) => Response) = PAGE, headers: Record<string, string> = {}) {
  const calls: Request[] = []
  const fetchOrigin = async (req: Request) => {
    calls.push(req)
    if (typeof html === 'function') return html(req)
    return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8', ...headers } })
  }
  return { fetchOrigin, calls }
}

/** Streams `text` in chunks of `size` bytes, pausing `pauseMs` between chunks. */
export function chunkedBody(text: string, size: number, pauseMs = 0): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let offset = 0
  return new ReadableStream({
    async pull(controller) {
      if (offset >= bytes.length) return controller.close()
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
      controller.enqueue(bytes.slice(offset, offset + size))
      offset += size
    },
  })
}

export interface Run {
  res: Response
  text: string
  bytes: Uint8Array
  /** ms from the call until the whole body was read (before background work is flushed). */
  elapsedMs: number
}

/** Runs one request through the Veneer app with the given KV and origin, flushing waitUntil. */
export async function run(
  url: string,
  opts: { kv?: KVNamespace; init?: RequestInit & { cf?: Record<string, unknown> }; app?: AppOptions; env?: Partial<Env> } = {},
): Promise<Run> {
  const app = createApp({ fetchOrigin: origin().fetchOrigin, ...opts.app })
  const testEnv: Env = { ...(env as unknown as Env), ORIGIN_URL: 'https://origin.example', ...opts.env, RULES: opts.kv }
  const ctx = createExecutionContext()
  const started = Date.now()
  const res = await app.fetch(new Request(url, { cf: CF.newYork, ...opts.init } as RequestInit), testEnv, ctx)
  const bytes = new Uint8Array(await res.arrayBuffer())
  const elapsedMs = Date.now() - started
  await waitOnExecutionContext(ctx)
  return { res, text: new TextDecoder().decode(bytes), bytes, elapsedMs }
}

/** A minimal ruleset with one placement on `#hero h1`; override parts as needed. */
export function ruleset(over: Partial<RulesetInput> = {}): RulesetInput {
  return {
    version: 't1',
    segments: [{ id: 'us', when: { 'geo.country': 'US' } }],
    placements: [
      {
        id: 'hero',
        paths: ['/*'],
        selector: '#hero h1',
        variants: [{ id: 'us', ops: [{ op: 'setText', value: 'Hello {{geo.city}}' }] }],
        rules: [{ segment: 'us', variant: 'us' }],
      },
    ],
    ...over,
  }
}
