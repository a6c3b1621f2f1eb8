import { concatBytes } from '../util/bytes'
import { logError, logWarn } from '../util/log'
import { chunkReader } from './chunks'
import { scanForRisk, type StopReason } from './guard'
import { pageKind, pageKnown, rememberPage } from './known'

/**
 * The byte path (issue 16, docs/performance.md). Two ways through, both streaming:
 *
 * - **native**, for pages known `plain` (the guard found nothing lol-html could fail on, the last
 *   time, within `PLAIN_TTL_MS`): the origin body goes into `HTMLRewriter.transform` and out
 *   to the visitor inside the runtime, with no JavaScript per chunk.
 * - **guarded**, for every other page (first seen in this isolate, known to need the guard, or
 *   plain too long ago): JavaScript reads the origin in 64 KB pieces and scans each
 *   (src/rewrite/guard.ts) before the rewriter gets it. Where lol-html could fail, the rewriter's input is ended there:
 *   the rewriter finishes (everything it was given comes out rewritten) and the rest of the origin
 *   body follows untouched. Whole page, each byte once.
 */
export type BytePath = 'native' | 'guarded'

export interface RewriteResult {
  response: Response
  path: BytePath
}

/** The path for a page: native only when it is known plain. */
export function choosePath(key: string): BytePath {
  return pageKind(key) === 'plain' ? 'native' : 'guarded'
}

/**
 * Streams the origin's response through `rewriter` without buffering and without ever cutting
 * the page short (see above). `key` is the page's {@link pageKey}. The result is a new response
 * with the origin's status and a mutable copy of its headers: on the native path it is the
 * rewriter's own output (`transform` copies the headers and reads the charset from the
 * origin's `Content-Type`, so text it inserts is encoded in it), with nothing re-wrapped.
 * An origin body that fails mid-stream fails the response the same way (nothing is invented,
 * the page is not blamed).
 */
export function rewriteResponse(origin: Response, rewriter: HTMLRewriter, key: string): RewriteResult {
  if (choosePath(key) === 'native') return { response: rewriter.transform(origin), path: 'native' }
  const contentType = origin.headers.get('content-type') ?? 'text/html; charset=utf-8'
  const body = origin.body as ReadableStream<Uint8Array>
  const out = guarded(body, rewriter, key, { headers: { 'content-type': contentType } })
  return {
    response: new Response(out, { status: origin.status, statusText: origin.statusText, headers: origin.headers }),
    path: 'guarded',
  }
}

function guarded(
  body: ReadableStream<Uint8Array>,
  rewriter: HTMLRewriter,
  key: string,
  init: ResponseInit,
): ReadableStream<Uint8Array> {
  const source = chunkReader(body)
  const firstSeen = !pageKnown(key)
  let pending: Uint8Array = new Uint8Array(0)
  let from = 0
  let stopped: { reason: StopReason; rest: Uint8Array } | undefined
  let sourceError: { error: unknown } | undefined
  let sourceDone = false

  // The rewriter's input: the origin's bytes, scanned, up to where it could fail.
  const feed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>
        try {
          next = await source.read()
        } catch (error) {
          sourceError = { error }
          throw error
        }
        const final = next.done
        const buf = final ? pending : pending.length === 0 ? next.value : concatBytes([pending, next.value])
        const scan = scanForRisk(buf, final, from)
        if (scan.feed > 0) controller.enqueue(buf.subarray(0, scan.feed))
        if (scan.stop !== undefined) {
          stopped = { reason: scan.stop, rest: buf.subarray(scan.feed) }
          controller.close()
          return
        }
        if (final) {
          sourceDone = true
          controller.close()
          return
        }
        pending = buf.subarray(scan.feed)
        from = scan.next - scan.feed
        if (scan.feed > 0) return
      }
    },
    // The rewriter cancels its input only when it fails; the source is cancelled below.
    cancel() {},
  })

  const transformed = rewriter.transform(new Response(feed, init)).body
  if (transformed === null) return body
  const out = chunkReader(transformed)
  let rewriting = true

  // workerd cannot pipe one runtime stream into another's writable ("Inter-TransformStream
  // pipeTo() is not implemented"), so on this path the output is read in 64 KB pieces.
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (rewriting) {
        let r: ReadableStreamReadResult<Uint8Array>
        try {
          r = await out.read()
        } catch (err) {
          if (sourceError !== undefined) {
            controller.error(sourceError.error) // the origin's failure, passed on as it is
            return
          }
          // Not foreseen by the guard: the page is cut. It is passed through from now on.
          rememberPage(key, 'failed')
          logError('rewrite_stream_failed', err, { recovered: false })
          controller.error(err)
          return
        }
        if (!r.done) {
          controller.enqueue(r.value)
          return
        }
        rewriting = false
        if (stopped === undefined) {
          // Nothing it could fail on (a benign `<select>` is fine): the native path from now on.
          if (sourceDone) rememberPage(key, 'plain')
          controller.close()
          return
        }
        // The rewriter had everything up to the stop and wrote it all; the rest goes out as is.
        rememberPage(key, 'guarded')
        // Once per page and isolate: a page that always needs the guard would log every view.
        if (firstSeen) logWarn('rewrite_stopped_early', { reason: stopped.reason })
        if (stopped.rest.length > 0) {
          controller.enqueue(stopped.rest)
          return
        }
      }
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
