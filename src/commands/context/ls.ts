import { Command } from 'commander';
import { writeJson } from '../../io/json.js';
import type { Factory } from '../../factory.js';
import { printRows } from '../../io/table.js';
import { CONTEXT_FIELDS, viewContext } from './shared.js';
import { addJsonOptions, jsonChoice, pickFields } from '../../io/json-fields.js';

export function newContextLsCommand(f: Factory): Command {
  const command = new Command('ls').summary('list contexts (the current one is marked)');
  return addJsonOptions(command, CONTEXT_FIELDS)
    .addHelpText('after', '\nExamples:\n  $ mq context ls\n  $ mq context ls --json')
    .action(async (flags: { json: boolean; fields?: string }) => {
      const { json, fields } = jsonChoice(flags, CONTEXT_FIELDS);
      const config = await f.userConfig();
      const views = Object.entries(config.contexts).map(([name, context]) =>
        viewContext(name, context, name === config.current),
      );
      if (json) {
        writeJson(
          f.io,
          views.map((view) => pickFields(view, fields)),
        );
        return;
      }
      if (views.length === 0) {
        f.io.status('no contexts yet: mq context add <name> <url>');
        return;
      }
      await printRows(
        f.io,
        ['', 'NAME', 'KIND', 'BROKER'],
        views.map((v) => [v.current ? '*' : '', v.name, v.kind, v.broker]),
      );
    });
}
