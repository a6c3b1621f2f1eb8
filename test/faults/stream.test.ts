import { beforeEach, describe, expect, it } from 'vitest'
import { forgetRuleset } from '../../src/rules/store'
import {
  baseEnv,
  CF_BERLIN,
  bytesOf,
  chunked,
  concat,
  decoder,
  encoder,
  html,
  page,
  personalized,
  readUntilError,
  RULESET_TEXT,
  serve,
  split,
} from './fixtures'

const realKv = baseEnv.RULES as KVNamespace

beforeEach(async () => {
  await realKv.put('ruleset', RULESET_TEXT)
  forgetRuleset(realKv)
})

describe('pages that break mid-stream', () => {
  it('a page cut mid-stream: what arrived is delivered (rewritten), then the same failure; no byte invented', async () => {
    const text = page(60_000)
    const chunks = split(encoder.encode(text), 8 * 1024)
    const sent = chunks.slice(0, 4)
    const { res } = await serve(async () => html(chunked(sent, { errorAfter: true })), '/products/cut')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('personalized')
    const { bytes, error } = await readUntilError(res)
    expect(error).toBeDefined() // the visitor sees a broken transfer, as they would without Veneer
    const expected = personalized(decoder.decode(concat(sent)))
    const got = decoder.decode(bytes)
    // Everything received is the origin's page, in order, with the headline rewritten.
    expect(expected.startsWith(got)).toBe(true)
    expect(got.length).toBeGreaterThan(expected.length - 8 * 1024)
  })

  it('a cut page is not remembered as unparseable: the next request is personalized again', async () => {
    const text = page(30_000)
    const chunks = split(encoder.encode(text), 4 * 1024)
    const first = await serve(async () => html(chunked(chunks.slice(0, 2), { errorAfter: true })), '/products/cut-again')
    await readUntilError(first.res)
    const second = await serve(async () => html(chunked(chunks)), '/products/cut-again')
    expect(second.res.headers.get('x-veneer')).toBe('personalized')
    expect(await second.res.text()).toBe(personalized(text))
  })

  it('an origin that fails before its first byte gives the same failure, not a 5xx', async () => {
    const failing = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('reset')) })
    const { res } = await serve(async () => html(failing), '/products/cut-at-once')
    expect(res.status).toBe(200)
    const { bytes, error } = await readUntilError(res)
    expect(error).toBeDefined()
    expect(bytes.length).toBe(0)
  })

  // `<select>` then `<title>` aborts lol-html's parse ("text content tag ... ambiguous").
  const AMBIGUOUS = '<form><select name="size"><option>S</option><title>Sizes</title></select></form>'

  for (const [label, size] of [
    ['chunks of 1 KB', 1024],
    ['one chunk', 1 << 20],
    ['chunks of 7 bytes', 7],
  ] as const) {
    it(`<select><title> (${label}): the page exact, each byte once, on the first request and the next`, async () => {
      const path = `/products/ambiguous-${size}`
      const text = page(12_000, AMBIGUOUS)
      const origin = encoder.encode(text)
      for (let i = 0; i < 2; i++) {
        const { res } = await serve(async () => html(chunked(split(origin, size))), path)
        expect(res.status).toBe(200)
        expect(res.headers.get('x-veneer')).toBe('personalized')
        // The guard ends the rewrite before the <select>: rewritten up to it, untouched after.
        expect(decoder.decode(await bytesOf(res))).toBe(personalized(text))
      }
    })
  }

  it('<select><title> in a body the runtime streams itself (read in 64 KB pieces): exact', async () => {
    const text = page(300_000).replace('</body>', `${AMBIGUOUS}<footer>end</footer></body>`)
    const { res } = await serve(async () => html(text), '/products/ambiguous-native')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(text))
  })

  it('<select><title> amid identical repeated markup: exact', async () => {
    const same = `<p class="same">${'The very same paragraph, again and again. '.repeat(5)}</p>\n`
    const text = page(2000).replace('</body>', `${same.repeat(100)}${AMBIGUOUS}${same.repeat(100)}</body>`)
    for (const [path, body] of [
      ['/products/repeat-1k', () => chunked(split(encoder.encode(text), 1024))],
      ['/products/repeat-native', () => text],
    ] as const) {
      const { res } = await serve(async () => html(body()), path)
      expect(await res.text()).toBe(personalized(text))
    }
  })

  it('<select><title> before the rewritten region: the page arrives whole and untouched after it', async () => {
    const text = page(12_000).replace('<section id="hero">', `${AMBIGUOUS}<section id="hero">`)
    const { res } = await serve(async () => html(chunked(split(encoder.encode(text), 1024))), '/products/ambiguous-early')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(text)
  })

  it('<select><title> far from the rewritten region: the page arrives exact, no byte repeated', async () => {
    const text = page(12_000).replace('</body>', `${AMBIGUOUS}<footer>end</footer></body>`)
    const origin = encoder.encode(text)
    const { res } = await serve(async () => html(chunked(split(origin, 1024))), '/products/ambiguous-late')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(text))
  })
})

describe('charsets', () => {
  it('a windows-1252 page: inserted text is encoded in the page charset, on both byte paths', async () => {
    const text = page(6000).replace('Free returns', 'Livraison offerte, caf\u00e9 compris')
    const latin1 = Uint8Array.from(text, (c) => c.charCodeAt(0))
    for (const expected of ['guarded', 'native']) {
      const { res } = await serve(
        async () => html(chunked(split(latin1, 1024)), { 'content-type': 'text/html; charset=windows-1252' }),
        '/products/latin1',
        { cf: { ...CF_BERLIN, city: 'D\u00fcsseldorf' } } as RequestInit,
      )
      expect(res.headers.get('server-timing')).toContain(`veneer-path;dur=0.0;desc="${expected}"`)
      const got = await bytesOf(res)
      const want = Uint8Array.from(personalized(text).replace('Berlin', 'D\u00fcsseldorf'), (c) => c.charCodeAt(0))
      expect(Array.from(got)).toEqual(Array.from(want))
    }
  })
})
