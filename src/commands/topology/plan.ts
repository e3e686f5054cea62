import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { printChanges, summarise, topologyTarget } from './shared.js';

export function newTopologyPlanCommand(f: Factory): Command {
  return new Command('plan')
    .summary('show what apply would declare; changes nothing')
    .option('--json', 'print the changes as JSON', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq topology plan\n  $ mq --broker amqp://localhost topology plan --json',
    )
    .action(async (flags: { json: boolean }) => {
      const { management, declared } = await topologyTarget(f);
      const changes = await management.plan(declared);
      printChanges(f, changes, flags.json);
      f.io.notice(`plan: ${summarise(changes)}; nothing was changed`);
    });
}
