import { beforeEach, describe, expect, it } from 'vitest'
import { forgetRuleset } from '../../src/rules/store'
import { baseEnv, bytesOf, chunked, encoder, equalBytes, html, page, personalized, RULESET_TEXT, serve, split } from './fixtures'

const realKv = baseEnv.RULES as KVNamespace

beforeEach(async () => {
  await realKv.put('ruleset', RULESET_TEXT)
  forgetRuleset(realKv)
})

/** Asserts a pass-through: same status, the origin's exact bytes, no `x-veneer`. */
async function expectUntouched(res: Response, status: number, body: Uint8Array): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('x-veneer')).toBeNull()
  expect(equalBytes(await bytesOf(res), body)).toBe(true)
}

async function compressed(text: string, format: 'gzip' | 'deflate'): Promise<Uint8Array> {
  return bytesOf(new Response(new Response(text).body!.pipeThrough(new CompressionStream(format))))
}

describe('origin faults: what the origin sent is what the visitor gets', () => {
  it('origin 500 passes through, status and body unchanged (not a 5xx of ours)', async () => {
    const body = encoder.encode(page(3000))
    const { res } = await serve(async () => html(body, {}, 500), '/products/500')
    await expectUntouched(res, 500, body)
  })

  it('origin 404 passes through untouched', async () => {
    const body = encoder.encode('<!doctype html><h1>Not found</h1>')
    const { res } = await serve(async () => html(body, {}, 404), '/nope')
    await expectUntouched(res, 404, body)
  })

  it('a redirect is passed to the browser, not followed', async () => {
    const { res, originRequests } = await serve(
      async () => new Response(null, { status: 301, headers: { location: 'https://origin.test/new' } }),
      '/old',
    )
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe('https://origin.test/new')
    expect(res.headers.get('x-veneer')).toBeNull()
    expect(originRequests[0]?.redirect).toBe('manual')
  })

  it('non-HTML (JSON) passes through byte for byte with its headers', async () => {
    const body = encoder.encode(JSON.stringify({ hero: '<section id="hero"><h1>Welcome to the shop</h1></section>' }))
    const { res } = await serve(
      async () =>
        new Response(body, {
          headers: { 'content-type': 'application/json', 'content-length': String(body.length), etag: '"j1"' },
        }),
      '/data.json',
    )
    expect(res.headers.get('etag')).toBe('"j1"')
    expect(res.headers.get('content-length')).toBe(String(body.length))
    await expectUntouched(res, 200, body)
  })

  for (const format of ['gzip', 'deflate'] as const) {
    it(`a body still compressed (${format}, content-encoding set) is passed through, not rewritten`, async () => {
      // Workers' fetch hands over decoded bodies (content-encoding still set); a body that is
      // really compressed comes from another origin seam (a Hono handler, a service binding).
      const body = await compressed(page(20_000), format)
      const { res } = await serve(async () => html(body, { 'content-encoding': format }), '/products/gz')
      await expectUntouched(res, 200, body)
      expect(res.headers.get('content-encoding')).toBe(format)
    })
  }

  it('a brotli body (bytes that are not text) is passed through, not rewritten', async () => {
    // CompressionStream has no brotli in workerd; any binary body behaves the same way.
    const body = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 256)
    const { res } = await serve(async () => html(body, { 'content-encoding': 'br' }), '/products/br')
    await expectUntouched(res, 200, body)
  })

  it('a decoded body that still carries content-encoding (what fetch returns) is personalized', async () => {
    const text = page(20_000)
    const { res } = await serve(async () => html(text, { 'content-encoding': 'gzip' }), '/products/decoded')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(text))
  })

  it('a 5 MB page streams through personalized, every byte delivered', async () => {
    const text = page(5 * 1024 * 1024)
    const bytes = encoder.encode(text)
    const { res } = await serve(
      async () => html(chunked(split(bytes, 16 * 1024)), { 'content-length': String(bytes.length) }),
      '/products/big',
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(res.headers.get('content-length')).toBeNull()
    expect(await res.text()).toBe(personalized(text))
  })

  it('invalid UTF-8 bytes outside the rewritten region are delivered as they were', async () => {
    const before = encoder.encode(page(3000).replace('</body>', '<p id="raw">'))
    const junk = new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x80, 0xf0, 0x9f])
    const after = encoder.encode('</p></body></html>')
    const body = new Uint8Array([...before, ...junk, ...after])
    const { res } = await serve(async () => html(chunked([before, junk, after])), '/products/utf8')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    const out = await bytesOf(res)
    const expected = new Uint8Array([
      ...encoder.encode(personalized(page(3000)).replace('</body>', '<p id="raw">')),
      ...junk,
      ...after,
    ])
    expect(equalBytes(out, expected)).toBe(true)
    expect(out.length - body.length).toBe(personalized(page(3000)).length - page(3000).length)
  })

  it('an empty 200 body stays empty (no 5xx)', async () => {
    const { res } = await serve(async () => html(''), '/products/empty')
    expect(res.status).toBe(200)
    // The decision is made before the body streams: nothing to rewrite, but the state stands.
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect((await bytesOf(res)).length).toBe(0)
  })

  it('a 200 with no body at all passes through', async () => {
    const { res } = await serve(async () => html(null), '/products/null')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBeNull()
    expect((await bytesOf(res)).length).toBe(0)
  })

  it('a charset=utf-16 page is passed through (HTMLRewriter cannot parse it)', async () => {
    const text = page(2000)
    const bytes = new Uint8Array(text.length * 2)
    for (let i = 0; i < text.length; i++) bytes[i * 2] = text.charCodeAt(i) // UTF-16LE, ASCII text
    const { res } = await serve(async () => html(bytes, { 'content-type': 'text/html; charset=utf-16' }), '/products/utf16')
    await expectUntouched(res, 200, bytes)
  })
})
