import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureChromium } from '../../scripts/ensure-chromium.mjs'

// The paths of the `npm test` pre-step that this machine (Chromium installed, root) does not take,
// with a browser path that does not exist and an apt-get that is a script writing it.
const dir = mkdtempSync(join(tmpdir(), 'veneer-chromium-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function fakeAptGet(target: string, works = true): string {
  const script = join(dir, `apt-get-${Math.random().toString(36).slice(2)}`)
  const log = `${script}.log`
  const install = works ? `printf '#!/bin/sh\\n' > ${target}; chmod +x ${target}` : 'exit 100'
  writeFileSync(script, `#!/bin/sh\necho "$@" >> ${log}\nif [ "$1" = install ]; then ${install}; fi\n`)
  chmodSync(script, 0o755)
  return script
}

describe('the Chromium pre-step of npm test', () => {
  it('finds an executable that is there, and installs nothing', () => {
    const present = join(dir, 'present')
    writeFileSync(present, '#!/bin/sh\n')
    chmodSync(present, 0o755)
    expect(ensureChromium({ path: present, aptGet: '/nonexistent/apt-get' })).toEqual({
      ok: true,
      path: present,
      installed: false,
    })
  })

  it('missing, as root with apt-get: runs apt-get update, then install chromium', () => {
    const target = join(dir, 'installed-chromium')
    const aptGet = fakeAptGet(target)
    const lines: string[] = []
    const r = ensureChromium({ path: target, aptGet, root: true, custom: false, log: (s) => lines.push(s) })
    expect(r).toEqual({ ok: true, path: target, installed: true })
    expect(existsSync(`${aptGet}.log`)).toBe(true)
    expect(lines.join('\n')).toContain("installing Debian's chromium with apt-get")
  })

  it('missing and apt-get fails: says what to do', () => {
    const target = join(dir, 'never')
    const r = ensureChromium({ path: target, aptGet: fakeAptGet(target, false), root: true, custom: false, log: () => {} })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.message).toContain('apt-get install chromium failed')
      expect(r.message).toContain('sudo apt-get update && sudo apt-get install -y chromium')
      expect(r.message).toContain('VENEER_CHROMIUM=/path/to/chromium npm test')
    }
  })

  it('missing, not root: installs nothing and says what to do', () => {
    const target = join(dir, 'absent')
    const aptGet = fakeAptGet(target)
    const r = ensureChromium({ path: target, aptGet, root: false, custom: false })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.message).toContain(`${target} is missing and installing it needs root`)
    expect(existsSync(`${aptGet}.log`)).toBe(false)
  })

  it('VENEER_CHROMIUM naming a missing file is reported as such, never "fixed" by apt-get', () => {
    const target = join(dir, 'custom-missing')
    const r = ensureChromium({ path: target, aptGet: fakeAptGet(target), root: true, custom: true })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.message).toContain(`VENEER_CHROMIUM=${target} is not an executable`)
  })
})
