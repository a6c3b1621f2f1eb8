import { env as workersEnv } from 'cloudflare:workers'
import { expect, it, vi } from 'vitest'
import type { Env } from '../../src/env'
import { clearTables } from './helpers'
import { runLoad } from './load'

const env = workersEnv as unknown as Env & { DB: D1Database; LOAD_VISITORS: string }

it('load: visitors through the queue consumer into local D1', async () => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined)
  await clearTables(env.DB)
  const visitors = Number(env.LOAD_VISITORS)
  const f = await runLoad(env, visitors)
  console.info(JSON.stringify(f))
  console.info(
    `load: ${f.visitors.toLocaleString('en-US')} visitors, ${f.events.toLocaleString('en-US')} events → ${f.messages} queue messages in ${f.batches} consumer batches → ${f.rowsStored} rows in D1; ${(f.ms / 1000).toFixed(1)} s; results identical to the per-visitor computation: ${f.identical}`,
  )
  expect(f.mismatches).toEqual([])
})
