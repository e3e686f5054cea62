import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { newTopologyApplyCommand } from './apply.js';
import { newTopologyExportCommand } from './export.js';
import { newTopologyPlanCommand } from './plan.js';

export function newTopologyCommand(f: Factory): Command {
  return new Command('topology')
    .summary("declare the project file's topology, see what would change, or export the broker's")
    .description(
      'Compares mq.config.json with the broker. plan changes nothing; apply creates what is missing and\n' +
        'refuses (exit 2) a conflicting existing queue, naming the arguments that differ. The embedded local\n' +
        'broker applies the project file on open, so there plan shows what it holds. export writes the\n' +
        "broker's live topology as a project file that apply round-trips.",
    )
    .addCommand(newTopologyPlanCommand(f))
    .addCommand(newTopologyApplyCommand(f))
    .addCommand(newTopologyExportCommand(f))
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq topology plan\n  $ mq topology apply\n  $ mq topology export > mq.config.json',
    );
}
