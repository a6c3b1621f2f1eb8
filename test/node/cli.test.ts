import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTs } from '../../scripts/load-ts.mjs'
import { root, SECRETS, startWorker, type LocalWorker } from './admin-harness'

const bin = join(root, 'bin', 'veneer.mjs')
let worker: LocalWorker
let dir: string

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real binary, in a temp folder, with only the environment given. */
function veneer(args: string[], env: Record<string, string> = {}, cwd = dir): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
      },
    )
  })
}

const remote = () => ({ VENEER_ADMIN_TOKEN: SECRETS.ADMIN_TOKEN, VENEER_URL: worker.url })
const demoText = readFileSync(join(root, 'demo', 'ruleset.json'), 'utf8')
function file(name: string, content: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return p
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veneer-cli-'))
  worker = await startWorker(9331, 9332)
})
afterAll(async () => {
  await worker?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('veneer validate', () => {
  it('exits 0 for the demo ruleset and summarizes it', async () => {
    const r = await veneer(['validate', file('demo.json', demoText)])
    expect(r.code).toBe(0)
    const placements = JSON.parse(demoText).placements.length
    expect(r.stdout).toMatch(new RegExp(`is valid: 11 segments, ${placements} placements, 2 goals`))
  })

  it('exits 1 and prints every error with its JSON path', async () => {
    const doc = JSON.parse(demoText)
    doc.placements[0].selector = 'h1 ~ p'
    doc.settings.holdoutPercent = 300
    const r = await veneer(['validate', file('bad.json', doc)])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('placements.0.selector: sibling combinators')
    expect(r.stderr).toMatch(/settings\.holdoutPercent: /)
    expect(r.stderr).toMatch(/2 problems/)
  })

  it('exits 1 for JSON that does not parse, 2 for a missing file, 1 for usage errors', async () => {
    expect((await veneer(['validate', file('broken.json', '{"segments": [')])).code).toBe(1)
    const missing = await veneer(['validate', join(dir, 'nope.json')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT/)
    expect((await veneer(['validate'])).code).toBe(1)
    expect((await veneer(['validate', '--frobnicate', 'x.json'])).code).toBe(1)
    expect((await veneer(['frobnicate'])).code).toBe(1)
  })

  it('prints warnings, and JSON with --json', async () => {
    const doc = JSON.parse(demoText)
    doc.placements[1].rules.unshift({ variant: 'tablet' })
    const r = await veneer(['validate', '--json', file('warn.json', doc)])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.ok).toBe(true)
    expect(out.warnings.map((w: { path: string }) => w.path)).toEqual(['placements.1.rules.1', 'placements.1.rules.2'])
  })
})

describe('--help', () => {
  it.each(['validate', 'push', 'pull', 'diff', 'rollback', 'versions', 'qa-token', 'explain', 'profile-token'])(
    'veneer %s --help exits 0 with its usage',
    async (cmd) => {
      const r = await veneer([cmd, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`Usage: veneer ${cmd}`)
    },
  )

  it('veneer --help lists every command', async () => {
    const r = await veneer(['--help'])
    expect(r.code).toBe(0)
    for (const cmd of ['validate', 'push', 'pull', 'diff', 'rollback', 'qa-token', 'explain', 'profile-token'])
      expect(r.stdout).toContain(cmd)
  })
})

describe('against a running Worker (--remote)', () => {
  let v1: string
  let v2: string

  it('push then pull: the published document comes back with its version', async () => {
    const push = await veneer(['push', file('demo.json', demoText), '--remote', '--note', 'from the CLI test'], remote())
    expect(push.code, push.stderr).toBe(0)
    v1 = /published (v1-\S+)/.exec(push.stdout)?.[1] ?? ''
    expect(v1).toMatch(/^v1-\d{8}T\d{6}Z$/)
    const pull = await veneer(['pull', '--remote'], remote())
    expect(pull.code).toBe(0)
    const doc = JSON.parse(pull.stdout)
    expect(doc.version).toBe(v1)
    expect(doc.placements).toEqual(JSON.parse(demoText).placements)
    const out = join(dir, 'pulled.json')
    expect((await veneer(['pull', '--remote', '--out', out], remote())).code).toBe(0)
    expect(JSON.parse(readFileSync(out, 'utf8')).version).toBe(v1)
  })

  it('diff shows what a file would change, and nothing for the same document', async () => {
    const same = await veneer(['diff', file('demo.json', demoText), '--remote'], remote())
    expect(same.code).toBe(0)
    expect(same.stdout).toMatch(/no differences/)
    const doc = JSON.parse(demoText)
    doc.placements[1].variants[1].ops[0].value = 'Tablets welcome.'
    const changed = await veneer(['diff', file('changed.json', doc), '--remote', '--exit-code'], remote())
    expect(changed.code).toBe(1)
    expect(changed.stdout).toContain(`--- active ${v1}`)
    expect(changed.stdout).toMatch(/^-.*"value": "Browse the full catalogue in landscape\."/m)
    expect(changed.stdout).toMatch(/^\+.*"value": "Tablets welcome\."/m)
    expect(changed.stdout.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+)/.test(l))).toHaveLength(2)
  })

  it("push of an invalid file exits 1 with the server's paths, and keeps the active version", async () => {
    const doc = JSON.parse(demoText)
    doc.placements[0].rules[0].variant = 'nope'
    const r = await veneer(['push', file('bad-ref.json', doc), '--remote'], remote())
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('placements.0.rules.0.variant: unknown variant "nope"')
    expect(JSON.parse((await veneer(['pull', '--remote'], remote())).stdout).version).toBe(v1)
  })

  it('a second push, versions, then rollback to the first', async () => {
    const doc = JSON.parse(demoText)
    doc.placements[1].rules.push({ variant: 'tablet' })
    const push = await veneer(['push', file('v2.json', doc), '--remote'], remote())
    expect(push.code).toBe(0)
    v2 = /published (v2-\S+)/.exec(push.stdout)?.[1] ?? ''
    expect(push.stdout).toContain(`(was ${v1})`)
    const page = await (await fetch(`${worker.url}/`)).text()
    expect(page).toContain('Browse the full catalogue in landscape.') // everyone sees the tablet promo now
    const list = await veneer(['versions', '--remote'], remote())
    expect(list.stdout).toContain(`active: ${v2}`)
    expect(list.stdout).toMatch(new RegExp(`\\* ${v2}`))
    expect(list.stdout).toContain('from the CLI test')
    const rb = await veneer(['rollback', v1, '--remote'], remote())
    expect(rb.code).toBe(0)
    expect(rb.stdout).toContain(`rolled back to ${v1} (was ${v2})`)
    expect(JSON.parse((await veneer(['pull', '--remote'], remote())).stdout).version).toBe(v1)
    const unknown = await veneer(['rollback', 'v99-nope', '--remote'], remote())
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/404/)
  })

  it('explain --remote and explain --local agree', async () => {
    const ctx = file('ctx.json', {
      geo: { country: 'DE', city: 'Berlin', timezone: 'Europe/Berlin' },
      device: { type: 'mobile' },
      time: { hour: 20 },
      path: '/',
    })
    const r = await veneer(['explain', ctx, '--remote', '--json'], remote())
    expect(r.code, r.stderr).toBe(0)
    const remoteTrace = JSON.parse(r.stdout)
    const l = await veneer(['explain', ctx, '--ruleset', file('demo.json', demoText), '--json'])
    expect(l.code, l.stderr).toBe(0)
    const localTrace = JSON.parse(l.stdout)
    const pick = (t: any) => t.placements.map((p: any) => [p.placement, p.variant, p.reason])
    expect(pick(remoteTrace)).toEqual(pick(localTrace))
    expect(pick(localTrace).map((p: any) => p[1])).toEqual(['germany', 'mobile-app', 'late-mobile', 'recommended'])
    expect(remoteTrace.rewrite).toEqual(localTrace.rewrite)
    const text = await veneer(['explain', ctx, '--remote'], remote())
    expect(text.stdout).toContain('home-hero: germany  (rule 1)')
    expect(text.stdout).toContain('segments matched: germany, eu, mobile, evening, mobile-evening')
  })

  it('exits 2 for a refused token and for a Worker it cannot reach; 1 without a token', async () => {
    const wrong = await veneer(['pull', '--remote'], { VENEER_URL: worker.url, VENEER_ADMIN_TOKEN: 'wrong' })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/refused \(401\)/)
    const down = await veneer(['pull', '--remote', '--url', 'http://127.0.0.1:8839'], { VENEER_ADMIN_TOKEN: 'x' })
    expect(down.code).toBe(2)
    expect(down.stderr).toMatch(/cannot reach/)
    const none = await veneer(['pull', '--remote', '--url', 'https://veneer.example'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/VENEER_ADMIN_TOKEN/)
  })
})

describe('tokens', () => {
  it('qa-token prints a token verifyQaToken accepts, with the ttl asked for', async () => {
    const r = await veneer(['qa-token', '--ttl', '2h'], { QA_SECRET: SECRETS.QA_SECRET })
    expect(r.code).toBe(0)
    const token = r.stdout.trim()
    const { verifyQaToken } = await loadTs(join(root, 'src', 'qa', 'token.ts'))
    expect(await verifyQaToken(SECRETS.QA_SECRET, token)).toBe(true)
    expect(await verifyQaToken('other', token)).toBe(false)
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRETS.QA_SECRET), { algorithms: ['HS256'] })
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(7200)
  })

  it('qa-token reads QA_SECRET from .dev.vars, refuses more than 7 days and a missing secret', async () => {
    const sub = mkdtempSync(join(dir, 'proj-'))
    writeFileSync(join(sub, '.dev.vars'), `# local secrets\nQA_SECRET="${SECRETS.QA_SECRET}"\n`)
    const ok = await new Promise<Run>((resolve) =>
      execFile(process.execPath, [bin, 'qa-token'], { cwd: sub, env: { PATH: process.env.PATH ?? '' } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      ),
    )
    expect(ok.code).toBe(0)
    const { verifyQaToken } = await loadTs(join(root, 'src', 'qa', 'token.ts'))
    expect(await verifyQaToken(SECRETS.QA_SECRET, ok.stdout.trim())).toBe(true)
    expect((await veneer(['qa-token', '--ttl', '8d'], { QA_SECRET: 'x' })).code).toBe(1)
    expect((await veneer(['qa-token'])).code).toBe(1)
  })

  it('profile-token mints an HS256 token with the claims given and an exp', async () => {
    const r = await veneer(
      [
        'profile-token',
        '--claim',
        'tier=gold',
        '--claim',
        'interests=["running","hiking"]',
        '--claim',
        'score=42',
        '--ttl',
        '30m',
        '--sub',
        'customer-7',
      ],
      { PROFILE_SECRET: SECRETS.PROFILE_SECRET },
    )
    expect(r.code, r.stderr).toBe(0)
    const { payload, protectedHeader } = await jwtVerify(r.stdout.trim(), new TextEncoder().encode(SECRETS.PROFILE_SECRET), {
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
    })
    expect(protectedHeader.alg).toBe('HS256')
    expect(payload).toMatchObject({ tier: 'gold', interests: ['running', 'hiking'], score: 42, sub: 'customer-7' })
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(1800)
    expect((await veneer(['profile-token', '--claim', 'novalue'], { PROFILE_SECRET: 'x' })).code).toBe(1)
  })
})

describe('against the wrangler dev local state (--local)', () => {
  it('push, versions, pull and rollback through local KV', async () => {
    const state = join(dir, 'state')
    const config = join(root, 'wrangler.toml')
    const local = ['--local', '--persist-to', state, '--config', config]
    const p1 = await veneer(['push', file('demo.json', demoText), ...local])
    expect(p1.code, p1.stderr).toBe(0)
    const first = /published (v1-\S+)/.exec(p1.stdout)?.[1]
    const doc = JSON.parse(demoText)
    doc.description = 'second'
    const p2 = await veneer(['push', file('second.json', doc), ...local])
    expect(p2.stdout).toMatch(/published v2-/)
    const pulled = JSON.parse((await veneer(['pull', ...local])).stdout)
    expect(pulled.description).toBe('second')
    const rb = await veneer(['rollback', first ?? '', ...local])
    expect(rb.code, rb.stderr).toBe(0)
    const list = await veneer(['versions', '--json', ...local])
    const versions = JSON.parse(list.stdout)
    expect(versions.active).toBe(first)
    expect(versions.versions).toHaveLength(2)
  }, 120_000)
})

describe('in a host project (a Worker of its own that uses Veneer)', () => {
  const hostConfig = '[[kv_namespaces]]\nbinding = "RULES"\nid = "00000000000000000000000000000000"\n'
  function hostProject(name: string): string {
    const host = join(dir, name)
    mkdirSync(host)
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name, private: true }))
    writeFileSync(
      join(host, 'wrangler.toml'),
      `name = "${name}"\nmain = "index.js"\ncompatibility_date = "2026-04-20"\n${hostConfig}`,
    )
    return host
  }

  it('--local without a wrangler of its own is refused, and its folder is left untouched', async () => {
    const host = hostProject('host-bare')
    const r = await veneer(['versions', '--local', '--config', join(host, 'wrangler.toml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`--local needs this project's own wrangler, and none is installed in ${host}`)
    expect(r.stderr).toContain('or use --remote')
    expect(readdirSync(host).sort()).toEqual(['package.json', 'wrangler.toml'])
  })

  it("--local opens the state through the host's own wrangler, not Veneer's", async () => {
    const host = hostProject('host-own')
    // The host's wrangler: a package of its own that hands over to a real wrangler and notes the call.
    const pkg = join(host, 'node_modules', 'wrangler')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'wrangler', version: '4.86.0-host', main: 'index.cjs' }))
    writeFileSync(
      join(pkg, 'index.cjs'),
      `const real = require(${JSON.stringify(join(root, 'node_modules', 'wrangler'))})
exports.getPlatformProxy = (options) => {
  require('node:fs').writeFileSync(${JSON.stringify(join(host, 'used-host-wrangler.json'))}, JSON.stringify(options))
  return real.getPlatformProxy(options)
}\n`,
    )
    const push = await veneer(['push', file('host.json', demoText), '--local'], {}, host)
    expect(push.code, push.stderr).toBe(0)
    expect(push.stdout).toMatch(/published v1-\S+ to local KV/)
    const used = JSON.parse(readFileSync(join(host, 'used-host-wrangler.json'), 'utf8'))
    expect(used.configPath).toBe(join(host, 'wrangler.toml'))
    // The state is where the host's own `wrangler dev` keeps it.
    expect(readdirSync(join(host, '.wrangler', 'state', 'v3'))).toContain('kv')
    const list = await veneer(['versions', '--json'], {}, host)
    expect(JSON.parse(list.stdout).versions).toHaveLength(1)
  }, 120_000)
})

describe('veneer lists push', () => {
  it('publishes a saved list through the admin API; an invalid one exits 1', async () => {
    const ok = await veneer(
      ['lists', 'push', 'beta', file('beta.txt', '# testers\nacct-1\nacct-2\nacct-1\n'), '--remote'],
      remote(),
    )
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toContain('published list beta (2 ids)')
    const kv = await worker.mf.getKVNamespace('RULES')
    expect(await kv.get('list:beta')).toBe('["acct-1","acct-2"]')
    const bad = await veneer(['lists', 'push', 'beta', file('bad.json', '[true]'), '--remote'], remote())
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('item 0 is not an id')
  })
})

describe('saved lists on the local state', () => {
  it('lists push --local, then explain --local reads the list with the ruleset', async () => {
    const state = join(dir, 'state-lists')
    const local = ['--local', '--persist-to', state, '--config', join(root, 'wrangler.toml')]
    const doc = JSON.parse(demoText)
    doc.segments.push({ id: 'beta', when: { 'profile.account': { $inList: 'beta-testers' } } })
    doc.placements[1].rules.unshift({ segment: 'beta', variant: 'tablet' })
    expect((await veneer(['push', file('lists-doc.json', doc), ...local])).code).toBe(0)
    const pushed = await veneer(['lists', 'push', 'beta-testers', file('beta.txt', 'acct-1\nacct-42\n'), ...local])
    expect(pushed.code, pushed.stderr).toBe(0)
    expect(pushed.stdout).toContain('published list beta-testers (2 ids) to local KV')
    const ctx = file('ctx-beta.json', { path: '/', profile: { account: 'acct-42' }, consent: { personalization: true } })
    const r = await veneer(['explain', ctx, '--json', ...local])
    expect(r.code, r.stderr).toBe(0)
    const trace = JSON.parse(r.stdout)
    expect(trace.segments.find((s: { id: string }) => s.id === 'beta')?.matched).toBe(true)
    expect(trace.placements.find((p: { placement: string }) => p.placement === 'promo-bar')?.variant).toBe('tablet')
  }, 180_000)
})
