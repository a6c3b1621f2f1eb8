import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LONG_RUN_BYTES, SELECT_LOOKAHEAD_BYTES, scanForRisk, type StopReason } from '../../src/rewrite/guard'
import { forgetPages, pageKey, pageKind, rememberPage } from '../../src/rewrite/known'
import { PAGE as SHOP, ruleset, rulesKv, run } from '../helpers'

const enc = new TextEncoder()

/** Drives the scanner as src/rewrite/stream.ts does: where the rewrite stops, for a chunking. */
function drive(text: string, sizes: number[]): { fed: number; stop?: StopReason; marker: boolean } {
  const bytes = enc.encode(text)
  let pending = new Uint8Array(0)
  let from = 0
  let fed = 0
  let marker = false
  let at = 0
  let k = 0
  for (;;) {
    const size = sizes.length === 0 ? bytes.length : (sizes[k++ % sizes.length] as number)
    const final = at >= bytes.length
    const chunk = bytes.subarray(at, at + Math.max(1, size))
    at += chunk.length
    const buf = final ? pending : new Uint8Array([...pending, ...chunk])
    const s = scanForRisk(buf, final, from)
    marker ||= s.marker
    fed += s.feed
    if (s.stop !== undefined) return { fed, stop: s.stop, marker }
    if (final) return { fed, marker }
    pending = buf.subarray(s.feed)
    from = s.next - s.feed
  }
}

const PAGE = (middle: string) =>
  `<!doctype html><html><head><title>t</title></head><body><h1>Hi</h1>${middle}<p>end</p></body></html>`

describe('scanForRisk: where lol-html could fail', () => {
  it('a plain page is fed whole, without a stop or a marker', () => {
    const text = PAGE('<script>if (a < b) x = "<select>"</script>'.replace('<select>', 'select'))
    expect(drive(text, [])).toEqual({ fed: enc.encode(text).length, marker: false })
  })

  it('a benign <select> is marked but not stopped at', () => {
    const text = PAGE(
      '<select name="sort"><option value="a">A</option><optgroup label="x"><option>B</option></optgroup></select>',
    )
    expect(drive(text, [])).toEqual({ fed: text.length, marker: true })
  })

  for (const tag of [
    'title',
    'style',
    'iframe',
    'noscript',
    'xmp',
    'noembed',
    'noframes',
    'plaintext',
    'template',
    'textarea',
    'script',
  ]) {
    it(`<select> then <${tag}>: stops exactly before the <select>`, () => {
      const middle = `<p>before</p><SELECT id="s"><option>A</option><${tag}>x</${tag}></select>`
      const text = PAGE(middle)
      expect(drive(text, [])).toEqual({ fed: text.indexOf('<SELECT'), stop: 'select', marker: true })
    })
  }

  it('a </select> inside a quoted attribute does not end the select', () => {
    const text = PAGE('<select><option value="</select>">A</option><title>x</title></select>')
    expect(drive(text, []).stop).toBe('select')
  })

  it('a comment inside a select stops there (it could hide the end tag)', () => {
    const text = PAGE('<select><!-- </select> --><option>A</option></select>')
    expect(drive(text, []).stop).toBe('select')
  })

  it('a <?…> inside a select stops there (to the tokenizer it is a comment that can hide </select>)', () => {
    const text = PAGE('<select><?</select>?><option>A</option><title>x</title></select>')
    expect(drive(text, []).stop).toBe('select')
  })

  it('<frameset> stops before it', () => {
    const text = PAGE('<frameset cols="50%"><frame src="a"></frameset>')
    expect(drive(text, [])).toEqual({ fed: text.indexOf('<frameset'), stop: 'frameset', marker: true })
  })

  it('a run without ">" longer than the cap stops after the last ">" before it', () => {
    const img = `<img src="data:image/png;base64,${'A'.repeat(2 * LONG_RUN_BYTES)}">`
    const text = PAGE(img)
    expect(drive(text, [65536])).toEqual({ fed: text.indexOf('<img'), stop: 'long-token', marker: false })
  })

  it('a long token in one big chunk (a stream made in JavaScript) is found too', () => {
    const text = PAGE(`<p>a</p><img src="data:,${'B'.repeat(2 * LONG_RUN_BYTES)}"><p>b</p>`)
    expect(drive(text, [])).toEqual({ fed: text.indexOf('<img'), stop: 'long-token', marker: false })
  })

  it('a long token under the cap is fed (lol-html holds it)', () => {
    const text = PAGE(`<img src="data:,${'B'.repeat(LONG_RUN_BYTES - 100)}">`)
    expect(drive(text, [65536])).toEqual({ fed: text.length, marker: false })
  })

  it('a select whose end does not come within the lookahead stops at the select', () => {
    const text = PAGE(`<select><option>${'x'.repeat(2 * SELECT_LOOKAHEAD_BYTES)}</option></select>`)
    expect(drive(text, [4096])).toMatchObject({ fed: text.indexOf('<select'), stop: 'select' })
  })

  it('a select still open when the page ends is benign (nothing after it can fail)', () => {
    const text = '<html><body><select><option>A'
    expect(drive(text, [3])).toEqual({ fed: text.length, marker: true })
  })

  it('"<select" split across chunks is still seen, at every split point', () => {
    const text = PAGE('<p>x</p><select><title>t</title></select>')
    for (let size = 1; size <= 40; size++)
      expect(drive(text, [size])).toMatchObject({ fed: text.indexOf('<select'), stop: 'select' })
  })

  it('the stop point does not depend on how the bytes were cut (property)', () => {
    const fragment = fc.constantFrom(
      '<p>x</p>',
      '<select><option>A</option></select>',
      '<select><option>A</option><title>t</title></select>',
      '<select><template><style>s</style></template></select>',
      '<div title="a > b">y</div>',
      '<!-- <select><title> -->',
      '<frameset></frameset>',
      '<script>a<b</script>',
      'text < more',
      '<SeLeCt>',
    )
    fc.assert(
      fc.property(
        fc.array(fragment, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }),
        (parts, sizes) => {
          const text = PAGE(parts.join(''))
          expect(drive(text, sizes)).toEqual(drive(text, []))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('what is fed never contains the start of an unparseable construct (property)', () => {
    const risky = fc.constantFrom(
      '<select><title>t</title></select>',
      '<frameset>',
      '<select><template><style>',
      '<select><iframe>',
    )
    fc.assert(
      fc.property(
        fc.array(fc.oneof(risky, fc.constantFrom('<p>a</p>', '<b>', 'txt')), { maxLength: 10 }),
        fc.integer({ min: 1, max: 30 }),
        (parts, size) => {
          const text = PAGE(parts.join(''))
          const r = drive(text, [size])
          const fed = text.slice(0, r.fed)
          expect(fed).not.toMatch(/<frameset|<select><(title|template|iframe)/)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('pageKey and what is known of a page', () => {
  it('drops the fragment and tracking parameters, keeps the rest in order', () => {
    expect(pageKey('https://s.example/p?utm_source=x&id=3&gclid=abc&fbclid=z#top')).toBe('https://s.example/p?id=3')
    expect(pageKey('https://s.example/p?utm_medium=a&UTM_CAMPAIGN=b')).toBe('https://s.example/p')
    expect(pageKey('https://s.example/p?b=2&a=1')).toBe('https://s.example/p?b=2&a=1')
    expect(pageKey('https://s.example/p?%ZZ=1')).toBe('https://s.example/p?%ZZ=1')
  })

  it('unknown pages are guarded; plain expires; a failure outranks a later guess', () => {
    forgetPages()
    expect(pageKind('k1')).toBe('guarded')
    rememberPage('k1', 'plain', 1000)
    expect(pageKind('k1', 2000)).toBe('plain')
    expect(pageKind('k1', 1000 + 11 * 60 * 1000)).toBe('guarded')
    rememberPage('k2', 'failed', 1000)
    rememberPage('k2', 'plain', 1001)
    expect(pageKind('k2', 1002)).toBe('failed')
  })
})

describe('a page whose rewrite failed', () => {
  it('is passed through untouched (bypass) while a placement is on its path; with none, it is an ordinary page', async () => {
    forgetPages()
    const url = 'https://shop.example/failed-page'
    rememberPage(pageKey(url), 'failed')
    const onPath = await run(url, { kv: await rulesKv(ruleset()) })
    expect(onPath.res.headers.get('x-veneer')).toBe('bypass')
    expect(onPath.text).toBe(SHOP)
    expect(onPath.res.headers.getSetCookie()).toEqual([])
    const elsewhere = ruleset({
      version: 't2',
      placements: (ruleset().placements ?? []).map((p) => ({ ...p, paths: ['/other'] })),
    })
    const noPlacement = await run(url, { kv: await rulesKv(elsewhere) })
    expect(noPlacement.res.headers.get('x-veneer')).toBe('generic')
    expect(noPlacement.text).toBe(SHOP)
    forgetPages()
  })
})
