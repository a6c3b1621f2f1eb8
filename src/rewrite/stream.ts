import { concatBytes } from '../util/bytes'
import { logError } from '../util/log'
import { chunkReader } from './chunks'

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

/** Input kept for recovery: at least the last two chunks, and up to this many bytes. */
const WINDOW_BYTES = 64 * 1024
/** Output bytes kept to find where, in the input, the rewriter's output stopped. */
const TAIL_BYTES = 128

/** Index just past the first occurrence of `needle` in `hay` that ends at `minEnd` or later, or -1. */
function endOfFirstFrom(hay: Uint8Array, needle: Uint8Array, minEnd: number): number {
  outer: for (let i = Math.max(0, minEnd - needle.length); i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i + needle.length
  }
  return -1
}

/** What lol-html may hold back of the input before the last chunks: an unfinished tag. */
const HOLDBACK_BYTES = 4096

/**
 * The raw input the rewriter took but had not emitted when it failed. The output after the
 * last rewrite is the input verbatim, so the tail of what was sent is found in the recent input
 * and everything after it is what is missing. The rewriter had emitted everything but a held
 * back token before the last two chunks, so the search starts there, and takes the first match:
 * if the same bytes recur, some may repeat, none is skipped. When the tail is not found (a
 * rewrite in the last bytes sent), the last two input chunks are sent again.
 */
function unsent(window: readonly Uint8Array[], windowFromStart: boolean, tail: Uint8Array, sent: number): Uint8Array {
  const input = concatBytes(window)
  if (sent === 0 && windowFromStart) return input
  if (tail.length >= 16) {
    const lastTwo = window.slice(-2).reduce((n, c) => n + c.length, 0)
    const end = endOfFirstFrom(input, tail, input.length - lastTwo - HOLDBACK_BYTES)
    if (end >= 0) return input.subarray(end)
  }
  return concatBytes(window.slice(-2))
}

/**
 * Streams `body` through `rewriter` without buffering. If the rewriter fails mid-stream (a
 * parse ambiguity, a token over lol-html's memory cap), the page is not cut short: the input
 * the rewriter had taken but not emitted, and everything after it, follow what was already
 * sent, raw, and the URL is remembered so the next requests pass through untouched. If the
 * origin's own stream fails, the response fails the same way (nothing is invented, and the URL
 * is not blamed).
 */
export function rewriteStream(body: ReadableStream<Uint8Array>, rewriter: HTMLRewriter, url: string): ReadableStream<Uint8Array> {
  const source = chunkReader(body)
  const window: Uint8Array[] = []
  let windowBytes = 0
  let windowFromStart = true
  let sourceDone = false
  let sourceError: { error: unknown } | undefined
  // The rewriter reads from this stream, so we always know what it was given.
  const feed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>
      try {
        next = await source.read()
      } catch (error) {
        sourceError = { error }
        throw error
      }
      if (next.done) {
        sourceDone = true
        controller.close()
        return
      }
      window.push(next.value)
      windowBytes += next.value.length
      while (window.length > 2 && windowBytes - (window[0] as Uint8Array).length >= WINDOW_BYTES) {
        windowBytes -= (window.shift() as Uint8Array).length
        windowFromStart = false
      }
      controller.enqueue(next.value)
    },
    // The rewriter cancels its input when it fails: the source must stay readable for the
    // recovery. A visitor who goes away cancels the source below, directly.
    cancel() {},
  })
  const transformed = rewriter.transform(new Response(feed)).body
  if (transformed === null) return body
  const out = chunkReader(transformed)
  let failed = false
  let sent = 0
  let tail = new Uint8Array(0)

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!failed) {
        try {
          const { done, value } = await out.read()
          if (done) controller.close()
          else {
            sent += value.length
            tail = value.length >= TAIL_BYTES ? value.slice(-TAIL_BYTES) : concatBytes([tail, value]).slice(-TAIL_BYTES)
            controller.enqueue(value)
          }
          return
        } catch (err) {
          if (sourceError !== undefined) {
            controller.error(sourceError.error) // the origin's failure, passed on as it is
            return
          }
          failed = true
          rememberUnparseable(url)
          logError('rewrite_stream_failed', err, { recovered: true })
          const missing = unsent(window, windowFromStart, tail, sent)
          window.length = 0
          if (missing.length > 0) controller.enqueue(missing)
          if (sourceDone) controller.close()
          return
        }
      }
      // Recovery: the rest of the origin's bytes, as they are.
      const { done, value } = await source.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel(reason) {
      await out.cancel(reason).catch(() => undefined)
      await source.cancel(reason).catch(() => undefined)
    },
  })
}
