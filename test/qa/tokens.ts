import { SignJWT, UnsecuredJWT } from 'jose'

export const QA_SECRET = 'test-qa-secret-0123456789abcdef' // vitest.config.ts binding
const enc = new TextEncoder()

interface Claims {
  scope?: unknown
  iat?: number
  exp?: number
}

/** A token signed with `secret`, for the invalid-token cases the real minter refuses to make. */
export async function signed(claims: Claims, secret = QA_SECRET, alg = 'HS256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ scope: 'qa', ...('scope' in claims ? { scope: claims.scope } : {}) })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuedAt(claims.iat ?? now)
  jwt.setExpirationTime(claims.exp ?? now + 3600)
  return jwt.sign(enc.encode(secret))
}

export async function invalidTokens(): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000)
  return {
    forged: await signed({}, 'another-secret-0123456789abcdefgh'),
    expired: await signed({ iat: now - 7200, exp: now - 60 }),
    'wrong scope': await signed({ scope: 'admin' }),
    'no scope': await signed({ scope: undefined }),
    unsigned: new UnsecuredJWT({ scope: 'qa' })
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .encode(),
    'longer than 7 days': await signed({ iat: now, exp: now + 8 * 86400 }),
    'HS512 (algorithm not allowed)': await signed({}, QA_SECRET, 'HS512'),
    garbage: 'not-a-jwt',
  }
}
