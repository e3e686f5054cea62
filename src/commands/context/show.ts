import { Command } from 'commander';
import { requireContext } from '../../config/user-config.js';
import { NotFoundError } from '../../errors.js';
import { writeJson } from '../../io/json.js';
import type { Factory } from '../../factory.js';
import { CONTEXT_FIELDS, viewContext } from './shared.js';
import { addJsonOptions, jsonChoice, pickFields } from '../../io/json-fields.js';

export function newContextShowCommand(f: Factory): Command {
  const command = new Command('show')
    .summary('show one context, passwords masked (default: the current one)')
    .argument('[name]', 'context name');
  return addJsonOptions(command, CONTEXT_FIELDS)
    .addHelpText('after', '\nExamples:\n  $ mq context show prod --json')
    .action(async (name: string | undefined, flags: { json: boolean; fields?: string }) => {
      const { json, fields } = jsonChoice(flags, CONTEXT_FIELDS);
      const config = await f.userConfig();
      const chosen = name ?? config.current;
      if (chosen === undefined) {
        throw new NotFoundError('no current context', {
          hint: 'name one, or pick one with mq context use <name>',
        });
      }
      const view = viewContext(chosen, requireContext(config, chosen), chosen === config.current);
      if (json) {
        writeJson(f.io, pickFields(view, fields));
        return;
      }
      const lines = [
        ['name', view.name + (view.current ? ' (current)' : '')],
        ['kind', view.kind],
        ['broker', view.broker],
        ...(view.password === null ? [] : [['password', view.password]]),
        ...view.nodes.map((node) => ['node', node]),
        ...(view.managementUrl === null ? [] : [['management', view.managementUrl]]),
        ...(view.tls === null ? [] : [['tls', JSON.stringify(view.tls)]]),
      ];
      f.io.out.write(lines.map(([key, value]) => `${key}\t${value}\n`).join(''));
    });
}
