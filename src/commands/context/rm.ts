import { Command } from 'commander';
import { requireContext, writeUserConfig } from '../../config/user-config.js';
import type { Factory } from '../../factory.js';

export function newContextRmCommand(f: Factory): Command {
  return new Command('rm')
    .summary('delete a context')
    .argument('<name>', 'context name')
    .addHelpText('after', '\nExamples:\n  $ mq context rm old-staging')
    .action(async (name: string) => {
      const config = await f.userConfig();
      requireContext(config, name);
      const { [name]: _removed, ...contexts } = config.contexts;
      const { current, ...rest } = config;
      const stillCurrent = current !== undefined && current !== name ? { current } : {};
      await writeUserConfig(f.userConfigPath(), { ...rest, ...stillCurrent, contexts });
      f.io.notice(
        `deleted context "${name}"${current === name ? '; mq now uses the local broker by default' : ''}`,
      );
    });
}
