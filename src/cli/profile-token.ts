import { mintProfileToken } from '../identity/profile-token'

/**
 * Mints a site profile token (`veneer_profile`, SPEC 5) for testing: HS256 with PROFILE_SECRET,
 * `exp` always set — the same `mintProfileToken` site owners can call from their backend.
 * @example await mintTestProfileToken(secret, { tier: 'gold' }, 3600)
 */
export async function mintTestProfileToken(
  secret: string,
  claims: Record<string, unknown>,
  ttlSeconds: number,
  options: { subject?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  if (secret === '') throw new TypeError('PROFILE_SECRET is empty')
  return mintProfileToken({ secret, claims, ttlSeconds, ...options })
}
