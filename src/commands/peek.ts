import { Command } from 'commander';
import { requireCapability } from '../brokers/types.js';
import { parsePositiveInt } from '../config/parse-args.js';
import type { Factory } from '../factory.js';
import {
  addMessageOutputOptions,
  createMessagePrinter,
  messageOutputOf,
  type MessageOutput,
  type MessageOutputFlags,
} from './shared/messages.js';

export interface PeekOptions {
  f: Factory;
  source: string;
  limit: number;
  force: boolean;
  output: MessageOutput;
  filter: string | undefined;
  format: string | undefined;
}

interface PeekFlags extends MessageOutputFlags {
  number: number;
  force: boolean;
}

export function newPeekCommand(f: Factory, runF = peekRun): Command {
  const command = new Command('peek')
    .summary('show waiting messages without removing them')
    .description(
      'Shows the first messages waiting in a queue (the last N of a Kafka topic) and leaves them there.\n' +
        'On RabbitMQ, browsing a quorum queue before 4.3 would spend a delivery of every message shown:\n' +
        'mq refuses (exit 2) unless --force.',
    )
    .argument('<source>', 'queue or topic')
    .option('-n, --number <n>', 'how many messages to show', parsePositiveInt, 10)
    .option(
      '--force',
      'browse even where it spends a delivery (RabbitMQ quorum queues before 4.3)',
      false,
    );
  return addMessageOutputOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ mq peek email_service_queue
  $ mq peek email_service_queue -n 1 --json
  $ mq peek email_service_queue --filter 'json.totalAmount > 50' --format '{id} {json.orderId}'`,
    )
    .action(async (source: string, flags: PeekFlags) => {
      await runF({
        f,
        source,
        limit: flags.number,
        force: flags.force,
        output: messageOutputOf(flags),
        filter: flags.filter,
        format: flags.format,
      });
    });
}

export async function peekRun(opts: PeekOptions): Promise<void> {
  const { f } = opts;
  const broker = await f.broker();
  const printer = await createMessagePrinter({
    io: f.io,
    broker: broker.kind,
    output: opts.output,
    filter: opts.filter,
    format: opts.format,
  });
  const messages = await requireCapability(broker, 'inspection').peek(opts.source, {
    limit: opts.limit,
    force: opts.force,
    signal: f.signal,
  });
  let shown = 0;
  for (const message of messages) {
    const envelope = printer.envelope(message);
    if (!printer.matches(envelope)) continue;
    await printer.print(envelope);
    shown += 1;
  }
  f.io.status(
    f.io.colors.dim(
      messages.length === 0
        ? `${opts.source} has no waiting messages`
        : `${shown} message(s) shown from ${opts.source}; nothing was removed`,
    ),
  );
}
