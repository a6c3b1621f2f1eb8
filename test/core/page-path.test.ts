import { describe, expect, it } from 'vitest'
import { isPageRequest } from '../../src/pipeline/page'
import { PAGE, ruleset, rulesKv, run } from '../helpers'

describe('the page path skips the router', () => {
  it('takes page GETs only: not Veneer endpoints, not other methods, not Range requests', () => {
    const get = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers })
    expect(isPageRequest(get('https://shop.example/'))).toBe(true)
    expect(isPageRequest(get('https://shop.example/products/jacket?utm_source=x'))).toBe(true)
    expect(isPageRequest(get('https://shop.example/__veneerish'))).toBe(false) // the router decides
    expect(isPageRequest(get('https://shop.example/__veneer/health'))).toBe(false)
    expect(isPageRequest(get('https://shop.example/%5F_veneer/health'))).toBe(false) // encoded: the router
    expect(isPageRequest(get('https://shop.example/', { range: 'bytes=0-10' }))).toBe(false)
    expect(isPageRequest(new Request('https://shop.example/', { method: 'POST', body: 'x' }))).toBe(false)
    expect(isPageRequest(new Request('https://shop.example/', { method: 'HEAD' }))).toBe(false)
  })

  it('answers pages and endpoints as the routed app did', async () => {
    const kv = await rulesKv(ruleset())
    const page = await run('https://shop.example/', { kv })
    expect(page.res.headers.get('x-veneer')).toBe('personalized')
    expect(page.text).toContain('Hello New York')
    const health = await run('https://shop.example/__veneer/health', { kv })
    expect(health.res.status).toBe(200)
    expect(health.res.headers.get('content-type')).toMatch(/json/)
    const missing = await run('https://shop.example/__veneer/nope', { kv })
    expect(missing.res.status).toBe(404)
    const head = await run('https://shop.example/', { kv, init: { method: 'HEAD' } })
    expect(head.res.status).toBe(200)
    expect(head.text).toBe('')
    const ranged = await run('https://shop.example/', { kv, init: { headers: { range: 'bytes=0-10' } } })
    expect(ranged.text).toBe(PAGE) // the helper origin ignores Range; Veneer leaves it alone
    expect(ranged.res.headers.get('x-veneer')).toBeNull()
  })
})
