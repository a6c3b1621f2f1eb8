import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// The full load simulation (scripts/measure-load.mjs): the suite's workerd setup and local D1
// (Miniflare), one test file, the visitor count from LOAD_VISITORS.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations')
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            VISITOR_SECRET: 'load-visitor-secret-0123456789abcdef',
            TEST_MIGRATIONS: migrations,
            LOAD_VISITORS: process.env.LOAD_VISITORS ?? '1000000',
          },
        },
      }),
    ],
    test: {
      include: ['test/measure/load-full.ts'],
      setupFiles: ['./test/setup/d1.ts'],
      testTimeout: 3_600_000,
    },
  }
})
