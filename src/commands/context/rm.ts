import { Command } from 'commander';
import { requireContext, writeUserConfig } from '../../config/user-config.js';
import type { Factory } from '../../factory.js';
import { addJsonOptions, jsonChoice } from '../../io/json-fields.js';
import { CONTEXT_FIELDS, viewContext, writeContextJson } from './shared.js';

export function newContextRmCommand(f: Factory): Command {
  const command = new Command('rm').summary('delete a context').argument('<name>', 'context name');
  return addJsonOptions(command, CONTEXT_FIELDS, 'print the deleted context as JSON')
    .addHelpText('after', '\nExamples:\n  $ mq context rm old-staging')
    .action(async (name: string, flags: { json: boolean; fields?: string }) => {
      const json = jsonChoice(flags, CONTEXT_FIELDS);
      const config = await f.userConfig();
      const removed = requireContext(config, name);
      const { [name]: _removed, ...contexts } = config.contexts;
      const { current, ...rest } = config;
      const stillCurrent = current !== undefined && current !== name ? { current } : {};
      await writeUserConfig(f.userConfigPath(), { ...rest, ...stillCurrent, contexts });
      f.io.notice(
        `deleted context "${name}"${current === name ? '; mq now uses the local broker by default' : ''}`,
      );
      writeContextJson(f, viewContext(name, removed, false), json);
    });
}
