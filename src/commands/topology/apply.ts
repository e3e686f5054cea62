import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { printChanges, summarise, topologyTarget } from './shared.js';

export function newTopologyApplyCommand(f: Factory): Command {
  return new Command('apply')
    .summary("declare the project file's exchanges, queues, bindings and topics (idempotent)")
    .option('--json', 'print the changes as JSON', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq topology apply\n  $ mq --broker amqp://localhost --config mq.config.json topology apply',
    )
    .action(async (flags: { json: boolean }) => {
      const { management, declared, projectPath } = await topologyTarget(f);
      const changes = await management.apply(declared);
      printChanges(f, changes, flags.json);
      f.io.notice(`applied ${projectPath}: ${summarise(changes)}`);
    });
}
