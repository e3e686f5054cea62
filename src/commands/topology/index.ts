import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { newTopologyApplyCommand } from './apply.js';
import { newTopologyPlanCommand } from './plan.js';

export function newTopologyCommand(f: Factory): Command {
  return new Command('topology')
    .summary("declare the project file's topology, or see what would change")
    .description(
      'Compares mq.config.json with the broker. plan changes nothing; apply creates what is missing and\n' +
        'refuses (exit 2) a conflicting existing queue, naming the arguments that differ. The embedded local\n' +
        'broker applies the project file on open, so there plan shows what it holds.',
    )
    .addCommand(newTopologyPlanCommand(f))
    .addCommand(newTopologyApplyCommand(f))
    .addHelpText('after', '\nExamples:\n  $ mq topology plan\n  $ mq topology apply');
}
