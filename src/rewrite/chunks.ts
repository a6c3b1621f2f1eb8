/** Largest piece read at once from a body that allows it. */
export const CHUNK_BYTES = 64 * 1024

export interface ChunkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>
  cancel(reason?: unknown): Promise<void>
  /** Lets go of the stream (no read pending), e.g. to pipe the rest of it natively. */
  releaseLock(): void
}

/**
 * Reads a body in pieces of up to 64 KB where the stream allows it (BYOB: the runtime's own
 * streams, e.g. a `fetch` body or HTMLRewriter's output): each read returns whatever has
 * arrived, at once, so nothing waits for a piece to fill. Fewer, larger chunks matter in
 * workerd, where every chunk that crosses into JavaScript costs tens of µs of CPU: `fetch`
 * delivers 4 KB chunks, and with them rewriting a 1 MB page cost ~25 ms of CPU instead of ~10
 * (docs/performance.md). Streams made in JavaScript fall back to a default reader.
 */
export function chunkReader(stream: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader
  try {
    byob = stream.getReader({ mode: 'byob' })
  } catch {
    const reader = stream.getReader()
    return { read: () => reader.read(), cancel: (reason) => reader.cancel(reason), releaseLock: () => reader.releaseLock() }
  }
  return {
    async read() {
      const r = await byob.read(new Uint8Array(CHUNK_BYTES))
      if (r.done || r.value === undefined) return { done: true, value: undefined }
      return { done: false, value: r.value }
    },
    cancel: (reason) => byob.cancel(reason),
    releaseLock: () => byob.releaseLock(),
  }
}
