import type { Env } from '../env'
import { fetchOrigin } from '../pipeline/origin'

/** Pages larger than this are not scanned on save; the browser's check stands alone then. */
const MAX_SCAN_BYTES = 5 * 1024 * 1024

/**
 * How many elements of the page at `path`, as the origin serves it, HTMLRewriter itself matches
 * with `selector`: the second half of "matches that element and only it" (the picker checks the
 * browser's DOM, which can differ from what the streaming parser sees). Undefined when the page
 * cannot be fetched or is not HTML.
 */
export async function countMatches(env: Env, base: string, path: string, selector: string): Promise<number | undefined> {
  const res = await fetchOrigin(
    new Request(new URL(path, base), { headers: { accept: 'text/html', 'accept-encoding': 'identity' } }),
    env,
  )
  const type = res.headers.get('content-type') ?? ''
  const size = Number(res.headers.get('content-length') ?? '0')
  if (res.status !== 200 || !/^text\/html/i.test(type) || res.body === null || size > MAX_SCAN_BYTES) {
    await res.body?.cancel()
    return undefined
  }
  let n = 0
  try {
    const out = new HTMLRewriter()
      .on(selector, {
        element() {
          n++
        },
      })
      .transform(res)
    await out.arrayBuffer()
    return n
  } catch {
    return undefined
  }
}
