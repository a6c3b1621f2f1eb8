import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './admin-harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The demo shop through the real Worker (`wrangler dev`, local KV seeded with the demo ruleset)
 * in headless Debian chromium: view products, add to cart, see the hesitant-shopper offer,
 * withdraw consent in the preference center, see the generic page again.
 */
const root = join(import.meta.dirname, '..', '..')
const wrangler = join(root, 'node_modules', '.bin', 'wrangler')
const PORT = 8801
const BASE = `http://localhost:${PORT}`
const artifacts = join(root, 'artifacts')

let persist = ''
let worker: ChildProcess | undefined
let browser: Browser | undefined
let log = ''

async function waitForHealth(timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${PORT}/__veneer/health`)
      const body = (await r.json()) as { rulesetVersion?: string }
      if (r.ok && body.rulesetVersion !== null) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`wrangler dev did not start on port ${PORT}:\n${log.slice(-2000)}`)
}

beforeAll(async () => {
  persist = mkdtempSync(join(tmpdir(), 'veneer-identity-'))
  mkdirSync(artifacts, { recursive: true })
  execFileSync(
    wrangler,
    [
      'kv',
      'key',
      'put',
      'ruleset',
      '--path',
      join(root, 'demo', 'ruleset.json'),
      '--binding',
      'RULES',
      '--local',
      '--persist-to',
      persist,
    ],
    { cwd: root, stdio: 'pipe' },
  )
  worker = spawn(
    wrangler,
    [
      'dev',
      '--port',
      String(PORT),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persist,
      '--var',
      'VISITOR_SECRET:browser-test-visitor-secret-0123456789',
      '--var',
      'PROFILE_SECRET:browser-test-profile-secret-0123456789',
    ],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' },
    },
  )
  worker.stdout?.on('data', (d: Buffer) => (log += d.toString()))
  worker.stderr?.on('data', (d: Buffer) => (log += d.toString()))
  await waitForHealth(60_000)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  if (worker?.pid !== undefined) {
    try {
      process.kill(-worker.pid, 'SIGTERM') // the process group wrangler and workerd run in
    } catch {
      // already gone
    }
  }
  if (persist !== '') rmSync(persist, { recursive: true, force: true })
})

async function offer(page: Page): Promise<{ visible: boolean; text: string }> {
  const el = page.locator('#offer')
  return { visible: await el.isVisible(), text: (await el.textContent()) ?? '' }
}

describe('the hesitant shopper in a real browser', () => {
  it('appears after browsing and a cart add, and goes away when consent is withdrawn', async () => {
    if (browser === undefined) throw new Error('no browser')
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } })
    const page = await context.newPage()
    const products = ['/products/backpack', '/products/jacket', '/products/sneakers']

    // Six product views: the rules see "views.product > 5" from the seventh page on.
    for (let i = 0; i < 6; i++) {
      const res = await page.goto(`${BASE}${products[i % 3]}`)
      expect(res?.status()).toBe(200)
      expect((await offer(page)).visible).toBe(false)
    }
    // The cart button reports cart_add through /__veneer/client.js; wait for its answer (and cookie).
    const tracked = page.waitForResponse((r) => r.url().endsWith('/__veneer/events') && r.request().method() === 'POST')
    await page.click('#add-to-cart')
    expect((await tracked).status()).toBe(200)
    await expect.poll(async () => (await page.locator('#cart-status').textContent()) ?? '').toContain('Added')

    await page.goto(`${BASE}/products/jacket`)
    const shown = await offer(page)
    expect(shown.visible).toBe(true)
    expect(shown.text).toContain('Still deciding? Shipping is on us today')
    expect(['Add to cart', 'Add to bag']).toContain(await page.locator('#add-to-cart').textContent())
    await page.screenshot({ path: join(artifacts, 'identity-hesitant-shopper.png'), fullPage: true })
    const cookies = await context.cookies(BASE)
    const visitor = cookies.find((c) => c.name === 'veneer_visitor')
    expect(visitor?.httpOnly).toBe(true)
    expect(visitor?.sameSite).toBe('Lax')

    // The preference center shows the segment, then the visitor refuses both purposes (no JS needed).
    await page.goto(`${BASE}/__veneer/preferences`)
    expect(await page.locator('#segments').textContent()).toContain('hesitant')
    await page.screenshot({ path: join(artifacts, 'identity-preferences.png'), fullPage: true })
    await Promise.all([page.waitForURL(/done=saved/), page.click('button[value="refuse-all"]')])
    expect(await page.locator('[role=status]').textContent()).toContain('saved')
    expect(await page.locator('#consent').textContent()).toContain('Personalization: off')

    const after = await context.cookies(BASE)
    expect(after.find((c) => c.name === 'veneer_visitor')).toBeUndefined()
    expect(after.find((c) => c.name === 'veneer_consent')?.value).toBe('none')

    const res = await page.goto(`${BASE}/products/jacket`)
    expect(res?.headers()['x-veneer']).toBe('generic')
    expect((await offer(page)).visible).toBe(false)
    expect(await page.locator('#add-to-cart').textContent()).toBe('Add to cart')
    expect((await context.cookies(BASE)).find((c) => c.name === 'veneer_visitor')).toBeUndefined()
    await page.screenshot({ path: join(artifacts, 'identity-after-withdrawal.png'), fullPage: true })
    await context.close()
  })
})
