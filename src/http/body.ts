import type { Context, MiddlewareHandler } from 'hono'

/**
 * Request bodies read with a limit counted on the bytes actually read: `Content-Length` only
 * lets a body be refused early; a chunked body without it is counted as it arrives and
 * abandoned as soon as it passes the limit, never buffered whole.
 */
export type BodyBytes = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' }

export async function readBodyBytes(request: Request, maxBytes: number): Promise<BodyBytes> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxBytes) return { ok: false, reason: 'too_large' }
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined)
      return { ok: false, reason: 'too_large' }
    }
    chunks.push(value)
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.byteLength
  }
  return { ok: true, bytes: all }
}

export type BodyText = { ok: true; text: string } | { ok: false; reason: 'too_large' | 'not_utf8' }

/** The body as UTF-8 text, at most `maxBytes` bytes; invalid UTF-8 is refused, not replaced. */
export async function readBodyText(request: Request, maxBytes: number): Promise<BodyText> {
  const read = await readBodyBytes(request, maxBytes)
  if (!read.ok) return read
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(read.bytes) }
  } catch {
    return { ok: false, reason: 'not_utf8' }
  }
}

/**
 * Hono middleware: reads the body with {@link readBodyBytes} before the handler runs, answers
 * `onTooLarge` past `maxBytes`, and hands the handler a request whose body is the bytes read.
 */
export function limitBody(maxBytes: number, onTooLarge: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw
    if (raw.method === 'GET' || raw.method === 'HEAD') return next()
    const read = await readBodyBytes(raw, maxBytes)
    if (!read.ok) return onTooLarge(c)
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: read.bytes })
    await next()
  }
}
