// The attacker's view of Veneer (issue 10): src/worker.ts bundled the way wrangler bundles it, run
// by miniflare (workerd) over real HTTP, in front of a small Node origin that behaves like a
// careless real one (caches per-user pages as `public`, merges `//` like nginx, echoes headers).
import { bundleWorker } from '../../scripts/bundle-worker.mjs'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'

export const SECRETS = {
  ADMIN_TOKEN: 'hardening-admin-token',
  QA_SECRET: 'hardening-qa-secret-0123456789abcdef',
  VISITOR_SECRET: 'hardening-visitor-secret-0123456789',
  PROFILE_SECRET: 'hardening-profile-secret-0123456789',
}

export interface OriginLog {
  /** Every request the origin saw: merged path and headers. */
  requests: { path: string; headers: IncomingHttpHeaders }[]
}

const PAGE = (who: string) => `<!doctype html><html><head><title>Shop</title></head><body>
<h1 id="who">Hello ${who}</h1>
<p id="greeting">Welcome.</p>
<a id="cta" href="/products">Shop now</a>
</body></html>`

/**
 * `/account`: greets whoever the `Authorization` header or the `session` cookie names, and (a
 * careless origin) marks it `public, max-age=300`. `/vary-cookie`: the same, but says
 * `Vary: Cookie`. `/private`: `private, max-age=300`. Everything else: a public generic page.
 * Paths are merged (`//a` → `/a`), as nginx does by default.
 */
function origin(port: number, log: OriginLog): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/{2,}/g, '/')
    log.requests.push({ path, headers: req.headers })
    const session = /(?:^|;\s*)session=([^;]*)/.exec(req.headers.cookie ?? '')?.[1]
    const who = req.headers.authorization ?? (session === undefined ? 'guest' : `session ${session}`)
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' }
    if (path === '/account') headers['cache-control'] = 'public, max-age=300'
    else if (path === '/vary-cookie') {
      headers['cache-control'] = 'public, max-age=300'
      headers.vary = 'Cookie'
    } else if (path === '/private') headers['cache-control'] = 'private, max-age=300'
    else headers['cache-control'] = 'no-store'
    res.writeHead(200, headers).end(PAGE(who))
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}

export interface HardeningWorker {
  url: string
  log: OriginLog
  close(): Promise<void>
}

/** Bundles the Worker and starts it on `port`, in front of the careless origin on `originPort`. */
export async function startHardeningWorker(port: number, originPort: number): Promise<HardeningWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'veneer-hardening-'))
  const scriptPath = join(dir, 'worker.mjs')
  await bundleWorker({ outfile: scriptPath })
  const log: OriginLog = { requests: [] }
  const server = await origin(originPort, log)
  const mf = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: dir,
    compatibilityDate: '2026-04-20',
    kvNamespaces: ['RULES'],
    bindings: { ...SECRETS, ORIGIN_URL: `http://127.0.0.1:${originPort}` },
    host: '127.0.0.1',
    port,
  })
  const url = (await mf.ready).origin
  return {
    url,
    log,
    async close() {
      await mf.dispose()
      await new Promise((r) => server.close(r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** PUT /__veneer/api/ruleset with the admin token. */
export function publish(worker: HardeningWorker, body: string): Promise<Response> {
  return fetch(`${worker.url}/__veneer/api/ruleset`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body,
  })
}
