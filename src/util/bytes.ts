/** The bytes of `parts`, one after another, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const encoder = new TextEncoder()

/**
 * UTF-8 bytes of a string, as `TextEncoder#encode` gives them. Text that is all ASCII (tokens,
 * base64url, the visitor cookie's claims) is copied in a loop: a `TextEncoder` call crosses into
 * the runtime, ~3 µs each in workerd, more than the loop costs (docs/performance.md).
 */
export function utf8Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) return encoder.encode(s)
    out[i] = c
  }
  return out
}
