import { Command } from 'commander';
import { requireCapability } from '../../brokers/types.js';
import { InterruptedError } from '../../errors.js';
import type { Factory } from '../../factory.js';
import { writeJson } from '../../io/json.js';
import { sanitizeLine } from '../../message/sanitize.js';
import { createMessagePrinter } from '../shared/messages.js';
import { confirmChange, deadLetterSource } from './shared.js';

interface PurgeFlags {
  filter?: string;
  yes: boolean;
  json: boolean;
}

/** Messages taken ahead of the deletions (the broker's prefetch). */
const WINDOW = 500;

export function newDlqPurgeCommand(f: Factory): Command {
  return new Command('purge')
    .summary("delete a queue's dead letters")
    .description(
      'Deletes the dead letters of a queue: all of them, or with --filter those matching a condition\n' +
        '(the others stay, in their places). Only those there at the start are deleted; asks first on a\n' +
        'terminal, needs --yes otherwise.',
    )
    .argument('<queue>', 'the queue whose dead letters to delete, or its dead-letter queue')
    .option(
      '--filter <expr>',
      'delete only messages matching a CEL condition, e.g. \'death.reason == "expired"\'',
    )
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)', false)
    .option('--json', 'print the result as JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mq dlq purge sms_service_queue --yes
  $ mq dlq purge sms_service_queue --filter 'death.reason == "expired"' --yes`,
    )
    .action(async (queue: string, flags: PurgeFlags) => {
      const source = await deadLetterSource(f, queue);
      const handling = requireCapability(source.broker, 'deadLetters');
      const printer = await createMessagePrinter({
        io: f.io,
        broker: source.broker.kind,
        output: { mode: 'json', fields: null },
        filter: flags.filter,
        format: undefined,
      });
      const depth = source.depth ?? 0;
      const which = flags.filter === undefined ? 'all' : 'those matching the filter of the';
      if (depth > 0) {
        await confirmChange(f, {
          yes: flags.yes,
          refusal: `purge deletes up to ${depth} message(s)`,
          hint: `see them first: mq dlq ls ${queue}`,
          question: `Delete ${which} ${depth} dead letter(s) in ${source.deadLetterQueue}? This cannot be undone.`,
          declined: 'nothing was deleted',
        });
      }
      let deleted = 0;
      let kept = 0;
      if (depth > 0) {
        const holding = handling.hold(source.deadLetterQueue, {
          signal: f.signal,
          limit: depth,
          window: WINDOW,
        });
        try {
          for await (const delivery of holding) {
            if (printer.matches(printer.envelope(delivery.message))) {
              await delivery.ack();
              deleted += 1;
            } else {
              // Held until close(), so that it is not taken again; then back in its place.
              kept += 1;
            }
          }
        } finally {
          await holding.close();
        }
      }
      if (flags.json) writeJson(f.io, { deadLetterQueue: source.deadLetterQueue, deleted, kept });
      f.io.notice(
        sanitizeLine(
          `deleted ${deleted} dead letter(s) from ${source.deadLetterQueue}${kept > 0 ? `; ${kept} not matching the filter stay` : ''}`,
        ),
      );
      if (f.signal.aborted) throw new InterruptedError('interrupted: the rest were not deleted');
    });
}
