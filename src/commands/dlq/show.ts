import { Command } from 'commander';
import { NotFoundError, UsageError } from '../../errors.js';
import type { Factory } from '../../factory.js';
import { sanitizeLine } from '../../message/sanitize.js';
import {
  addMessageOutputOptions,
  asksForMessages,
  createMessagePrinter,
  messageOutputOf,
  type MessageOutputFlags,
} from '../shared/messages.js';
import { deadLetterSource, idMatches } from './shared.js';

/** What a browse reads when the broker cannot say how deep the dead-letter queue is. */
const UNKNOWN_DEPTH_LIMIT = 100_000;

export function newDlqShowCommand(f: Factory): Command {
  const command = new Command('show')
    .summary('show one dead letter in full')
    .description(
      'Finds a dead letter by its id, or a prefix of it that only it has (mq dlq ls shows 8\n' +
        'characters), and prints it whole with its decoded death record. It reads the dead-letter queue\n' +
        'from the front (on RabbitMQ a browse of every message before it) and removes nothing.',
    )
    .argument('<queue>', 'the queue whose dead letters to search, or its dead-letter queue')
    .argument('<id>', 'the message id, or a prefix of it that only it has');
  return addMessageOutputOptions(command, { filter: false })
    .addHelpText(
      'after',
      `
Examples:
  $ mq dlq show sms_service_queue 3f2a9c1e
  $ mq dlq show sms_service_queue 3f2a9c1e --json`,
    )
    .action(async (queue: string, id: string, flags: MessageOutputFlags) => {
      const output = messageOutputOf(flags);
      const source = await deadLetterSource(f, queue);
      const printer = await createMessagePrinter({
        io: f.io,
        broker: source.broker.kind,
        output: asksForMessages(flags) ? output : { mode: 'pretty', fields: null },
        filter: undefined,
        format: flags.format,
      });
      const messages = await source.inspection.peek(source.deadLetterQueue, {
        limit: Math.max(1, source.depth ?? UNKNOWN_DEPTH_LIMIT),
        signal: f.signal,
      });
      const candidates = messages
        .map((message) => printer.envelope(message))
        .filter((envelope) => idMatches(envelope.id, id));
      // A whole id wins over ids it is a prefix of (`h` and `h#2`, copies of one message).
      const exact = candidates.filter((envelope) => envelope.id === id);
      const found = exact.length > 0 ? exact.slice(0, 1) : candidates;
      if (found.length === 0) {
        throw new NotFoundError(
          sanitizeLine(`no dead letter with id ${id} in ${source.deadLetterQueue}`),
          { hint: `mq dlq ls ${queue} lists them` },
        );
      }
      if (found.length > 1 && !found.every((envelope) => envelope.id === found[0]!.id)) {
        throw new UsageError(
          sanitizeLine(
            `${found.length} dead letters in ${source.deadLetterQueue} have ids starting ${id}`,
          ),
          { hint: 'give more characters of the id' },
        );
      }
      for (const envelope of found) await printer.print(envelope);
    });
}
