import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { addJsonOptions, jsonChoice } from '../../io/json-fields.js';
import { CHANGE_FIELDS, printChanges, summarise, topologyTarget } from './shared.js';

export function newTopologyPlanCommand(f: Factory): Command {
  const command = new Command('plan').summary('show what apply would declare; changes nothing');
  return addJsonOptions(command, CHANGE_FIELDS, 'print the changes as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq topology plan\n  $ mq --broker amqp://localhost topology plan --json',
    )
    .action(async (flags: { json: boolean; fields?: string }) => {
      const json = jsonChoice(flags, CHANGE_FIELDS);
      const { management, declared } = await topologyTarget(f);
      const changes = await management.plan(declared);
      printChanges(f, changes, json);
      f.io.notice(`plan: ${summarise(changes)}; nothing was changed`);
    });
}
