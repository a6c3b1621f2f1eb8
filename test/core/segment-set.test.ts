import { describe, expect, it } from 'vitest'
import { addSegment, hasSegment, newSegmentList } from '../../src/decide/segment-set'

describe('matched-segment membership', () => {
  it('answers from the Set while the list is built with addSegment', () => {
    const list = newSegmentList()
    addSegment(list, 'a')
    addSegment(list, 'b')
    expect(list).toEqual(['a', 'b'])
    expect(hasSegment(list, 'a')).toBe(true)
    expect(hasSegment(list, 'c')).toBe(false)
  })

  it('falls back to the array when it was changed behind the Set, or is any array', () => {
    const list = newSegmentList()
    addSegment(list, 'a')
    list.push('late') // e.g. a QA context that lists segments itself
    expect(hasSegment(list, 'late')).toBe(true)
    expect(hasSegment(['x', 'y'], 'y')).toBe(true)
    expect(hasSegment([], 'y')).toBe(false)
  })
})
