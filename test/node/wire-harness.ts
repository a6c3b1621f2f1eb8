import { seededRng } from '../../src/util/random'
// The byte path through real HTTP: the bundled Worker (scripts/bundle-worker.mjs) in Miniflare,
// behind a Node origin that streams each page in the chunking a test asks for, read as raw bytes
// off a TCP socket. An in-process `fetch` can report a body that was cut short as a clean, shorter
// one; a socket cannot: a chunked body must end with its `0\r\n\r\n`, or it was cut.
import { bundleWorker } from '../../scripts/bundle-worker.mjs'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'

export const SECRETS = {
  ADMIN_TOKEN: 'wire-test-admin-token',
  QA_SECRET: 'wire-test-qa-secret-0123456789abcdef',
  VISITOR_SECRET: 'wire-test-visitor-secret-0123456789',
}

export const HEADLINE = '<h1>Welcome to the shop</h1>'
export const PERSONALIZED_HEADLINE = '<h1>Hello from Veneer</h1>'

/** Every visitor gets the headline rewritten, on every page. */
export const RULESET = {
  version: 'wire-1',
  settings: { budgetMs: 1000, refreshSeconds: 3600, include: ['/*'], exclude: [] },
  segments: [{ id: 'anyone', when: { 'device.type': { $exists: true } } }],
  placements: [
    {
      id: 'hero',
      paths: ['/*'],
      selector: '#hero h1',
      variants: [{ id: 'hello', ops: [{ op: 'setText', value: 'Hello from Veneer' }] }],
      rules: [{ segment: 'anyone', variant: 'hello' }],
    },
  ],
}

/** A page with the personalized headline near its top, `extra` after it, padded to about `bytes`. */
export function page(bytes = 4000, extra = '', tailExtra = ''): string {
  const head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body>'
  const top = `<div id="promo">Free returns</div><section id="hero">${HEADLINE}</section>${extra}`
  const tail = `${tailExtra}</body></html>\n`
  const parts = [head, top]
  let size = head.length + top.length + tail.length
  for (let i = 0; size < bytes; i++) {
    const card = `<article class="card" data-id="${i}"><h2>Product ${i}</h2><p>A sturdy thing, made to last. Item ${i} ships in 2 days.</p></article>\n`
    parts.push(card)
    size += card.length
  }
  parts.push(tail)
  return parts.join('')
}

/** What a visitor must get for a page: the same bytes with the headline rewritten. */
export function personalized(html: string): string {
  return html.replace(HEADLINE, PERSONALIZED_HEADLINE)
}

/** How the origin cuts a page: whole, fixed-size pieces, or a seeded random cut with pauses. */
export type Chunking = { kind: 'whole' } | { kind: 'fixed'; size: number } | { kind: 'random'; seed: number; maxPauseMs?: number }

export interface OriginPage {
  body: Buffer
  chunking: Chunking
  gzip?: boolean
  contentLength?: boolean
}

/** The pieces a body is sent in, and the pause before each (ms). */
export function cut(body: Buffer, chunking: Chunking): { piece: Buffer; pauseMs: number }[] {
  if (chunking.kind === 'whole' || body.length === 0) return [{ piece: body, pauseMs: 0 }]
  const out: { piece: Buffer; pauseMs: number }[] = []
  if (chunking.kind === 'fixed') {
    // Tiny pieces go out in batches per event-loop turn, or a 1 MB page in 1-byte writes would
    // take minutes; each piece is still its own `write`, so its own TCP segment where the
    // kernel does not merge them.
    for (let i = 0; i < body.length; i += chunking.size) out.push({ piece: body.subarray(i, i + chunking.size), pauseMs: 0 })
    return out
  }
  const next = seededRng(chunking.seed)
  const maxPause = chunking.maxPauseMs ?? 3
  for (let i = 0; i < body.length; ) {
    const r = next()
    const size = r < 0.3 ? 1 + Math.floor(next() * 8) : r < 0.8 ? 1 + Math.floor(next() * 2000) : 1 + Math.floor(next() * 70_000)
    out.push({ piece: body.subarray(i, i + size), pauseMs: next() < 0.2 ? Math.floor(next() * (maxPause + 1)) : 0 })
    i += size
  }
  return out
}

/** The Node origin: pages registered by path, each streamed in its chunking. */
export class Origin {
  readonly pages = new Map<string, OriginPage>()
  readonly hits = new Map<string, number>()
  /** The request headers of the last request for each path, as the origin received them. */
  readonly requestHeaders = new Map<string, IncomingHttpHeaders>()
  private server?: Server

  async start(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1)
      this.requestHeaders.set(path, req.headers)
      const p = this.pages.get(path)
      if (p === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
        return
      }
      const body = p.gzip === true ? gzipSync(p.body) : p.body
      const headers: Record<string, string | number> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }
      if (p.gzip === true) headers['content-encoding'] = 'gzip'
      if (p.contentLength === true) headers['content-length'] = body.length
      res.writeHead(200, headers)
      const pieces = cut(body, p.chunking)
      let i = 0
      const send = () => {
        // Up to 64 pieces per turn, each its own `write`; a pause breaks the batch.
        for (let n = 0; i < pieces.length && n < 64; n++) {
          res.write((pieces[i] as { piece: Buffer }).piece)
          i++
          if ((pieces[i]?.pauseMs ?? 0) > 0) break
        }
        if (i >= pieces.length) res.end()
        else {
          const pause = pieces[i]?.pauseMs ?? 0
          if (pause > 0) setTimeout(send, pause)
          else setImmediate(send)
        }
      }
      send()
    })
    this.server.keepAliveTimeout = 1000
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve))
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise((r) => this.server?.close(r))
  }
}

export interface WireWorker {
  port: number
  mf: Miniflare
  close(): Promise<void>
}

/** The Worker as wrangler would bundle it, run by Miniflare on `port`, with `ORIGIN_URL` set. */
export async function startWireWorker(port: number, originPort: number, ruleset: unknown = RULESET): Promise<WireWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'veneer-wire-'))
  const scriptPath = join(dir, 'worker.mjs')
  await bundleWorker({ outfile: scriptPath })
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
  await mf.ready
  await (await mf.getKVNamespace('RULES')).put('ruleset', JSON.stringify(ruleset))
  return {
    port,
    mf,
    async close() {
      await mf.dispose()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface RawResponse {
  status: number
  headers: Map<string, string>
  body: Buffer
  /** The body's framing was complete: the chunked terminator, or exactly Content-Length bytes. */
  complete: boolean
  raw: number
}

/** Decodes a chunked body strictly; `complete` only when the final `0\r\n\r\n` arrived. */
function dechunk(data: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = []
  let i = 0
  for (;;) {
    const eol = data.indexOf('\r\n', i)
    if (eol < 0) return { body: Buffer.concat(parts), complete: false }
    const size = Number.parseInt(data.subarray(i, eol).toString('latin1').split(';')[0] ?? '', 16)
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false }
    const start = eol + 2
    if (size === 0) return { body: Buffer.concat(parts), complete: data.subarray(start, start + 2).toString('latin1') === '\r\n' }
    if (data.length < start + size + 2) {
      parts.push(data.subarray(start, Math.min(data.length, start + size)))
      return { body: Buffer.concat(parts), complete: false }
    }
    parts.push(data.subarray(start, start + size))
    i = start + size + 2
  }
}

/** One GET on a fresh TCP connection (`Connection: close`), every byte read off the socket. */
export function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`rawGet ${path}: no end after ${timeoutMs} ms`))
    }, timeoutMs)
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
      'Accept: text/html',
      'Accept-Encoding: identity',
      'Connection: close',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ]
    socket.on('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`))
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', () => undefined) // a reset is a cut body: judged below
    socket.on('close', () => {
      clearTimeout(timer)
      const data = Buffer.concat(chunks)
      const headEnd = data.indexOf('\r\n\r\n')
      if (headEnd < 0) {
        reject(new Error(`rawGet ${path}: no response head (${data.length} bytes)`))
        return
      }
      const [statusLine = '', ...headerLines] = data.subarray(0, headEnd).toString('latin1').split('\r\n')
      const map = new Map<string, string>()
      for (const l of headerLines) {
        const c = l.indexOf(':')
        const k = l.slice(0, c).trim().toLowerCase()
        const v = l.slice(c + 1).trim()
        map.set(k, map.has(k) ? `${map.get(k)}, ${v}` : v)
      }
      const rest = data.subarray(headEnd + 4)
      let body: Buffer
      let complete: boolean
      if ((map.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) ({ body, complete } = dechunk(rest))
      else if (map.has('content-length')) {
        const n = Number(map.get('content-length'))
        body = rest.subarray(0, n)
        complete = rest.length === n
      } else {
        body = rest // delimited by close: cannot tell a cut
        complete = true
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: map, body, complete, raw: data.length })
    })
  })
}
