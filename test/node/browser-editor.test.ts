import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, publishDemoRuleset, root, SECRETS, startWorker, type LocalWorker } from './admin-harness'

// The visual editor and the on-page QA view (issue 15), in Chromium against the bundled Worker.
const artifacts = join(root, 'artifacts')
let worker: LocalWorker
let browser: Browser
const NEW_TEXT = 'Hallo aus dem Editor: Versand nach Deutschland ist heute gratis.'

async function login(page: Page): Promise<void> {
  await page.goto(`${worker.url}/__veneer/admin`)
  await page.fill('#token', SECRETS.ADMIN_TOKEN)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=active-version]')
}

async function qaToken(): Promise<string> {
  const res = await fetch(`${worker.url}/__veneer/api/qa-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl: '2h' }),
  })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { token: string }
  return body.token
}

async function heroOf(context: BrowserContext, path = '/'): Promise<{ page: Page; hero: string }> {
  const page = await context.newPage()
  await page.goto(`${worker.url}${path}`)
  return { page, hero: ((await page.textContent('#hero h1')) ?? '').trim() }
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  worker = await startWorker(9800, 9801)
  expect(await publishDemoRuleset(worker)).toBe(200)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await worker?.close()
})

describe('the visual editor in a browser', () => {
  it('answers 401 for the editor and its framed page without an admin session', async () => {
    for (const path of ['/__veneer/admin/editor?path=/', '/__veneer/admin/editor/frame?path=/']) {
      const res = await fetch(`${worker.url}${path}`, { redirect: 'manual' })
      expect(res.status, path).toBe(401)
      const body = await res.text()
      expect(body).not.toContain('Everyday gear') // no page content leaks
      expect(body).not.toContain('veneer:selected') // nor the picker
      expect(res.headers.get('x-frame-options')).toBe('DENY')
    }
    // A forged session cookie is no session.
    const forged = await fetch(`${worker.url}/__veneer/admin/editor/frame?path=/`, {
      headers: { cookie: 'veneer_admin=v1.99999999999.aaaaaaaaaaaaaaaaaaaaaaaa.bm90LWEtbWFj' },
    })
    expect(forged.status).toBe(401)
  })

  it('picks the hero heading, changes it for German visitors, saves, publishes; QA as DE sees it, others do not', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 950 } })
    const page = await context.newPage()
    await login(page)
    await page.goto(`${worker.url}/__veneer/admin/editor?path=/`)
    await expect.poll(() => page.textContent('#frame-status')).toContain('Click an element')
    const frame = page.frameLocator('#frame')

    // The framed page is the demo page through Veneer, with the picker; the site's scripts do not run.
    const framed = await page.request.get(`${worker.url}/__veneer/admin/editor/frame?path=/`)
    expect(framed.status()).toBe(200)
    expect(framed.headers()['x-frame-options']).toBe('SAMEORIGIN')
    expect(framed.headers()['content-security-policy']).toContain("frame-ancestors 'self'")
    expect(framed.headers()['content-security-policy']).toMatch(/script-src 'nonce-[^']+'(;|$)/)

    // Hover, then click the hero heading.
    await frame.locator('#hero h1').hover()
    const heading = await frame.locator('#hero h1').boundingBox()
    const highlight = await frame.locator('[data-veneer-picker]').first().boundingBox()
    for (const k of ['x', 'y', 'width', 'height'] as const) expect(highlight?.[k] ?? -1).toBeCloseTo(heading?.[k] ?? 0, 0)
    await frame.locator('#hero h1').click()
    await expect.poll(() => page.inputValue('#selector')).not.toBe('')
    const selector = await page.inputValue('#selector')
    expect(selector).toBe('h1') // the shortest selector that singles it out on this page
    await expect.poll(() => page.textContent('#selector-check')).toBe('Matches exactly one element on this page.')
    expect(await page.inputValue('#placement')).toBe('home-hero') // it is that placement's element
    // The placement's own selector is offered too: a selector of the operation's own applies on all its paths.
    expect(await page.isVisible('#placement-hint')).toBe(true)
    expect(await page.textContent('#use-placement-selector')).toBe('Use #hero h1')

    // A longer selector typed by hand is checked as well; one outside HTMLRewriter's subset is refused.
    await page.fill('#selector', 'section + h1')
    await expect.poll(() => page.textContent('#selector-check')).toBe('Not in the CSS subset HTMLRewriter supports.')
    await page.fill('#selector', 'p')
    await expect.poll(() => page.textContent('#selector-check')).toMatch(/^Matches \d+ elements on this page\.$/)
    await page.fill('#selector', selector)

    // Live preview in the frame as the value is typed; a placeholder is offered from the context.
    await page.selectOption('#op', 'setText')
    await page.fill('#value', NEW_TEXT)
    await expect.poll(() => frame.locator('#hero h1').textContent()).toBe(NEW_TEXT)
    await page.click('[data-placeholder="geo.city"]')
    expect(await page.inputValue('#value')).toBe(`${NEW_TEXT}{{geo.city}}`)
    await page.fill('#value', NEW_TEXT)

    await page.fill('#variant', 'editor-germany')
    await page.selectOption('#audience', 'segment:germany')
    await page.screenshot({ path: join(artifacts, 'editor-desktop.png') })
    await page.click('#save')
    await page.waitForURL(/saved=editor-germany/)
    expect(await page.textContent('[data-testid=draft-edits]')).toContain(
      'home-hero: new variant editor-germany (setText on h1) for segment germany',
    )
    expect(await page.textContent('#draft')).toContain('The draft validates.')
    expect((await page.textContent('[data-testid=active-version]'))?.trim()).toMatch(/^v1-/)

    // Nobody sees a draft: the live site is unchanged for a German QA session too (checked below
    // after publish), and the preview of the draft as a German visitor shows it.
    await page.fill('#ed-country', 'DE')
    await page.fill('#ed-city', 'Berlin')
    await page.click('#preview-as button[type=submit]')
    await expect.poll(() => frame.locator('#hero h1').textContent()).toBe(NEW_TEXT)
    await page.selectOption('#ed-view', 'active')
    await page.click('#preview-as button[type=submit]')
    await expect
      .poll(() => frame.locator('#hero h1').textContent())
      .toBe('Willkommen in Berlin! Versand nach Deutschland, Österreich und in die Schweiz ist kostenlos.')
    await page.selectOption('#ed-view', 'draft')
    await page.click('#preview-as button[type=submit]')
    await expect.poll(() => frame.locator('#hero h1').textContent()).toBe(NEW_TEXT)
    await frame.locator('#hero h1').click()
    await page.screenshot({ path: join(artifacts, 'editor-preview-de.png') })

    await page.click('#publish')
    await page.waitForURL(/published=v2-/)
    expect((await page.textContent('[data-testid=active-version]'))?.trim()).toMatch(/^v2-/)
    expect(await page.textContent('#draft')).toContain('No draft')
    await context.close()

    // A tester in QA mode as a German visitor sees the change on the demo page ...
    const token = await qaToken()
    const tester = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const qa = await tester.newPage()
    await qa.goto(`${worker.url}/__veneer/qa?token=${token}&context=${encodeURIComponent('geo.country=DE')}&to=/`)
    expect(new URL(qa.url()).pathname).toBe('/')
    expect((await qa.textContent('#hero h1'))?.trim()).toBe(NEW_TEXT)
    await tester.close()

    // ... and a visitor without it does not (miniflare's placeholder location is the US).
    const visitor = await browser.newContext()
    const plain = await heroOf(visitor)
    expect(plain.hero).not.toBe(NEW_TEXT)
    expect(plain.hero).toBe('Free two-day shipping anywhere in the US.')
    await visitor.close()
  })
})

describe('the picker and HTMLRewriter agree', () => {
  it('for every element of two demo pages, the proposed selector matches that element alone when the Worker rewrites', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await login(page)
    const probes: { path: string; selector: string; index: number }[] = []
    for (const path of ['/', '/products/jacket']) {
      await page.goto(`${worker.url}/__veneer/admin/editor?path=${encodeURIComponent(path)}&view=active`)
      await expect.poll(() => page.textContent('#frame-status')).toContain('Click an element')
      await page.evaluate(() => {
        const w = window as unknown as { picked: string[] }
        w.picked = []
        addEventListener('message', (e) => {
          if (e.data?.type === 'veneer:selected') w.picked.push(e.data.selector)
        })
      })
      const frame = page.frames().find((f) => f.url().includes('/editor/frame'))
      if (frame === undefined) throw new Error('no frame')
      // Every element in <body> (but the picker's own script), picked in document order.
      const total = await frame.evaluate(() => {
        const all = Array.from(document.body.querySelectorAll('*')).filter(
          (el) => !(el.textContent ?? '').includes('veneer:selected'),
        )
        for (const el of all) el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }))
        return all.length
      })
      expect(total).toBeGreaterThan(15)
      await expect.poll(() => page.evaluate(() => (window as unknown as { picked: string[] }).picked.length)).toBe(total)
      const picked = await page.evaluate(() => (window as unknown as { picked: string[] }).picked)
      for (const [index, selector] of picked.entries()) {
        expect(selector, `element ${index} of ${path}`).not.toBe('')
        probes.push({ path, selector, index })
      }
    }
    // One placement per proposed selector, marking what HTMLRewriter matched with an attribute.
    const doc = JSON.parse(readFileSync(join(root, 'demo', 'ruleset.json'), 'utf8'))
    doc.placements = probes.map((p, k) => ({
      id: `probe-${k}`,
      paths: [p.path],
      selector: p.selector,
      variants: [{ id: 'mark', ops: [{ op: 'setAttr', name: `data-probe-${k}`, value: String(p.index) }] }],
      rules: [{ variant: 'mark' }],
    }))
    const put = await fetch(`${worker.url}/__veneer/api/ruleset`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    })
    expect(put.status, await put.clone().text()).toBe(200)
    for (const path of ['/', '/products/jacket']) {
      const html = await (await fetch(`${worker.url}${path}`, { headers: { 'accept-encoding': 'identity' } })).text()
      // Parsed by the browser: element k of <body>, in document order, carries probe k and no other.
      const wrong = await page.evaluate(
        ({ html, mine }) => {
          const d = new DOMParser().parseFromString(html, 'text/html')
          const all = Array.from(d.body.querySelectorAll('*'))
          const out: string[] = []
          for (const { k, index } of mine) {
            const marked = all.filter((el) => el.hasAttribute(`data-probe-${k}`))
            if (marked.length !== 1 || all.indexOf(marked[0] as Element) !== index)
              out.push(`probe ${k}: ${marked.length} marked`)
          }
          return out
        },
        { html, mine: probes.flatMap((p, k) => (p.path === path ? [{ k, index: p.index }] : [])) },
      )
      expect(wrong, path).toEqual([])
    }
    // Back to the demo ruleset for the tests below.
    const restore = await fetch(`${worker.url}/__veneer/api/ruleset/rollback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: (await versions())[1] }),
    })
    expect(restore.status).toBe(200)
    await context.close()
  })
})

async function versions(): Promise<string[]> {
  const res = await fetch(`${worker.url}/__veneer/api/ruleset/versions`, {
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
  })
  const body = (await res.json()) as { versions: { version: string }[] }
  return body.versions.map((v) => v.version)
}

describe('the on-page QA view', () => {
  it('shows the badge only with a valid token, listing the right variants, and leaves QA mode', async () => {
    const token = await qaToken()
    // The tester's own time zone is Berlin (UTC+1 in November), the server's is UTC.
    const tester = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
      timezoneId: 'Europe/Berlin',
    })
    const page = await tester.newPage()
    const context = 'geo.country=US; device.type=mobile; time.hour=9'
    await page.goto(`${worker.url}/__veneer/qa?token=${token}&context=${encodeURIComponent(context)}&to=/`)
    const badge = page.locator('#veneer-qa-badge')
    await expect.poll(() => badge.count()).toBe(1)
    await badge.locator('summary').click()
    const variant = (id: string) => badge.locator(`tr[data-placement="${id}"] [data-variant]`).textContent()
    expect(await variant('home-hero')).toBe('us')
    expect(await variant('promo-bar')).toBe('mobile-app')
    expect(await variant('greeting')).toBe('morning')
    const text = (await badge.textContent()) ?? ''
    // home-hero's rules (0-based) after the editor's save: editor-germany, newsletter, germany, us.
    expect(text).toContain('rule 3 matched')
    expect(text).toContain('device.type=mobile')
    expect(text).toMatch(/Token expires in (1 h 59 min|2 h 0 min) \(/)
    // What the badge says is what the page shows.
    expect((await page.textContent('#hero h1'))?.trim()).toBe('Free two-day shipping anywhere in the US.')
    await page.screenshot({ path: join(artifacts, 'qa-badge-desktop.png') })

    // The QA page offers the ruleset's placements, variants and experiments as choices.
    await page.goto(`${worker.url}/__veneer/qa`)
    const heroChoice = page.locator('select[name="o.home-hero"]')
    expect(await heroChoice.locator('option').allTextContents()).toEqual([
      'as decided (no override)',
      'control',
      'germany',
      'us',
      'newsletter',
      'editor-germany',
    ])
    expect(await page.locator('select[name="o.cart-button-copy"] option').allTextContents()).toContain('add-to-bag')
    // The expiry is shown in the tester's own time zone (the script rewrote the UTC fallback).
    const shown = (await page.textContent('time[data-local]')) ?? ''
    const expires = new Date((await page.getAttribute('time[data-local]', 'datetime')) ?? '')
    expect(shown).not.toContain('UTC')
    expect(shown).toContain('GMT+1')
    const berlinHour = (expires.getUTCHours() + 1) % 24
    expect(shown).toMatch(
      new RegExp(`\\b${String(berlinHour % 12 || 12).padStart(2, '0')}:${String(expires.getUTCMinutes()).padStart(2, '0')}\\b`),
    )
    await page.selectOption('select[name="o.promo-bar"]', 'tablet')
    await page.selectOption('select[name="c.device.type"]', 'desktop')
    await page.click('button[type=submit]')
    await page.waitForURL(`${worker.url}/`)
    expect((await page.textContent('#promo'))?.trim()).toBe('Browse the full catalogue in landscape.')
    await badge.locator('summary').click()
    expect(await variant('promo-bar')).toBe('tablet')
    expect(await badge.textContent()).toContain('QA override by placement')

    // Leaving QA mode removes the badge.
    await badge.locator('[data-leave-qa]').click()
    await page.goto(`${worker.url}/`)
    expect(await page.locator('#veneer-qa-badge').count()).toBe(0)
    await tester.close()

    // No token, or a forged one: no badge, and the page is a visitor's page.
    const others = await browser.newContext()
    await others.addCookies([{ name: 'veneer_qa', value: 'eyJhbGciOiJIUzI1NiJ9.e30.Zm9yZ2Vk', url: worker.url }])
    const forged = await others.newPage()
    const res = await forged.goto(`${worker.url}/`)
    expect(await forged.locator('#veneer-qa-badge').count()).toBe(0)
    expect(res?.headers()['x-veneer-trace']).toBeUndefined()
    await others.close()
  })

  it('fits a phone screen', async () => {
    const token = await qaToken()
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    })
    const page = await phone.newPage()
    await page.goto(
      `${worker.url}/__veneer/qa?token=${token}&context=${encodeURIComponent('geo.country=DE; geo.city=Berlin')}&to=/`,
    )
    const badge = page.locator('#veneer-qa-badge')
    const closed = await badge.boundingBox()
    expect(closed?.height ?? 999).toBeLessThan(60) // one line until opened
    await badge.locator('summary').tap()
    const box = await badge.boundingBox()
    expect(box).not.toBeNull()
    expect(box?.x ?? -1).toBeGreaterThanOrEqual(0)
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390)
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(844)
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
    ).toBeLessThanOrEqual(0)
    expect(await badge.locator('tr[data-placement="home-hero"] [data-variant]').textContent()).toBe('editor-germany')
    await page.screenshot({ path: join(artifacts, 'qa-badge-phone.png') })
    // The leave button is a finger-sized target.
    const leave = await badge.locator('[data-leave-qa]').boundingBox()
    expect(leave?.height ?? 0).toBeGreaterThanOrEqual(24)
    await phone.close()
  })
})
