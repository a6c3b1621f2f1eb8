// `veneer`: thin wrappers over the Worker's own schema, publishing, explain and token code (SPEC 10).
import { parseArgs } from 'node:util'
import { COMMANDS } from './commands'
import { CliError, type Command, EXIT, type Flags, type Io, type OptionSpec } from './io'

const HELP: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h', desc: 'show this help' } }

function commandOf(name: string | undefined): Command | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
}

function helpText(name?: string): string {
  const c = commandOf(name)
  if (c === undefined) {
    const lines = Object.entries(COMMANDS).map(([n, cmd]) => `  ${n.padEnd(14)}${cmd.about.split('\n')[0]}`)
    return `veneer: manage Veneer rulesets, QA and test tokens.\n\nUsage: veneer <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nveneer <command> --help shows a command's options.\nExit codes: 0 ok, 1 validation or usage failure, 2 remote or I/O failure.`
  }
  const opts = Object.entries({ ...c.options, ...HELP }).map(
    ([k, o]) => `  --${k}${o.type === 'string' ? ' <value>' : ''}`.padEnd(26) + o.desc,
  )
  return `Usage: ${c.usage}\n\n${c.about}\n\nOptions:\n${opts.join('\n')}`
}

const stdio: Io = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
}

/** Runs the CLI; resolves to the exit code. `io` is injectable for tests. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  // Two-word commands (`lists push`) first, then one-word ones.
  const twoWords = argv.length >= 2 ? `${argv[0]} ${argv[1]}` : undefined
  const words = twoWords !== undefined && commandOf(twoWords) !== undefined ? [twoWords, ...argv.slice(2)] : argv
  const name = words[0]
  const rest = words.slice(1)
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText(rest.length >= 2 && commandOf(`${rest[0]} ${rest[1]}`) ? `${rest[0]} ${rest[1]}` : rest[0]))
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const command = commandOf(name)
  if (command === undefined) {
    io.err(`veneer: unknown command "${name}"\n\n${helpText()}`)
    return EXIT.USAGE
  }
  let parsed: { values: Flags; positionals: string[] }
  try {
    const options = Object.fromEntries(
      Object.entries({ ...command.options, ...HELP }).map(([k, o]) => [
        k,
        { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
      ]),
    )
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
  } catch (err) {
    io.err(`veneer ${name}: ${err instanceof Error ? err.message : String(err)}\n\n${helpText(name)}`)
    return EXIT.USAGE
  }
  if (parsed.values.help === true) {
    io.out(helpText(name))
    return EXIT.OK
  }
  try {
    return await command.run(parsed.positionals, parsed.values, io)
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`veneer ${name}: ${err.message}`)
      return err.code
    }
    io.err(`veneer ${name}: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    return EXIT.IO
  }
}
