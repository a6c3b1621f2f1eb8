import { describe, expect, it } from 'vitest'
import { readableTime } from '../../src/admin/dashboard/time'
import { createApp } from '../../src/app'
import { kvStore, publishDocument } from '../../src/admin/versions'
import { BASE, clearRules, demoRuleset, testEnv, TOKEN } from '../admin/helpers'

const app = createApp()

async function page(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; type: string }> {
  const res = await app.request(`${BASE}${path}`, init, testEnv)
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' }
}

async function adminCookie(): Promise<string> {
  const res = await app.request(
    `${BASE}/__veneer/admin/login`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    },
    testEnv,
  )
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
}

describe('every HTML page Veneer serves is in standards mode', () => {
  it('starts with <!doctype html>: dashboard, login, preferences, refusals, QA', async () => {
    await clearRules()
    const cookie = await adminCookie()
    const pages = [
      await page('/__veneer/admin'), // login form
      await page('/__veneer/admin', { headers: { cookie } }), // the dashboard
      await page('/__veneer/admin/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE },
        body: 'token=wrong',
      }),
      await page('/__veneer/preferences'),
      await page('/__veneer/preferences', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
        body: 'personalization=on',
      }),
      await page('/__veneer/qa?clear=1'),
    ]
    for (const p of pages) {
      expect(p.type).toMatch(/^text\/html/)
      expect(p.text.slice(0, 15).toLowerCase(), p.text.slice(0, 80)).toBe('<!doctype html>')
    }
  })
})

describe('readable times in the dashboard', () => {
  const now = Date.parse('2026-11-30T07:05:00Z')
  it.each([
    ['2026-11-30T07:04:50.123Z', '30 Nov 2026, 07:04 UTC (just now)'],
    ['2026-11-30T06:59:12Z', '30 Nov 2026, 06:59 UTC (6 min ago)'],
    ['2026-11-29T19:05:00Z', '29 Nov 2026, 19:05 UTC (12 h ago)'],
    ['2026-11-02T07:05:00Z', '2 Nov 2026, 07:05 UTC (28 days ago)'],
    ['2027-01-01T00:00:00Z', '1 Jan 2027, 00:00 UTC'],
  ])('%s → %s', (iso, text) => {
    expect(readableTime(iso, now)).toBe(text)
  })

  it('is undefined for what does not parse', () => {
    expect(readableTime('yesterday', now)).toBeUndefined()
  })

  it('the version history shows them, with the ISO value kept in <time datetime>', async () => {
    await clearRules()
    const kv = testEnv.RULES as KVNamespace
    const at = new Date(Date.now() - 5 * 60_000)
    const out = await publishDocument(kvStore(kv), demoRuleset(), { at })
    const cookie = await adminCookie()
    const html = (await page('/__veneer/admin', { headers: { cookie } })).text
    const row = html.slice(html.indexOf(`data-version="${out.version}"`))
    expect(row).toContain(`<time datetime="${at.toISOString()}"`)
    expect(row).toMatch(/UTC \(5 min ago\)/)
  })
})
