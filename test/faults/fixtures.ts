import { env as workerEnv } from 'cloudflare:workers'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import type { OriginFetch } from '../../src/pipeline/origin'
import { CF } from '../helpers'
import { concatBytes } from '../../src/util/bytes'

/** The bindings of wrangler.toml plus the test secrets (vitest.config.ts). */
export const baseEnv: Env = workerEnv as unknown as Env

export const ORIGIN_URL = 'https://origin.test'

/** A complete `cf` object: miniflare would fill the gaps with its Austin, US placeholder. */
export const CF_BERLIN = { ...CF.berlin, colo: 'TXL' }

export const HEADLINE = '<h1>Welcome to the shop</h1>'
export const PERSONALIZED_HEADLINE = '<h1>Willkommen, Berlin</h1>'

/** A product page with the regions the fault ruleset personalizes, padded to about `bytes`. */
export function page(bytes = 4000, extra = ''): string {
  const head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body>'
  const top = `<div id="promo" class="bar">Free returns</div><section id="hero">${HEADLINE}</section>${extra}`
  const tail = '</body></html>'
  let body = ''
  for (let i = 0; head.length + top.length + body.length + tail.length < bytes; i++) {
    body += `<article class="card" data-id="${i}"><h2>Product ${i}</h2><p>A sturdy thing, made to last. Item ${i} ships in 2 days.</p></article>\n`
  }
  return head + top + body + tail
}

/** What Veneer must deliver for `page()` to a visitor from Berlin: the headline rewritten. */
export function personalized(html: string): string {
  return html.replace(HEADLINE, PERSONALIZED_HEADLINE)
}

/** The fault ruleset: every German visitor gets the Berlin headline on every page. */
export const RULESET = {
  version: 'faults-1',
  settings: { budgetMs: 50, refreshSeconds: 3600, include: ['/*'], exclude: ['/api/*'] },
  segments: [
    { id: 'german', when: { 'geo.country': 'DE' } },
    { id: 'anyone', when: { 'device.type': { $exists: true } } },
  ],
  placements: [
    {
      id: 'hero',
      paths: ['/*'],
      selector: '#hero h1',
      variants: [{ id: 'berlin', ops: [{ op: 'setText', value: 'Willkommen, {{geo.city}}' }] }],
      rules: [{ segment: 'german', variant: 'berlin' }],
    },
  ],
}
export const RULESET_TEXT = JSON.stringify(RULESET)

export const encoder = new TextEncoder()
export const decoder = new TextDecoder()

/** A response body that arrives in the given chunks. */
export function chunked(chunks: readonly Uint8Array[], opts: { errorAfter?: boolean } = {}): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const c = chunks[i++]
      if (c !== undefined) controller.enqueue(c)
      else if (opts.errorAfter === true) controller.error(new Error('origin connection reset'))
      else controller.close()
    },
  })
}

/** Splits bytes into chunks of `size`. */
export function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size))
  return out
}

export function html(body: BodyInit | null, headers: Record<string, string> = {}, status = 200): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8', ...headers } })
}

export interface Served {
  res: Response
  /** The origin request Veneer made, if any. */
  originRequests: Request[]
  /** Time until `app.fetch` returned the response (its headers), before background work. */
  respondedAfterMs: number
}

/**
 * Builds the Veneer app with `origin` as its origin (the real `fetchOrigin` seam) and sends one
 * request through `app.fetch`, waiting for background work.
 */
export async function serve(
  origin: OriginFetch,
  path: string,
  init: RequestInit & { env?: Partial<Env>; waitForBackground?: boolean } = {},
): Promise<Served> {
  const originRequests: Request[] = []
  const app = createApp({
    fetchOrigin: async (r) => {
      originRequests.push(r)
      return origin(r)
    },
  })
  const { env: envOverrides, waitForBackground: _wait, ...reqInit } = init
  const request = new Request(`https://shop.example${path}`, {
    headers: { 'accept-encoding': 'identity', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' },
    cf: CF_BERLIN,
    ...reqInit,
  })
  const ctx = createExecutionContext()
  const started = performance.now()
  const res = await app.fetch(request, { ...baseEnv, ORIGIN_URL, ...envOverrides }, ctx)
  const respondedAfterMs = performance.now() - started
  if (init.waitForBackground !== false) await waitOnExecutionContext(ctx)
  return { res, originRequests, respondedAfterMs }
}

export async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer())
}

/** Reads a body until it ends or errors; returns what arrived and the error, if any. */
export async function readUntilError(res: Response): Promise<{ bytes: Uint8Array; error?: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const parts: Uint8Array[] = []
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
    }
    return { bytes: concatBytes(parts) }
  } catch (error) {
    return { bytes: concatBytes(parts), error }
  }
}

export { concatBytes as concat }

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Reads of a KV namespace, as the ruleset store makes them. */
type KvGet = (key: string, type?: unknown) => Promise<string | null>

/** A RULES binding whose `get` misbehaves as `get` says: a stand-in for a faulty KV. */
export function faultyKv(get: KvGet): KVNamespace {
  return { get } as unknown as KVNamespace
}
