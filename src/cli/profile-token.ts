import { SignJWT } from 'jose'

/**
 * Mints a site profile token (`veneer_profile`, SPEC 5) for testing: HS256 with PROFILE_SECRET,
 * `exp` always set. Sites mint these in their own backend; this is the CLI's stand-in until
 * `src/identity/profile-token.ts` (issue 3) is on the branch.
 * @example await mintTestProfileToken(secret, { tier: 'gold' }, 3600)
 */
export async function mintTestProfileToken(secret: string, claims: Record<string, unknown>, ttlSeconds: number, options: { subject?: string; kid?: string } = {}): Promise<string> {
  if (secret === '') throw new TypeError('PROFILE_SECRET is empty')
  if (!(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) throw new RangeError('ttl must be a positive number of seconds')
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...claims }).setProtectedHeader(options.kid === undefined ? { alg: 'HS256', typ: 'JWT' } : { alg: 'HS256', typ: 'JWT', kid: options.kid }).setIssuedAt(now).setExpirationTime(now + ttlSeconds)
  if (options.subject !== undefined) jwt.setSubject(options.subject)
  return jwt.sign(new TextEncoder().encode(secret))
}
