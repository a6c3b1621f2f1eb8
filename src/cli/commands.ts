// Every `veneer` command, by name. A new command is one module exporting a table like these and
// one line here; `veneer --help` lists them in this order. A name may be two words
// (`lists push`): `veneer lists push …` finds it.
import { explainCommands } from './explain-command'
import type { Command } from './io'
import { listCommands } from './list-commands'
import { recsCommands } from './recs-commands'
import { rulesetCommands } from './ruleset-commands'
import { segmentsCommands } from './segments-command'
import { statsCommands } from './stats-command'
import { tokenCommands } from './token-commands'

export const COMMANDS: Readonly<Record<string, Command>> = {
  ...rulesetCommands,
  ...tokenCommands,
  ...explainCommands,
  ...statsCommands,
  ...recsCommands,
  ...segmentsCommands,
  ...listCommands,
}
