// `veneer segments discover` (SPEC 15): the logic is src/segments/cli.ts (Worker-typed); this
// gives it Node's file access and the local D1 of the host project's `wrangler dev` state.
import { readFileSync } from 'node:fs'
import { segmentsCommands as makeSegmentsCommands, type WithLocalDb } from '../segments/cli'
import { CliError, type Command, EXIT } from './io'
import { withLocalRules } from './local'

const withLocalDb: WithLocalDb = (flags, fn) =>
  withLocalRules(flags, (_store, env) => {
    const db = env.DB as D1Database | undefined
    if (db === undefined) throw new CliError(EXIT.USAGE, 'the wrangler config has no D1 database bound as DB')
    return fn(db)
  })

export const segmentsCommands: Record<string, Command> = makeSegmentsCommands({
  withLocalDb,
  readText: (path) => readFileSync(path, 'utf8'),
  env: process.env,
})
