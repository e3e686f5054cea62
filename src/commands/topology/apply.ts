import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { addJsonOptions, jsonChoice } from '../../io/json-fields.js';
import { CHANGE_FIELDS, printChanges, summarise, topologyTarget } from './shared.js';

export function newTopologyApplyCommand(f: Factory): Command {
  const command = new Command('apply').summary(
    "declare the project file's exchanges, queues, bindings and topics (idempotent)",
  );
  return addJsonOptions(command, CHANGE_FIELDS, 'print the changes as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq topology apply\n  $ mq --broker amqp://localhost --config mq.config.json topology apply',
    )
    .action(async (flags: { json: boolean; fields?: string }) => {
      const json = jsonChoice(flags, CHANGE_FIELDS);
      const { management, declared, projectPath } = await topologyTarget(f);
      const changes = await management.apply(declared);
      printChanges(f, changes, json);
      f.io.notice(`applied ${projectPath}: ${summarise(changes)}`);
    });
}
