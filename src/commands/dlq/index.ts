import { Command } from 'commander';
import type { Factory } from '../../factory.js';
import { newDlqLsCommand } from './ls.js';
import { newDlqShowCommand } from './show.js';
import { newDlqRedriveCommand } from './redrive.js';
import { newDlqPurgeCommand } from './purge.js';

export function newDlqCommand(f: Factory): Command {
  return new Command('dlq')
    .summary("list, redrive and purge a queue's dead letters")
    .description(
      "Reads the dead-letter queue of a queue, found from the queue's dead-letter arguments and\n" +
        'bindings or from mq.config.json, and decodes each death record (reason, count, origin).\n' +
        'ls and show remove nothing; redrive moves dead letters back where they died; purge deletes them.',
    )
    .addCommand(newDlqLsCommand(f))
    .addCommand(newDlqShowCommand(f))
    .addCommand(newDlqRedriveCommand(f))
    .addCommand(newDlqPurgeCommand(f))
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq dlq ls sms_service_queue\n  $ mq dlq show sms_service_queue 3f2a9c1e\n  $ mq dlq redrive sms_service_queue --dry-run\n  $ mq dlq redrive sms_service_queue --yes\n  $ mq dlq purge sms_service_queue --yes',
    );
}
