import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { newDlqLsCommand } from './ls.js';
import { newDlqShowCommand } from './show.js';

export function newDlqCommand(f: Factory): Command {
  return new Command('dlq')
    .summary("look into a queue's dead letters")
    .description(
      "Reads the dead-letter queue of a queue, found from the queue's dead-letter arguments and\n" +
        'bindings or from mq.config.json, and decodes each death record (reason, count, origin).\n' +
        'Nothing here removes a message.',
    )
    .addCommand(newDlqLsCommand(f))
    .addCommand(newDlqShowCommand(f))
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq dlq ls sms_service_queue\n  $ mq dlq show sms_service_queue 3f2a9c1e',
    );
}
