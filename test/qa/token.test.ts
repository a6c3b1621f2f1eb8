import { describe, expect, it } from 'vitest'
import { mintQaToken, parseTtl, readQaToken, verifyQaToken } from '../../src/qa/token'
import { QA_SECRET, invalidTokens } from './tokens'

describe('QA tokens', () => {
  it('accepts a minted token and tells its expiry', async () => {
    const token = await mintQaToken(QA_SECRET, parseTtl('8h') as number)
    expect(await verifyQaToken(QA_SECRET, token)).toBe(true)
    const info = await readQaToken(QA_SECRET, token)
    expect((info?.exp ?? 0) - Math.floor(Date.now() / 1000)).toBeGreaterThan(8 * 3600 - 5)
  })

  it('refuses forged, expired, wrong-scope, unsigned and over-long tokens without throwing', async () => {
    for (const [why, token] of Object.entries(await invalidTokens())) {
      expect(await verifyQaToken(QA_SECRET, token), why).toBe(false)
      expect(await readQaToken(QA_SECRET, token), why).toBeUndefined()
    }
  })

  it('refuses everything without a secret', async () => {
    const token = await mintQaToken(QA_SECRET, 60)
    expect(await verifyQaToken(undefined, token)).toBe(false)
    expect(await verifyQaToken('', token)).toBe(false)
  })
})
