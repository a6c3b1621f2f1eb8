import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'

// Every test file starts with the measurement schema of migrations/ in its D1 database.
// applyD1Migrations records what it applied, so running it per file is cheap and idempotent.
const { DB, TEST_MIGRATIONS } = env as unknown as { DB: D1Database; TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] }
await applyD1Migrations(DB, TEST_MIGRATIONS)
