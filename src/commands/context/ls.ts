import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { printRows } from '../../io/table.js';
import { viewContext } from './shared.js';

export function newContextLsCommand(f: Factory): Command {
  return new Command('ls')
    .summary('list contexts (the current one is marked)')
    .option('--json', 'print JSON', false)
    .addHelpText('after', '\nExamples:\n  $ mq context ls\n  $ mq context ls --json')
    .action(async (flags: { json: boolean }) => {
      const config = await f.userConfig();
      const views = Object.entries(config.contexts).map(([name, context]) =>
        viewContext(name, context, name === config.current),
      );
      if (flags.json) {
        f.io.out.write(`${JSON.stringify(views)}\n`);
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
