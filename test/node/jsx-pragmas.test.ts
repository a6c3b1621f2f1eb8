import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { root } from './admin-harness'

// The package ships TypeScript sources: an embedder's tsconfig has no `jsxImportSource` of ours,
// so every .tsx names its own runtime (examples/hono-embed type-checks against the package).
function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsxFiles(join(dir, e.name)) : e.name.endsWith('.tsx') ? [join(dir, e.name)] : [],
  )
}

describe('the shipped .tsx sources', () => {
  it('each name the hono/jsx runtime in a pragma', () => {
    const missing = tsxFiles(join(root, 'src'))
      .filter((f) => !/@jsxImportSource hono\/jsx/.test(readFileSync(f, 'utf8').slice(0, 400)))
      .map((f) => relative(root, f))
    expect(missing).toEqual([])
  })
})
