import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, publishDemoRuleset, root, SECRETS, startWorker, type LocalWorker } from './admin-harness'

const artifacts = join(root, 'artifacts')
let worker: LocalWorker
let browser: Browser
const PROMO = 'Dashboard-published promo: free returns for 60 days.'

async function login(page: Page): Promise<void> {
  await page.goto(`${worker.url}/__veneer/admin`)
  await page.fill('#token', SECRETS.ADMIN_TOKEN)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=active-version]')
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  worker = await startWorker(9333, 9334)
  expect(await publishDemoRuleset(worker)).toBe(200)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await worker?.close()
})

describe('the admin dashboard in a browser', () => {
  it('logs in, publishes a change, previews a German mobile visitor, and the demo page shows the change', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await page.goto(`${worker.url}/__veneer/admin`)
    expect(await page.locator('#token').count()).toBe(1)
    await page.fill('#token', 'not-the-token')
    await page.click('button[type=submit]')
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('That is not the admin token.')

    await login(page)
    const v1 = (await page.textContent('[data-testid=active-version]'))?.trim()
    expect(v1).toMatch(/^v1-/)
    const cookies = await context.cookies()
    expect(cookies.find((c) => c.name === 'veneer_admin')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/__veneer/admin',
    })

    // An invalid edit is refused with its path, and nothing changes.
    const doc = JSON.parse(await page.inputValue('#ruleset'))
    const broken = structuredClone(doc)
    broken.placements[1].selector = '#promo ~ header'
    await page.fill('#ruleset', JSON.stringify(broken, null, 2))
    await page.click('button[value=publish]')
    await expect.poll(() => page.locator('#publish [role=alert]').textContent()).toContain('placements.1.selector')
    expect((await page.textContent('[data-testid=active-version]'))?.trim()).toBe(v1)

    // The change: a promo everyone without a device-specific variant sees.
    doc.placements[1].variants.push({ id: 'everyone', ops: [{ op: 'setText', value: PROMO }] })
    doc.placements[1].rules.push({ variant: 'everyone' })
    await page.fill('#ruleset', JSON.stringify(doc, null, 2))
    await page.fill('#note', 'promo for everyone')
    await page.click('button[value=publish]')
    await page.waitForURL(/done=published/)
    const v2 = (await page.textContent('[data-testid=active-version]'))?.trim()
    expect(v2).toMatch(/^v2-/)
    expect(await page.textContent('main')).toContain(`Published ${v2}`)

    // Preview as a German mobile visitor at 21:00.
    await page.fill('#pv-country', 'DE')
    await page.fill('#pv-city', 'Berlin')
    await page.selectOption('#pv-device', 'mobile')
    await page.fill('#pv-hour', '21')
    await page.click('#preview button[type=submit]')
    await page.waitForSelector('[data-testid=trace]')
    const variantOf = (id: string) => page.textContent(`tr[data-placement="${id}"] b`)
    expect(await variantOf('home-hero')).toBe('germany')
    expect(await variantOf('promo-bar')).toBe('mobile-app')
    expect(await variantOf('greeting')).toBe('late-mobile')
    expect(await page.textContent('[data-testid=trace]')).toContain('Willkommen in Berlin!')
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(artifacts, 'dashboard-desktop.png'), fullPage: false })
    await page.screenshot({ path: join(artifacts, 'dashboard-desktop-full.png'), fullPage: true })

    // The demo page through the Worker: this desktop browser gets the new promo at once.
    const shop = await context.newPage()
    const response = await shop.goto(`${worker.url}/`)
    expect(response?.headers()['x-veneer']).toBe('personalized')
    expect((await shop.textContent('#promo'))?.trim()).toBe(PROMO)
    await shop.screenshot({ path: join(artifacts, 'demo-after-publish.png') })

    // Roll back from the history: the page is back to the generic promo.
    await page.goto(`${worker.url}/__veneer/admin`)
    await page.click(`tr[data-version="${v1}"] button`)
    await page.waitForURL(/done=rolledback/)
    expect((await page.textContent('[data-testid=active-version]'))?.trim()).toBe(v1)
    await shop.reload()
    expect((await shop.textContent('#promo'))?.trim()).toBe('Free returns on every order.')
    await context.close()
  })

  it('stays usable at phone width: no horizontal scrolling, full-width forms', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    })
    const page = await context.newPage()
    await login(page)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    const box = await page.locator('#pv-country').boundingBox()
    expect(box?.width ?? 0).toBeGreaterThan(100)
    const button = await page.locator('#preview button[type=submit]').boundingBox()
    expect(button?.height ?? 0).toBeGreaterThanOrEqual(36) // a finger-sized target
    await page.fill('#pv-country', 'DE')
    await page.selectOption('#pv-device', 'mobile')
    await page.click('#preview button[type=submit]')
    await page.waitForSelector('[data-testid=trace]')
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
    ).toBeLessThanOrEqual(0)
    await page.screenshot({ path: join(artifacts, 'dashboard-phone-trace.png'), fullPage: false })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: false })
    await context.close()
  })
})
