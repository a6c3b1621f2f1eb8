import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { CF, origin, PAGE, ruleset, rulesKv } from '../helpers'

/**
 * The first read of `request.cf` makes the runtime parse and deep-freeze the whole blob
 * (docs/performance.md, "The fixed cost per request"): the page path reads it only when
 * something needs geo or local time.
 */
async function cfReads(
  url: string,
  kv: KVNamespace,
  opts: { measure?: boolean; cookie?: string } = {},
): Promise<{ reads: number; text: string; state: string | null; cookie: string | undefined }> {
  const app = createApp({ fetchOrigin: origin().fetchOrigin })
  const request = new Request(url, { headers: opts.cookie === undefined ? {} : { cookie: opts.cookie } })
  let reads = 0
  Object.defineProperty(request, 'cf', {
    get() {
      reads++
      return CF.newYork
    },
  })
  const ctx = createExecutionContext()
  // Without DB and EVENTS nothing is sampled for segment discovery (which reads geo.continent).
  const storage = opts.measure === true ? {} : { DB: undefined, EVENTS: undefined }
  const testEnv = { ...(env as unknown as Env), ORIGIN_URL: 'https://origin.example', RULES: kv, ...storage }
  const res = await app.fetch(request, testEnv, ctx)
  const text = await res.text()
  await waitOnExecutionContext(ctx)
  const visitor = res.headers.getSetCookie().find((c) => c.startsWith('veneer_visitor='))
  return { reads, text, state: res.headers.get('x-veneer'), cookie: visitor?.split(';')[0] }
}

describe('request.cf is read only when needed', () => {
  it('is not read on a page with no placement on its path', async () => {
    const kv = await rulesKv(ruleset({ placements: (ruleset().placements ?? []).map((p) => ({ ...p, paths: ['/elsewhere'] })) }))
    const r = await cfReads('https://shop.example/', kv)
    expect(r.state).toBe('generic')
    expect(r.text).toBe(PAGE)
    expect(r.reads).toBe(0)
  })

  it('is not read when no rule or placeholder looks at geo or time', async () => {
    const kv = await rulesKv(
      ruleset({
        segments: [{ id: 'desktop', when: { 'device.type': 'desktop' } }],
        placements: [
          {
            id: 'hero',
            paths: ['/*'],
            selector: '#hero h1',
            variants: [{ id: 'd', ops: [{ op: 'setText', value: 'Hello desktop' }] }],
            rules: [{ segment: 'desktop', variant: 'd' }],
          },
        ],
      }),
    )
    const r = await cfReads('https://shop.example/', kv)
    expect(r.text).toContain('Hello desktop')
    expect(r.reads).toBe(0)
  })

  it('is read (once) when a segment or placeholder needs geo, and the page shows it', async () => {
    const r = await cfReads('https://shop.example/', await rulesKv(ruleset()))
    expect(r.state).toBe('personalized')
    expect(r.text).toContain('Hello New York')
    expect(r.reads).toBe(1)
  })

  it('with measurement bound, is read once per visitor and day for the segment sample', async () => {
    const kv = await rulesKv(ruleset({ placements: (ruleset().placements ?? []).map((p) => ({ ...p, paths: ['/elsewhere'] })) }))
    const first = await cfReads('https://shop.example/', kv, { measure: true })
    expect(first.reads).toBe(1) // a new visitor is offered to the sample: its continent is a feature
    expect(first.cookie).toBeDefined()
    const again = await cfReads('https://shop.example/', kv, { measure: true, cookie: first.cookie })
    expect(again.reads).toBe(0) // offered already today in this isolate
  })

  it('is read for consent when optInCountries is set', async () => {
    const kv = await rulesKv(ruleset({ settings: { consent: { default: 'opt-out', optInCountries: ['EU'] } } }))
    const r = await cfReads('https://shop.example/', kv)
    expect(r.reads).toBeGreaterThanOrEqual(1)
    expect(r.text).toContain('Hello New York') // New York: not an opt-in country
  })
})
