import { describe, expect, it, vi } from 'vitest'
import { clearTables, env } from './helpers'
import { runLoad } from './load'

describe('load through the queue consumer (small version of scripts/measure-load.mjs)', () => {
  it('20,000 visitors: storage grows with days × arms × goals × segments, and results equal the per-visitor truth', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined)
    await clearTables(env.DB)
    const f = await runLoad(env, 20_000)
    console.info(
      `load: ${f.visitors} visitors, ${f.events} events → ${f.messages} queue messages in ${f.batches} batches → ${f.rowsStored} rows in D1, ${f.ms} ms; identical: ${f.identical}`,
    )
    expect(f.mismatches).toEqual([])
    // 14 days × 3 arms × (exposure + 2 goals) × 4 segment rows at most.
    expect(f.rowsStored).toBeLessThanOrEqual(14 * 3 * 3 * 4 + 3 * 3 * 4)
    expect(f.messages).toBeLessThan(f.events / 10)
  }, 300_000)
})
