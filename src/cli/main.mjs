// `veneer`: thin wrappers over the Worker's own schema, publishing, explain and token code (SPEC 10).
import { parseArgs } from 'node:util'
import { CliError, EXIT } from './env.mjs'
import { explainCmd } from './explain-command.mjs'
import { recsCommands } from './recs-commands.mjs'
import { diff, pull, push, rollback, validate, versions } from './ruleset-commands.mjs'
import { statsCommand } from './stats-command.mjs'
import { profileToken, qaToken } from './token-commands.mjs'

const TARGET = {
  local: { type: 'boolean', desc: 'use the `wrangler dev` local state (default)' },
  remote: { type: 'boolean', desc: 'use the admin API of a running Worker' },
  url: {
    type: 'string',
    desc: 'the Worker for --remote (default $VENEER_URL or http://localhost:8787); token from $VENEER_ADMIN_TOKEN',
  },
  'persist-to': { type: 'string', desc: 'the local state folder, as for `wrangler dev --persist-to`' },
  config: { type: 'string', desc: 'wrangler.toml to read for --local (default ./wrangler.toml)' },
}
const HELP = { help: { type: 'boolean', short: 'h', desc: 'show this help' } }

const COMMANDS = {
  validate: {
    usage: 'veneer validate <file>',
    about: "Validates a ruleset file with the Worker's schema and compiler; prints every error with its JSON path, and warnings.",
    options: { json: { type: 'boolean', desc: 'print the result as JSON' } },
    run: validate,
  },
  push: {
    usage: 'veneer push <file> [--local | --remote --url <url>] [--note <text>]',
    about: 'Validates and publishes a ruleset: a new version `v<n>-<time>` written to `ruleset:v:<version>`, then `ruleset`.',
    options: { ...TARGET, note: { type: 'string', desc: 'a note kept in the version history' } },
    run: push,
  },
  pull: {
    usage: 'veneer pull [--local | --remote] [--version <v>] [--out <file>]',
    about: 'Prints the active ruleset (or a stored version) as JSON, or writes it to --out.',
    options: {
      ...TARGET,
      version: { type: 'string', desc: 'a stored version instead of the active one' },
      out: { type: 'string', desc: 'write to this file' },
    },
    run: pull,
  },
  diff: {
    usage: 'veneer diff <file> [--local | --remote]',
    about: 'A line diff of the active ruleset against a file, as pretty JSON (the server-assigned `version` ignored).',
    options: { ...TARGET, 'exit-code': { type: 'boolean', desc: 'exit 1 when there are differences' } },
    run: diff,
  },
  rollback: {
    usage: 'veneer rollback <version> [--local | --remote]',
    about: 'Makes a stored version active again (copies `ruleset:v:<version>` to `ruleset`).',
    options: TARGET,
    run: rollback,
  },
  versions: {
    usage: 'veneer versions [--local | --remote]',
    about: 'Lists the published versions, newest first, and the active one.',
    options: { ...TARGET, json: { type: 'boolean', desc: 'print JSON' } },
    run: versions,
  },
  'qa-token': {
    usage: 'veneer qa-token [--ttl 8h] [--sub <name>]',
    about: 'Mints a QA token (HS256, QA_SECRET from the environment or .dev.vars), at most 7 days. Prints only the token.',
    options: {
      ttl: { type: 'string', desc: 'lifetime: 30m, 8h, 2d or seconds (default 8h, at most 7d)' },
      sub: { type: 'string', desc: 'the subject (who it is for)' },
    },
    run: qaToken,
  },
  explain: {
    usage: 'veneer explain <context.json> [--ruleset <file>] [--local | --remote] [--json]',
    about:
      'Explains what a visitor gets: segments, and per placement the variant, the rule and the operations.\n' +
      'The context is partial JSON, e.g. {"geo":{"country":"DE"},"device":{"type":"mobile"},"time":{"hour":20},"path":"/"}.\n' +
      '--local (default) runs the same decide code in Node with the ruleset from --ruleset or local KV; --remote calls POST api/explain.',
    options: {
      ...TARGET,
      ruleset: { type: 'string', desc: 'explain this ruleset file instead of the active one' },
      json: { type: 'boolean', desc: 'print the full trace as JSON' },
    },
    run: explainCmd,
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
  ...recsCommands(TARGET),
  stats: statsCommand,
}

function helpText(name) {
  if (name === undefined) {
    const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(14)}${c.about.split('\n')[0]}`)
    return `veneer: manage Veneer rulesets, QA and test tokens.\n\nUsage: veneer <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nveneer <command> --help shows a command's options.\nExit codes: 0 ok, 1 validation or usage failure, 2 remote or I/O failure.`
  }
  const c = COMMANDS[name]
  const opts = Object.entries({ ...c.options, ...HELP }).map(
    ([k, o]) => `  --${k}${o.type === 'string' ? ' <value>' : ''}`.padEnd(26) + o.desc,
  )
  return `Usage: ${c.usage}\n\n${c.about}\n\nOptions:\n${opts.join('\n')}`
}

/** Runs the CLI; resolves to the exit code. `out`/`err` are injectable for tests. */
export async function main(
  argv,
  io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) },
) {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText(rest[0] in COMMANDS ? rest[0] : undefined))
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    io.err(`veneer: unknown command "${name}"\n\n${helpText()}`)
    return EXIT.USAGE
  }
  let parsed
  try {
    const options = Object.fromEntries(
      Object.entries({ ...command.options, ...HELP }).map(([k, o]) => [
        k,
        { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
      ]),
    )
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
  } catch (err) {
    io.err(`veneer ${name}: ${err.message}\n\n${helpText(name)}`)
    return EXIT.USAGE
  }
  if (parsed.values.help) {
    io.out(helpText(name))
    return EXIT.OK
  }
  try {
    return (await command.run(parsed.positionals, parsed.values, io)) ?? EXIT.OK
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`veneer ${name}: ${err.message}`)
      return err.code
    }
    io.err(`veneer ${name}: unexpected failure: ${err?.stack ?? err}`)
    return EXIT.IO
  }
}
