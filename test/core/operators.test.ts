import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api, auth } from '../admin/helpers'
import type { Env } from '../../src/env'
import { compileRuleset } from '../../src/rules/compile'
import { compileCondition, compare, regexProblem } from '../../src/rules/conditions'
import type { RulesetIssue } from '../../src/rules/errors'
import { listKey, parseListText } from '../../src/rules/lists'
import type { ConditionDoc } from '../../src/rules/schema'
import { forgetRuleset, getRuleset } from '../../src/rules/store'
import cases from '../fixtures/regex-portability.json'
import { rulesKv, ruleset } from '../helpers'

const ctx = {
  request: {
    query: { page: '10', neg: '-2.5', word: 'ten', exp: '1e3', empty: '' },
    utm: { source: 'NewsLetter' },
    referrerHost: 'WWW.Google.DE',
  },
  behavior: { pageViews: 7 },
  profile: { tier: 'Gold', interests: ['Running', 'hiking'], account: 'acct-42', accountNo: 42 },
}

function issuesOf(cond: ConditionDoc, lists?: Map<string, ReadonlySet<string>>): { issues: RulesetIssue[]; result: boolean } {
  const issues: RulesetIssue[] = []
  const p = compileCondition(cond, 'when', issues, { lists })
  return { issues, result: p(ctx) }
}

function matches(cond: ConditionDoc, lists?: Map<string, ReadonlySet<string>>): boolean {
  const { issues, result } = issuesOf(cond, lists)
  expect(issues).toEqual([])
  return result
}

describe('empty $or / $and are refused (they would never / always match, silently)', () => {
  it.each(['$or', '$and'])('%s: [] is an error with its path, in the schema and in the compiler', (op) => {
    const doc = ruleset({ segments: [{ id: 's', when: { [op]: [] } }] })
    const r = compileRuleset(doc)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual([`segments.0.when.${op}`])
    expect(issuesOf({ [op]: [] }).issues).toEqual([
      { path: `when.${op}`, message: `${op} takes a non-empty array of conditions` },
    ])
  })

  it('a nested empty $or is found too', () => {
    const r = compileRuleset(ruleset({ segments: [{ id: 's', when: { $and: [{ 'geo.country': 'DE' }, { $or: [] }] } }] }))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues[0]?.path).toBe('segments.0.when.$and.1.$or')
  })
})

describe('case-insensitive operators', () => {
  it('$ieq compares strings ignoring case, and finds a string in an array attribute', () => {
    expect(matches({ 'request.utm.source': { $ieq: 'newsletter' } })).toBe(true)
    expect(matches({ 'request.utm.source': { $ieq: 'NEWSLETTER' } })).toBe(true)
    expect(matches({ 'request.utm.source': { $ieq: 'news' } })).toBe(false)
    expect(matches({ 'profile.interests': { $ieq: 'RUNNING' } })).toBe(true)
    expect(matches({ 'profile.missing': { $ieq: 'x' } })).toBe(false)
    expect(matches({ 'behavior.pageViews': { $ieq: '7' } })).toBe(false) // numbers are not strings
  })

  it('$iin is $in ignoring case', () => {
    expect(matches({ 'profile.tier': { $iin: ['gold', 'platinum'] } })).toBe(true)
    expect(matches({ 'profile.tier': { $iin: ['silver'] } })).toBe(false)
    expect(matches({ 'profile.interests': { $iin: ['HIKING'] } })).toBe(true)
    expect(matches({ 'profile.missing': { $iin: ['gold'] } })).toBe(false)
  })

  it('$regex with "$options": "i"', () => {
    expect(matches({ 'request.referrerHost': { $regex: 'google\\.' } })).toBe(false)
    expect(matches({ 'request.referrerHost': { $regex: 'google\\.', $options: 'i' } })).toBe(true)
  })

  it('$options alone, or a flag other than "i", is an error', () => {
    expect(issuesOf({ 'request.referrerHost': { $options: 'i' } }).issues[0]?.message).toMatch(/\$options applies to \$regex/)
    const r = compileRuleset(ruleset({ segments: [{ id: 's', when: { 'request.path': { $regex: 'a', $options: 'g' } } }] }))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues[0]?.path).toBe('segments.0.when.request.path')
  })
})

describe('numeric comparison of numeric strings (query parameters, headers)', () => {
  it('a number operand reads a decimal string attribute as a number', () => {
    expect(matches({ 'request.query.page': { $gt: 2 } })).toBe(true) // "10" > 2
    expect(matches({ 'request.query.page': { $lte: 10, $gte: 10 } })).toBe(true)
    expect(matches({ 'request.query.neg': { $lt: 0 } })).toBe(true)
    expect(matches({ 'request.query.neg': { $gt: -3 } })).toBe(true)
  })

  it('anything that is not a plain decimal never matches a number', () => {
    for (const q of ['word', 'exp', 'empty']) {
      expect(matches({ [`request.query.${q}`]: { $gt: -1e9 } }), q).toBe(false)
      expect(matches({ [`request.query.${q}`]: { $lt: 1e9 } }), q).toBe(false)
    }
    expect(compare(' 5', 1, '$gt')).toBe(false)
    expect(compare('5'.repeat(30), 1, '$gt')).toBe(false) // longer than 20 digits: not read
  })

  it('a string operand still compares strings (ISO dates, versions)', () => {
    expect(matches({ 'request.query.page': { $gt: '9' } })).toBe(false) // "10" < "9" as strings
    expect(compare('2026-11-22', '2026-01-01', '$gt')).toBe(true)
  })
})

describe('$regex is judged the same in every engine', () => {
  it.each(cases.cases as [string, string | null][])('%s → %s', (pattern, verdict) => {
    const problem = regexProblem(pattern)
    if (verdict === null) expect(problem).toBeUndefined()
    else expect(problem).toContain(verdict)
  })

  it('workerd itself accepts (?i:…), which is why it is refused before compiling', () => {
    // biome-ignore lint/complexity/useRegexLiterals: a literal would be parsed (and refused) by TypeScript, not by workerd
    expect(() => new RegExp('(?i:a)')).not.toThrow()
  })
})

describe('$inList: saved id lists', () => {
  it('matches an id in the list, by a Set lookup; a list not loaded matches nothing', () => {
    const lists = new Map([['beta', new Set(['acct-42', 'acct-7', '42'])]])
    expect(matches({ 'profile.account': { $inList: 'beta' } }, lists)).toBe(true)
    expect(matches({ 'profile.accountNo': { $inList: 'beta' } }, lists)).toBe(true) // numbers as strings
    expect(matches({ 'profile.tier': { $inList: 'beta' } }, lists)).toBe(false)
    expect(matches({ 'profile.account': { $inList: 'beta' } }, new Map())).toBe(false)
    expect(matches({ 'profile.missing': { $inList: 'beta' } }, lists)).toBe(false)
  })

  it('list files: a JSON array or one id per line; bounded and checked', () => {
    expect(parseListText('["a", "b", 3, "a"]')).toEqual({ ok: true, items: ['a', 'b', '3'] })
    expect(parseListText('# beta testers\nacct-1\n\n acct-2 \n')).toEqual({ ok: true, items: ['acct-1', 'acct-2'] })
    expect(parseListText('[{"id": 1}]')).toMatchObject({ ok: false, message: expect.stringContaining('item 0') })
    expect(parseListText(`["${'x'.repeat(201)}"]`).ok).toBe(false)
    expect(parseListText(JSON.stringify(Array.from({ length: 100_001 }, (_, i) => `u${i}`))).ok).toBe(false)
  })

  it('names are checked by the schema', () => {
    const r = compileRuleset(ruleset({ segments: [{ id: 's', when: { 'profile.account': { $inList: 'bad name!' } } }] }))
    expect(r.ok).toBe(false)
  })

  it('published with the admin API, loaded with the ruleset, and picked up when it changes', async () => {
    const kv = (env as unknown as Env).RULES as KVNamespace
    const doc = ruleset({
      version: 'lists-1',
      segments: [{ id: 'us', when: { 'profile.account': { $inList: 'beta-testers' } } }],
    })
    await kv.put('ruleset', JSON.stringify(doc))
    const put = await api('PUT', '/lists/beta-testers', '["acct-1", "acct-42"]')
    expect(put.status).toBe(200)
    expect(await put.json()).toEqual({ ok: true, name: 'beta-testers', size: 2 })
    expect(await kv.get(listKey('beta-testers'))).toBe('["acct-1","acct-42"]')
    const got = await api('GET', '/lists/beta-testers')
    expect(await got.json()).toMatchObject({ size: 2, items: ['acct-1', 'acct-42'] })

    forgetRuleset(kv)
    const first = await getRuleset(kv, { budgetMs: 5_000, waitUntil: () => undefined })
    const segment = first.ruleset?.segments.find((s) => s.id === 'us')
    expect(first.ruleset?.listNames).toEqual(['beta-testers'])
    expect(segment?.matches({ profile: { account: 'acct-42' } })).toBe(true)
    expect(segment?.matches({ profile: { account: 'acct-9' } })).toBe(false)

    // A new list text, the ruleset unchanged: publishing drops this isolate's copy, so the next lookup reads it.
    await api('PUT', '/lists/beta-testers', 'acct-9\n', { ...auth(), 'content-type': 'text/plain' })
    const second = await getRuleset(kv, { budgetMs: 5_000, waitUntil: () => undefined })
    expect(second.ruleset?.segments.find((s) => s.id === 'us')?.matches({ profile: { account: 'acct-9' } })).toBe(true)
  })

  it('a list changed in KV is read again on the next refresh, the ruleset text unchanged', async () => {
    const kv = await rulesKv(
      ruleset({ version: 'lists-2', segments: [{ id: 'us', when: { 'profile.account': { $inList: 'refresh-test' } } }] }),
    )
    const real = (env as unknown as Env).RULES as KVNamespace
    await real.put(listKey('refresh-test'), '["a"]')
    const pending: Promise<unknown>[] = []
    const waitUntil = (p: Promise<unknown>) => void pending.push(p)
    const t0 = Date.now()
    const cold = await getRuleset(kv, { budgetMs: 5_000, waitUntil, now: t0 })
    const us = () => cold.ruleset?.segments.find((s) => s.id === 'us')
    expect(us()?.matches({ profile: { account: 'a' } })).toBe(true)
    await real.put(listKey('refresh-test'), '["b"]')
    // Stale after settings.refreshSeconds (10): this lookup answers from memory and refreshes.
    const warm = await getRuleset(kv, { budgetMs: 5_000, waitUntil, now: t0 + 11_000 })
    expect(warm.source).toBe('memory')
    await Promise.all(pending)
    expect(warm.ruleset).toBe(cold.ruleset) // not recompiled: the same compiled ruleset, new list contents
    expect(us()?.matches({ profile: { account: 'b' } })).toBe(true)
    expect(us()?.matches({ profile: { account: 'a' } })).toBe(false)
  })

  it('the admin API refuses a bad name (400) and a bad list (422)', async () => {
    expect((await api('PUT', '/lists/bad%20name', '[]')).status).toBe(400)
    const bad = await api('PUT', '/lists/ok', '[true]')
    expect(bad.status).toBe(422)
    expect(await bad.json()).toMatchObject({ error: 'invalid_list' })
    expect((await api('GET', '/lists/absent')).status).toBe(404)
  })
})
