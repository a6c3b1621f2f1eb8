import { beforeEach, describe, expect, it } from 'vitest'
import { forgetRuleset, MAX_RULESET_CHARS } from '../../src/rules/store'
import { baseEnv, bytesOf, decoder, faultyKv, html, page, personalized, RULESET, RULESET_TEXT, serve } from './fixtures'

// The ruleset store keeps one state per KV binding object: every faulty binding below is a
// fresh object, so each test starts cold, as a new isolate would.
const realKv = baseEnv.RULES as KVNamespace
const origin = page(20_000)
const fromOrigin = async () => html(origin)

beforeEach(async () => {
  await realKv.put('ruleset', RULESET_TEXT)
  forgetRuleset(realKv)
})

describe('KV faults: the page is delivered, generic, within the budget', () => {
  it('a healthy KV personalizes (the baseline the faults are compared with)', async () => {
    const { res } = await serve(fromOrigin, '/products/1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(origin))
  })

  it('KV stalled: the response starts within the cold budget and is the generic page', async () => {
    const stalled = faultyKv(() => new Promise<string | null>((resolve) => setTimeout(() => resolve(RULESET_TEXT), 2000)))
    const { res, respondedAfterMs: elapsed } = await serve(fromOrigin, '/products/2', {
      env: { RULES: stalled },
      waitForBackground: false,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('fallback')
    expect(res.headers.get('server-timing')).toMatch(/veneer-kv;dur=\d+(\.\d)?;desc="timeout"/)
    expect(await res.text()).toBe(origin)
    // The cold budget is 50 ms. The upper bound only proves the request did not wait for the
    // 2 s stall: timers fire late on a loaded CI box. The bench measures the budget precisely,
    // over HTTP, against budgetMs + 5 ms (docs/performance.md).
    expect(elapsed).toBeGreaterThanOrEqual(45)
    expect(elapsed).toBeLessThan(1000)
  })

  it('KV stalled, then answering: the next request of the same isolate is personalized', async () => {
    const slow = faultyKv(() => new Promise<string | null>((resolve) => setTimeout(() => resolve(RULESET_TEXT), 120)))
    const first = await serve(fromOrigin, '/products/3', { env: { RULES: slow } })
    expect(first.res.headers.get('x-veneer')).toBe('fallback')
    await first.res.arrayBuffer()
    await new Promise((r) => setTimeout(r, 150))
    const second = await serve(fromOrigin, '/products/3', { env: { RULES: slow } })
    expect(second.res.headers.get('x-veneer')).toBe('personalized')
    expect(await second.res.text()).toBe(personalized(origin))
  })

  it('KV throwing (rejecting and throwing synchronously): generic page, no 5xx', async () => {
    for (const kv of [
      faultyKv(() => Promise.reject(new Error('KV GET failed: 500'))),
      faultyKv(() => {
        throw new TypeError('binding gone')
      }),
    ]) {
      const { res } = await serve(fromOrigin, '/products/4', { env: { RULES: kv } })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-veneer')).toBe('fallback')
      expect(await res.text()).toBe(origin)
    }
  })

  it('KV returning corrupt JSON: generic page, no 5xx', async () => {
    const kv = faultyKv(async () => RULESET_TEXT.slice(0, RULESET_TEXT.length / 2) + '\u0000{{')
    const { res } = await serve(fromOrigin, '/products/5', { env: { RULES: kv } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('fallback')
    expect(await res.text()).toBe(origin)
  })

  it('KV returning a valid JSON document that is not a ruleset: generic page', async () => {
    const kv = faultyKv(async () => JSON.stringify({ segments: 'everyone', placements: [{ id: 'x' }] }))
    const { res } = await serve(fromOrigin, '/products/6', { env: { RULES: kv } })
    expect(res.headers.get('x-veneer')).toBe('fallback')
    expect(await res.text()).toBe(origin)
  })

  it('KV returning a huge (20 MB) JSON-ish document: generic page, bounded time, no 5xx', async () => {
    const filler = JSON.stringify({ id: 'seg', when: { 'geo.country': 'DE' }, description: 'x'.repeat(900) })
    const huge = `{"version":"huge","segments":[${Array.from({ length: 21_000 }, () => filler).join(',')}]}`
    expect(huge.length).toBeGreaterThan(20_000_000)
    const kv = faultyKv(async () => huge)
    const { res, respondedAfterMs: elapsed } = await serve(fromOrigin, '/products/7', { env: { RULES: kv } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('fallback')
    expect(decoder.decode(await bytesOf(res))).toBe(origin)
    // Refused by size before it is parsed (store.ts MAX_RULESET_CHARS): parsing it took ~70 ms
    // of CPU, past the 50 ms budget, which a timer cannot interrupt; now ~4 ms.
    expect(elapsed).toBeLessThan(1000)
  })

  it('a valid ruleset over the size cap is refused unparsed, not compiled', async () => {
    const big = {
      ...RULESET,
      segments: [
        ...RULESET.segments,
        ...Array.from({ length: 2500 }, (_, i) => ({
          id: `pad-${i}`,
          description: 'p'.repeat(900),
          when: { 'geo.country': 'ZZ' },
        })),
      ],
    }
    const text = JSON.stringify(big)
    expect(text.length).toBeGreaterThan(MAX_RULESET_CHARS)
    const { res } = await serve(fromOrigin, '/products/9', { env: { RULES: faultyKv(async () => text) } })
    expect(res.headers.get('x-veneer')).toBe('fallback')
    expect(await res.text()).toBe(origin)
  })

  it('the real KV with a valid ruleset under /api/* exclusion passes through untouched', async () => {
    const { res } = await serve(fromOrigin, '/api/cart')
    expect(res.headers.get('x-veneer')).toBeNull()
    expect(await res.text()).toBe(origin)
    expect(RULESET.settings.exclude).toContain('/api/*')
  })
})
