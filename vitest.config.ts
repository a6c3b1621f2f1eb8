import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Tests run inside workerd with the real KV, D1 and HTMLRewriter of wrangler.toml.
// Secrets are fixed test values here; `.dev.vars` is never read by tests.
// D1 migrations are read here (Node) and applied inside workerd by test/setup/d1.ts.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations')
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            VISITOR_SECRET: 'test-visitor-secret-0123456789abcdef',
            QA_SECRET: 'test-qa-secret-0123456789abcdef',
            ADMIN_TOKEN: 'test-admin-token',
            PROFILE_SECRET: 'test-profile-secret-0123456789abcdef',
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      exclude: ['test/node/**', 'node_modules/**'],
      setupFiles: ['./test/setup/d1.ts'],
      testTimeout: 20_000,
    },
  }
})
