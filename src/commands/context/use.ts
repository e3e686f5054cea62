import { Command } from 'commander';
import { requireContext, writeUserConfig } from '../../config/user-config.js';
import type { Factory } from '../../factory.js';

export function newContextUseCommand(f: Factory): Command {
  return new Command('use')
    .summary('make a context the current one')
    .argument('<name>', 'context name')
    .addHelpText('after', '\nExamples:\n  $ mq context use prod')
    .action(async (name: string) => {
      const config = await f.userConfig();
      requireContext(config, name);
      await writeUserConfig(f.userConfigPath(), { ...config, current: name });
      f.io.notice(`current context is now "${name}"`);
    });
}
