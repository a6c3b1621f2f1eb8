import { SELF } from 'cloudflare:test'
import { expect, it } from 'vitest'
it('runs in workerd', async () => {
  const res = await SELF.fetch('http://x/abc')
  expect(await res.text()).toBe('<h1>hi</h1>y/abc')
})
