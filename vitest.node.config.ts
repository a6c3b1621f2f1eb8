import { defineConfig } from 'vitest/config'

// Tests that run in Node, outside workerd: the CLI against a local Worker (miniflare), the
// generated JSON Schema, and browser tests (playwright-core + Debian chromium).
export default defineConfig({
  test: {
    include: ['test/node/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
})
