// The bench origin: a Node HTTP server on 127.0.0.1 serving the bench pages from memory, and a
// page that streams slowly (its first bytes at once, the rest over about a second).
import http from 'node:http'
import { benchPage } from './fixtures.mjs'

export const PAGES = { '20KB': 20_000, '100KB': 100_000, '1MB': 1_000_000, '5MB': 5_000_000 }
export const SLOW = { chunks: 10, intervalMs: 100 }

export function startOrigin(port) {
  const pages = new Map(Object.entries(PAGES).map(([name, bytes]) => [`/page-${name}`, Buffer.from(benchPage(bytes))]))
  pages.set('/page-100KB-select', Buffer.from(benchPage(100_000, { select: true })))
  pages.set('/page-100KB-guarded', Buffer.from(benchPage(100_000, { ambiguous: true })))
  const slow = Buffer.from(benchPage(100_000))
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    // `/bomb…`: the 20 KB page at any path, for the request-input timings (slash bomb).
    const body = pages.get(path) ?? (path.startsWith('/bomb') ? pages.get('/page-20KB') : undefined)
    if (body !== undefined) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': body.length,
        'cache-control': 'public, max-age=60',
      })
      res.end(body)
      return
    }
    if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      const size = Math.ceil(slow.length / SLOW.chunks)
      let i = 0
      const next = () => {
        if (res.destroyed) return
        const chunk = slow.subarray(i * size, (i + 1) * size)
        i++
        if (i >= SLOW.chunks) res.end(chunk)
        else {
          res.write(chunk)
          setTimeout(next, SLOW.intervalMs)
        }
      }
      next()
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  })
  server.keepAliveTimeout = 30_000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}
