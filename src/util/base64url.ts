/**
 * base64url (RFC 4648 §5, no padding) written as ASCII bytes into a caller's buffer: what the
 * visitor token's signer needs, the text and the bytes the signature covers at once, without a
 * `TextEncoder` call or a string round trip per token (each a call into the runtime; issue 16).
 * jose's `base64url` stays the decoder and the reference: test/util/base64url.test.ts holds this
 * to it.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const DIGITS = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0))

/** How many characters {@link writeBase64url} writes for `n` bytes. */
export function base64urlLength(n: number): number {
  return Math.floor(n / 3) * 4 + [0, 2, 3][n % 3]!
}

/**
 * Writes the base64url of `src` into `out` from `at`; returns where it ended. `src` is bytes, or
 * text whose characters are all below U+0080 (its UTF-8 is its char codes): callers test that.
 * `out` must have room for {@link base64urlLength} of the source's length.
 */
export function writeBase64url(out: Uint8Array, at: number, src: Uint8Array | string): number {
  const n = src.length
  const byteAt = typeof src === 'string' ? (i: number) => src.charCodeAt(i) : (i: number) => src[i]!
  let o = at
  let i = 0
  for (; i + 2 < n; i += 3) {
    const v = (byteAt(i) << 16) | (byteAt(i + 1) << 8) | byteAt(i + 2)
    out[o++] = DIGITS[v >>> 18]!
    out[o++] = DIGITS[(v >>> 12) & 63]!
    out[o++] = DIGITS[(v >>> 6) & 63]!
    out[o++] = DIGITS[v & 63]!
  }
  if (i < n) {
    const v = (byteAt(i) << 16) | (i + 1 < n ? byteAt(i + 1) << 8 : 0)
    out[o++] = DIGITS[v >>> 18]!
    out[o++] = DIGITS[(v >>> 12) & 63]!
    if (i + 1 < n) out[o++] = DIGITS[(v >>> 6) & 63]!
  }
  return o
}

/** ASCII bytes as text (one builtin call, no runtime call); for the short runs written above. */
export function asciiText(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}
