import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeInput } from '../../src/admin/explain'
import { nextVersion, parseIndex } from '../../src/admin/versions'
import { formatDiff, lineDiff } from '../../src/cli/diff'

describe('versions', () => {
  it('assigns increasing ids that sort by publish order', () => {
    const at = new Date('2026-11-22T08:45:12Z')
    expect(nextVersion([], at)).toBe('v1-20261122T084512Z')
    expect(
      nextVersion(
        [
          { version: 'v9-x', publishedAt: '', size: 1 },
          { version: 'demo-1', publishedAt: '', size: 1 },
        ],
        at,
      ),
    ).toBe('v10-20261122T084512Z')
  })

  it('drops malformed index entries instead of trusting them', () => {
    expect(parseIndex('not json')).toEqual([])
    expect(parseIndex('{"version":"v1"}')).toEqual([])
    expect(parseIndex('[{"version":"v1-a","publishedAt":"t","size":3},{"version":5},null]')).toEqual([
      { version: 'v1-a', publishedAt: 't', size: 3 },
    ])
  })
})

describe('explain input', () => {
  it('accepts nested and dotted attributes and ignores prototype keys', () => {
    expect(normalizeInput({ 'geo.country': 'DE', geo: { city: 'Berlin' }, 'device.type': 'mobile' })).toEqual({
      geo: { country: 'DE', city: 'Berlin' },
      device: { type: 'mobile' },
    })
    const out = normalizeInput(JSON.parse('{"__proto__":{"polluted":1},"geo.__proto__.x":1}'))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(out)).toEqual(['geo'])
  })
})

describe('CLI line diff', () => {
  it('keeps every line of both sides, in order (property)', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', '{', '}', '"x": 1'), { maxLength: 40 })
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const d = lineDiff(a, b)
        expect(d.filter((l) => l.kind !== '+').map((l) => l.text)).toEqual(a)
        expect(d.filter((l) => l.kind !== '-').map((l) => l.text)).toEqual(b)
        if (JSON.stringify(a) === JSON.stringify(b)) expect(d.every((l) => l.kind === ' ')).toBe(true)
      }),
    )
  })

  it('formats hunks with context and nothing for equal inputs', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9']
    const b = ['1', '2', '3', '4', 'five', '6', '7', '8', '9']
    expect(formatDiff(lineDiff(a, b), 1)).toBe('@@ -4 +4 @@\n 4\n-5\n+five\n 6')
    expect(formatDiff(lineDiff(a, a))).toBe('')
  })
})
