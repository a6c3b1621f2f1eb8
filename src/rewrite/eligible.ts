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
  const type = response.headers.get('content-type') ?? ''
  const [mime, ...params] = type.split(';').map((s) => s.trim().toLowerCase())
  if (mime !== 'text/html') return 'content-type'
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/^"|"$/g, '')
  if (charset !== undefined && !REWRITABLE_CHARSETS.has(charset)) return 'charset'
  const encoding = (response.headers.get('content-encoding') ?? '').trim().toLowerCase()
  if (!DECODED_ENCODINGS.has(encoding)) return 'encoding'
  if (response.body === null) return 'no-body'
  return undefined
}
