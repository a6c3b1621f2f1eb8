// Token commands: qa-token (QA_SECRET) and profile-token (PROFILE_SECRET), for testing.
import { CliError, EXIT, secret } from './env.mjs'
import { lib } from './shared.mjs'

export async function qaToken(positionals, flags, io) {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, 'qa-token takes no arguments (see veneer qa-token --help)')
  const key = secret('QA_SECRET')
  if (key === undefined) throw new CliError(EXIT.USAGE, 'QA_SECRET is not set (environment or .dev.vars)')
  const { parseTtl, mintQaToken, MAX_QA_TTL_SECONDS } = await lib()
  const ttl = parseTtl(flags.ttl ?? '8h')
  if (ttl === undefined) throw new CliError(EXIT.USAGE, `--ttl ${flags.ttl} is not a duration (30m, 8h, 2d or seconds)`)
  if (ttl > MAX_QA_TTL_SECONDS) throw new CliError(EXIT.USAGE, '--ttl is at most 7d')
  io.out(await mintQaToken(key, ttl, flags.sub ?? 'qa'))
  io.err(`valid until ${new Date(Date.now() + ttl * 1000).toISOString()}; send it as x-veneer-qa, or open /__veneer/qa?token=…`)
  return EXIT.OK
}

function claimValue(raw) {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

export async function profileToken(positionals, flags, io) {
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, 'profile-token takes no arguments (see veneer profile-token --help)')
  const key = secret('PROFILE_SECRET')
  if (key === undefined) throw new CliError(EXIT.USAGE, 'PROFILE_SECRET is not set (environment or .dev.vars)')
  const claims = {}
  for (const c of flags.claim ?? []) {
    const i = c.indexOf('=')
    if (i <= 0) throw new CliError(EXIT.USAGE, `--claim ${c}: expected name=value`)
    const name = c.slice(0, i)
    if (['exp', 'iat', 'nbf'].includes(name)) throw new CliError(EXIT.USAGE, `--claim ${name}: set times with --ttl`)
    claims[name] = claimValue(c.slice(i + 1))
  }
  const { parseTtl, mintTestProfileToken } = await lib()
  const ttl = parseTtl(flags.ttl ?? '1h')
  if (ttl === undefined) throw new CliError(EXIT.USAGE, `--ttl ${flags.ttl} is not a duration`)
  io.out(await mintTestProfileToken(key, claims, ttl, { subject: flags.sub, issuer: flags.iss, audience: flags.aud }))
  io.err(`valid until ${new Date(Date.now() + ttl * 1000).toISOString()}; set it as the veneer_profile cookie`)
  return EXIT.OK
}
