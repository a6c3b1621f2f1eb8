#!/usr/bin/env node
// `npm test` pre-step (pretest): the browser tests drive Debian's Chromium through playwright-core,
// which downloads no browser of its own. Finds it, or installs it with apt-get when this is Debian
// and we are root, or says exactly what to do and fails before the suite starts.
// VENEER_CHROMIUM names the executable (default /usr/bin/chromium); the browser tests read the same.
import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'

export const chromiumPath = () => process.env.VENEER_CHROMIUM || '/usr/bin/chromium'

function usable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * Finds Chromium, installing it when it can. The options exist for tests of the paths this
 * machine does not take (a missing browser, no root): `path`, `aptGet` (the command), `root`.
 */
export function ensureChromium({
  log = console.log,
  path = chromiumPath(),
  aptGet = 'apt-get',
  root = typeof process.getuid === 'function' && process.getuid() === 0,
  custom = process.env.VENEER_CHROMIUM !== undefined && process.env.VENEER_CHROMIUM !== '',
} = {}) {
  if (usable(path)) return { ok: true, path, installed: false }
  if (!custom && root && has(aptGet)) {
    log(`veneer: ${path} is missing; installing Debian's chromium with apt-get (once)…`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    try {
      execFileSync(aptGet, ['update', '-qq'], { stdio: 'inherit', env })
      execFileSync(aptGet, ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env })
    } catch (err) {
      return { ok: false, path, message: `apt-get install chromium failed (${err.status ?? err.message}).\n${advice(path)}` }
    }
    if (usable(path)) return { ok: true, path, installed: true }
    return { ok: false, path, message: `apt-get installed chromium, but ${path} is still not there.\n${advice(path)}` }
  }
  const why = custom
    ? `VENEER_CHROMIUM=${path} is not an executable`
    : !has(aptGet)
      ? `${path} is missing and this is not a Debian-like system (no apt-get)`
      : `${path} is missing and installing it needs root`
  return { ok: false, path, message: `${why}.\n${advice(path)}` }
}

function advice(path) {
  return [
    'The browser tests (test/node/browser-*.test.ts) need a Chromium executable. Do one of:',
    '  sudo apt-get update && sudo apt-get install -y chromium    # Debian/Ubuntu: /usr/bin/chromium',
    '  VENEER_CHROMIUM=/path/to/chromium npm test                  # any Chromium or Chrome you have',
    `(looked for: ${path})`,
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = ensureChromium()
  if (r.ok) {
    if (r.installed) console.log(`veneer: chromium installed at ${r.path}`)
  } else {
    console.error(`veneer: cannot run the browser tests: ${r.message}`)
    process.exit(1)
  }
}
