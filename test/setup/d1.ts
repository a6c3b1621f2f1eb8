import { applyD1Migrations } from 'cloudflare:test'
import { setFlushPolicy } from '../../src/measure/aggregate'
import { env } from 'cloudflare:workers'

// Every test file starts with the measurement schema of migrations/ in its D1 database.
// applyD1Migrations records what it applied, so running it per file is cheap and idempotent.
const { DB, TEST_MIGRATIONS } = env as unknown as { DB: D1Database; TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] }
await applyD1Migrations(DB, TEST_MIGRATIONS)

// Measurement is aggregated per isolate and flushed ≤ 10 s later (src/measure/aggregate.ts). In
// tests the flush runs at once, so a test that waits on its ExecutionContext sees the rows, and
// no test holds a 10 s timer; test/measure/aggregate.test.ts checks the real policy.
setFlushPolicy({ maxAgeMs: 0 })
