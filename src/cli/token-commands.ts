// Token commands: qa-token (QA_SECRET) and profile-token (PROFILE_SECRET), for testing.
import { MAX_QA_TTL_SECONDS, mintQaToken, parseTtl } from '../qa/token'
import { CliError, type Command, EXIT, type Flags, type Io, list, secret, str } from './io'
import { mintTestProfileToken } from './profile-token'
import { none } from './shared'

async function qaToken(positionals: string[], flags: Flags, io: Io): Promise<number> {
  none(positionals, 'qa-token')
  const key = secret('QA_SECRET')
  if (key === undefined) throw new CliError(EXIT.USAGE, 'QA_SECRET is not set (environment or .dev.vars)')
  const ttlText = str(flags, 'ttl') ?? '8h'
  const ttl = parseTtl(ttlText)
  if (ttl === undefined) throw new CliError(EXIT.USAGE, `--ttl ${ttlText} is not a duration (30m, 8h, 2d or seconds)`)
  if (ttl > MAX_QA_TTL_SECONDS) throw new CliError(EXIT.USAGE, '--ttl is at most 7d')
  io.out(await mintQaToken(key, ttl, str(flags, 'sub') ?? 'qa'))
  io.err(`valid until ${new Date(Date.now() + ttl * 1000).toISOString()}; send it as x-veneer-qa, or open /__veneer/qa?token=…`)
  return EXIT.OK
}

function claimValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return raw
  }
}

async function profileToken(positionals: string[], flags: Flags, io: Io): Promise<number> {
  none(positionals, 'profile-token')
  const key = secret('PROFILE_SECRET')
  if (key === undefined) throw new CliError(EXIT.USAGE, 'PROFILE_SECRET is not set (environment or .dev.vars)')
  const claims: Record<string, unknown> = {}
  for (const c of list(flags, 'claim')) {
    const i = c.indexOf('=')
    if (i <= 0) throw new CliError(EXIT.USAGE, `--claim ${c}: expected name=value`)
    const name = c.slice(0, i)
    if (['exp', 'iat', 'nbf'].includes(name)) throw new CliError(EXIT.USAGE, `--claim ${name}: set times with --ttl`)
    claims[name] = claimValue(c.slice(i + 1))
  }
  const ttlText = str(flags, 'ttl') ?? '1h'
  const ttl = parseTtl(ttlText)
  if (ttl === undefined) throw new CliError(EXIT.USAGE, `--ttl ${ttlText} is not a duration`)
  const options = { subject: str(flags, 'sub'), issuer: str(flags, 'iss'), audience: str(flags, 'aud') }
  io.out(await mintTestProfileToken(key, claims, ttl, options))
  io.err(`valid until ${new Date(Date.now() + ttl * 1000).toISOString()}; set it as the veneer_profile cookie`)
  return EXIT.OK
}

export const tokenCommands: Record<string, Command> = {
  'qa-token': {
    usage: 'veneer qa-token [--ttl 8h] [--sub <name>]',
    about: 'Mints a QA token (HS256, QA_SECRET from the environment or .dev.vars), at most 7 days. Prints only the token.',
    options: {
      ttl: { type: 'string', desc: 'lifetime: 30m, 8h, 2d or seconds (default 8h, at most 7d)' },
      sub: { type: 'string', desc: 'the subject (who it is for)' },
    },
    run: qaToken,
  },
  'profile-token': {
    usage:
      'veneer profile-token --claim tier=gold [--claim interests=["run"]] [--ttl 1h] [--sub <id>] [--iss <issuer>] [--aud <audience>]',
    about:
      'Mints a site profile token (veneer_profile) for testing: HS256 with PROFILE_SECRET from the environment or .dev.vars.\n' +
      'Claim values are JSON when they parse as JSON, else strings. Prints only the token.',
    options: {
      claim: { type: 'string', multiple: true, desc: 'a claim, name=value (repeatable)' },
      ttl: { type: 'string', desc: 'lifetime (default 1h)' },
      sub: { type: 'string', desc: 'the subject' },
      iss: { type: 'string', desc: 'the issuer (settings.profile.issuer)' },
      aud: { type: 'string', desc: 'the audience (settings.profile.audience)' },
    },
    run: profileToken,
  },
}
