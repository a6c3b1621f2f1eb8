import { logError } from '../util/log'

/**
 * URLs whose markup HTMLRewriter could not parse (e.g. `<select>` followed by `<title>`), so later
 * requests for them pass through untouched. Per isolate, bounded, forgotten after an hour.
 */
const unparseable = new Map<string, number>()
const UNPARSEABLE_TTL_MS = 60 * 60 * 1000
const UNPARSEABLE_MAX = 1000

export function isKnownUnparseable(url: string, at = Date.now()): boolean {
  const since = unparseable.get(url)
  if (since === undefined) return false
  if (at - since > UNPARSEABLE_TTL_MS) {
    unparseable.delete(url)
    return false
  }
  return true
}

function rememberUnparseable(url: string): void {
  if (unparseable.size >= UNPARSEABLE_MAX) {
    const oldest = unparseable.keys().next().value
    if (oldest !== undefined) unparseable.delete(oldest)
  }
  unparseable.set(url, Date.now())
}

/**
 * Streams `body` through `rewriter` without buffering. If the rewriter fails mid-stream (a
 * parse ambiguity, a token over lol-html's memory cap), the page is not cut short: the raw bytes
 * of the input chunk it was on and everything after it follow what was already sent, and the URL
 * is remembered so the next requests pass through untouched. Around the failure point a few
 * bytes may repeat; no byte of the origin's page is lost.
 */
export function rewriteStream(body: ReadableStream<Uint8Array>, rewriter: HTMLRewriter, url: string): ReadableStream<Uint8Array> {
  const source = body.getReader()
  let lastChunk: Uint8Array | undefined
  let sourceDone = false
  // The rewriter reads from this stream, so we always know the last chunk it was given.
  const feed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await source.read()
      if (done) {
        sourceDone = true
        controller.close()
        return
      }
      lastChunk = value
      controller.enqueue(value)
    },
    cancel(reason) {
      return source.cancel(reason)
    },
  })
  const transformed = rewriter.transform(new Response(feed)).body
  if (transformed === null) return body
  const out = transformed.getReader()
  let failed = false

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!failed) {
        try {
          const { done, value } = await out.read()
          if (done) controller.close()
          else controller.enqueue(value)
          return
        } catch (err) {
          failed = true
          rememberUnparseable(url)
          logError('rewrite_stream_failed', err, { recovered: true })
          if (lastChunk !== undefined) controller.enqueue(lastChunk)
          if (sourceDone) {
            controller.close()
            return
          }
        }
      }
      // Recovery: the rest of the origin's bytes, as they are.
      const { done, value } = await source.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel(reason) {
      return out.cancel(reason).catch(() => source.cancel(reason))
    },
  })
}
