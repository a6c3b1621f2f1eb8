// A local Veneer Worker for the Node tests (CLI, browser): src/worker.ts bundled with esbuild and
// run by miniflare (workerd), in front of a tiny static server for the demo shop (ORIGIN_URL).
import { type Browser, chromium } from 'playwright-core'
import { bundleWorker } from '../../scripts/bundle-worker.mjs'
import { chromiumPath } from '../../scripts/ensure-chromium.mjs'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { Miniflare } from 'miniflare'

export const root = join(import.meta.dirname, '..', '..')
export const SECRETS = {
  ADMIN_TOKEN: 'node-test-admin-token',
  QA_SECRET: 'node-test-qa-secret-0123456789abcdef',
  VISITOR_SECRET: 'node-test-visitor-secret-0123456789',
  PROFILE_SECRET: 'node-test-profile-secret-0123456789',
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.txt': 'text/plain',
}

/** Serves demo/site like a plain web server: `/products/` → index.html, `/thanks` → thanks.html. */
function demoOrigin(port: number): Promise<Server> {
  const site = join(root, 'demo', 'site')
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    const candidates = [join(site, path), join(site, path, 'index.html'), join(site, `${path}.html`)]
    const file = candidates.find((f) => f.startsWith(site) && statSync(f, { throwIfNoEntry: false })?.isFile())
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file))
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}

export interface LocalWorker {
  url: string
  mf: Miniflare
  close(): Promise<void>
}

/** Bundles the Worker and starts it on `port`, with the demo origin on `originPort`. */
export async function startWorker(
  port: number,
  originPort: number,
  bindings: Record<string, string> = SECRETS,
): Promise<LocalWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'veneer-worker-'))
  const scriptPath = join(dir, 'worker.mjs')
  await bundleWorker({ outfile: scriptPath })
  const origin = await demoOrigin(originPort)
  const mf = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: dir, // module names are relative to this; the bundle lives outside the cwd
    compatibilityDate: '2026-04-20',
    kvNamespaces: ['RULES'],
    bindings: { ...bindings, ORIGIN_URL: `http://127.0.0.1:${originPort}` },
    host: '127.0.0.1',
    port,
  })
  const url = (await mf.ready).origin
  return {
    url,
    mf,
    async close() {
      await mf.dispose()
      await new Promise((r) => origin.close(r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Debian's Chromium for the browser tests (playwright-core downloads none): the path of
 * scripts/ensure-chromium.mjs, with the flags that keep it off this machine's closed network.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu'],
  })
}

/** Publishes the demo ruleset the way a site owner would (admin API); the response status. */
export async function publishDemoRuleset(worker: LocalWorker): Promise<number> {
  const res = await fetch(`${worker.url}/__veneer/api/ruleset`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-veneer-note': 'demo' },
    body: readFileSync(join(root, 'demo', 'ruleset.json'), 'utf8'),
  })
  await res.body?.cancel()
  return res.status
}
