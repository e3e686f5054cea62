import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { newContextAddCommand } from './add.js';
import { newContextLsCommand } from './ls.js';
import { newContextRmCommand } from './rm.js';
import { newContextShowCommand } from './show.js';
import { newContextUseCommand } from './use.js';

export function newContextCommand(f: Factory): Command {
  return new Command('context')
    .summary('manage named broker connections')
    .description(
      'Contexts live in $MQ_CONFIG, else $XDG_CONFIG_HOME/mq/config.json (mode 0600). Passwords are stored\n' +
        'there or written as ${VAR} references expanded when the context is used; they are never printed.',
    )
    .addCommand(newContextAddCommand(f))
    .addCommand(newContextUseCommand(f))
    .addCommand(newContextLsCommand(f))
    .addCommand(newContextRmCommand(f))
    .addCommand(newContextShowCommand(f))
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq context add dev amqp://localhost --use\n  $ mq context ls',
    );
}
