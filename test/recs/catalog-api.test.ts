import { describe, expect, it } from 'vitest'
import { CATALOG_KEY, catalogVersionKey } from '../../src/recs/catalog'
import { api, auth, testEnv } from '../admin/helpers'

const CATALOG = {
  items: [
    { id: 'sneakers', title: 'Trail Sneakers', url: '/products/sneakers', category: 'shoes', price: 89 },
    { id: 'jacket', title: 'Rain Jacket', url: 'https://shop.example/products/jacket', image: '/img/jacket.png' },
  ],
}

describe('PUT/GET api/catalog', () => {
  it('needs the admin token', async () => {
    expect((await api('PUT', '/catalog', CATALOG, {})).status).toBe(401)
    expect((await api('GET', '/catalog', undefined, auth('wrong'))).status).toBe(401)
  })

  it('publishes a valid catalog with a new version each time, kept in history', async () => {
    const first = await api('PUT', '/catalog', CATALOG)
    expect(first.status).toBe(200)
    const a = (await first.json()) as { version: string; items: number }
    expect(a).toMatchObject({ ok: true, items: 2 })
    expect(a.version).toMatch(/^c\d+-\d{8}T\d{6}Z$/)
    const second = (await (await api('PUT', '/catalog', { ...CATALOG, version: 'spring' })).json()) as Record<string, unknown>
    expect(second).toMatchObject({ version: 'spring', previous: a.version })
    const got = await api('GET', '/catalog')
    expect(((await got.json()) as { version: string }).version).toBe('spring')
    expect(await testEnv.RULES?.get(catalogVersionKey(a.version))).not.toBeNull()
  })

  it('refuses an invalid catalog with every problem and its path, keeping the active one', async () => {
    await api('PUT', '/catalog', { ...CATALOG, version: 'good' })
    const bad = {
      items: [
        { id: 'x', title: 'X', url: 'javascript:alert(1)' },
        { id: 'x', title: 'dup', url: '/x' },
        { id: 'bad id!', title: 'Y', url: '/y', image: 'data:image/png;base64,AA' },
      ],
    }
    const res = await api('PUT', '/catalog', bad)
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: string; details: { path: string }[] }
    expect(body.error).toBe('invalid_catalog')
    expect(body.details.map((d) => d.path).sort()).toEqual(['items.0.url', 'items.1.id', 'items.2.id', 'items.2.image'])
    expect(JSON.parse((await testEnv.RULES?.get(CATALOG_KEY)) ?? '{}').version).toBe('good')
    expect((await api('PUT', '/catalog', '{not json')).status).toBe(400)
  })
})
