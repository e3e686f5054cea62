import { Command } from 'commander';
import { requireContext, writeUserConfig } from '../../config/user-config.js';
import type { Factory } from '../../factory.js';
import { addJsonOptions, jsonChoice } from '../../io/json-fields.js';
import { CONTEXT_FIELDS, viewContext, writeContextJson } from './shared.js';

export function newContextUseCommand(f: Factory): Command {
  const command = new Command('use')
    .summary('make a context the current one')
    .argument('<name>', 'context name');
  return addJsonOptions(command, CONTEXT_FIELDS, 'print the context as JSON')
    .addHelpText('after', '\nExamples:\n  $ mq context use prod')
    .action(async (name: string, flags: { json: boolean; fields?: string }) => {
      const json = jsonChoice(flags, CONTEXT_FIELDS);
      const config = await f.userConfig();
      const context = requireContext(config, name);
      await writeUserConfig(f.userConfigPath(), { ...config, current: name });
      f.io.notice(`current context is now "${name}"`);
      writeContextJson(f, viewContext(name, context, true), json);
    });
}
