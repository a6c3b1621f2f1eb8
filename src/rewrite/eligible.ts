import { chunkReader, type ChunkReader } from './chunks'

/** Charsets lol-html can rewrite; anything else (utf-16, unknown names) makes transform() throw. */
const REWRITABLE_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii', 'iso-8859-1', 'latin1', 'windows-1252'])
/** Encodings Workers' fetch decodes for us; others leave the body compressed and unmatchable. */
const DECODED_ENCODINGS = new Set(['', 'identity', 'gzip', 'br', 'x-gzip'])

export type Ineligible = 'method' | 'status' | 'content-type' | 'charset' | 'encoding' | 'no-body'

/**
 * Whether an origin response may be personalized (SPEC 2.2): a 200 `text/html` answer to GET,
 * in a charset HTMLRewriter can parse, with a body that is not still compressed.
 */
export function ineligibility(method: string, response: Response): Ineligible | undefined {
  if (method !== 'GET') return 'method'
  if (response.status !== 200) return 'status'
  const headers = response.headers // each read of the property crosses into the runtime
  const typeVerdict = contentTypeVerdict(headers.get('content-type') ?? '')
  if (typeVerdict !== undefined) return typeVerdict
  const encoding = headers.get('content-encoding')
  if (encoding !== null && !DECODED_ENCODINGS.has(encoding.trim().toLowerCase())) return 'encoding'
  if (response.body === null) return 'no-body'
  return undefined
}

/** Verdicts by `Content-Type` value: a site sends a handful, and each page view asks. */
const typeVerdicts = new Map<string, Ineligible | undefined>()
/** The last value asked about: most sites send one, and comparing it costs less than hashing it. */
let lastType: { type: string; verdict: Ineligible | undefined } | undefined

function contentTypeVerdict(type: string): Ineligible | undefined {
  if (lastType !== undefined && lastType.type === type) return lastType.verdict
  const verdict = typeVerdictOf(type)
  if (type.length <= 200) lastType = { type, verdict }
  return verdict
}

function typeVerdictOf(type: string): Ineligible | undefined {
  const known = typeVerdicts.get(type)
  if (known !== undefined || typeVerdicts.has(type)) return known
  const [mime, ...params] = type.split(';').map((s) => s.trim().toLowerCase())
  let verdict: Ineligible | undefined
  if (mime !== 'text/html') verdict = 'content-type'
  else {
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice(8)
      .replace(/^"|"$/g, '')
    if (charset !== undefined && !REWRITABLE_CHARSETS.has(charset)) verdict = 'charset'
  }
  if (typeVerdicts.size < 64 && type.length <= 200) typeVerdicts.set(type, verdict)
  return verdict
}

/**
 * Bytes no decoded HTML starts with: C0 controls other than tab, LF, FF, CR and ESC. The gzip
 * magic (1f 8b) is one; a brotli or deflate stream has one in its first 512 bytes with
 * probability 1 - (229/256)^512, i.e. always.
 */
function looksBinary(chunk: Uint8Array): boolean {
  const n = Math.min(chunk.length, 512)
  for (let i = 0; i < n; i++) {
    const b = chunk[i] as number
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) return true
  }
  return false
}

function prepend(first: Uint8Array, rest: ChunkReader): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sent) {
        sent = true
        controller.enqueue(first)
        return
      }
      const { done, value } = await rest.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel(reason) {
      return rest.cancel(reason)
    },
  })
}

/**
 * Whether a body that carries a `Content-Encoding` is still compressed. Workers' `fetch` decodes
 * gzip and brotli but keeps the header (and the runtime re-encodes on the way out), so a body
 * from `fetch` is text. A body from another origin seam (a Hono handler with compression, a
 * service binding) may really be compressed: HTMLRewriter would see bytes, not markup, and a
 * new Response around it would be compressed a second time. Peeks at the first chunk only when
 * the header is set. Returns the response to use from here on (its body re-assembled), and
 * `encoded: true` with a pass-through response (`encodeBody: 'manual'`: sent as is) when the
 * body is still compressed.
 */
export async function stillEncoded(response: Response): Promise<{ response: Response; encoded: boolean }> {
  const encoding = (response.headers.get('content-encoding') ?? '').trim().toLowerCase()
  if (encoding === '' || encoding === 'identity' || response.body === null) return { response, encoded: false }
  const reader = chunkReader(response.body)
  let body: ReadableStream<Uint8Array>
  let encoded = false
  try {
    const first = await reader.read()
    if (first.done) body = new ReadableStream({ start: (c) => c.close() })
    else {
      encoded = looksBinary(first.value)
      body = prepend(first.value, reader)
    }
  } catch (err) {
    // The origin failed before its first byte: the visitor sees the same failure.
    body = new ReadableStream({ start: (c) => c.error(err) })
  }
  const init: ResponseInit = { status: response.status, statusText: response.statusText, headers: response.headers }
  if (encoded) init.encodeBody = 'manual'
  return { response: new Response(body, init), encoded }
}
