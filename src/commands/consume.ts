import { Command, Option } from 'commander';
import { requireCapability, type BrokerAdapter, type Delivery } from '../brokers/types.js';
import { parseDuration, parsePositiveInt } from '../config/parse-args.js';
import { InterruptedError, RefusedError, TimeoutError, UsageError } from '../errors.js';
import type { Factory } from '../factory.js';
import type { ChoiceKey } from '../io/prompter.js';
import { deadline } from './shared/deadline.js';
import {
  addMessageOutputOptions,
  createMessagePrinter,
  messageOutputOf,
  type MessageOutput,
  type MessageOutputFlags,
} from './shared/messages.js';

/** What happens to each message: a flag for all of them, or a person's answer per message. */
export type SettleMode = 'ack' | 'requeue' | 'reject' | 'interactive';
type Answer = 'ack' | 'requeue' | 'reject' | 'skip' | 'quit';

export interface ConsumeOptions {
  f: Factory;
  source: string;
  settle: SettleMode;
  count: number | undefined;
  timeoutMs: number | undefined;
  prefetch: number;
  force: boolean;
  /** Kafka consumer group. */
  group: string | undefined;
  sessionTimeoutMs: number | undefined;
  output: MessageOutput;
  format: string | undefined;
}

interface ConsumeFlags extends MessageOutputFlags {
  ack: boolean;
  requeue: boolean;
  reject: boolean;
  interactive: boolean;
  count?: number;
  timeout?: number;
  prefetch?: number;
  force: boolean;
  group?: string;
  sessionTimeout?: number;
}

export function newConsumeCommand(f: Factory, runF = consumeRun): Command {
  const command = new Command('consume')
    .summary('take messages and settle each: ack, requeue, reject (dead-letter) or ask')
    .description(
      'Takes messages from a queue and settles each one. Without a terminal one of --ack, --requeue or\n' +
        '--reject is required; on a terminal the default is --interactive (per message: ack, requeue,\n' +
        'reject, skip, quit). With --ack into a pipe a message is acked only after its line was written.\n' +
        'Ctrl-C returns every unsettled message to the queue (exit 130).',
    )
    .argument('<source>', 'queue, or topic with --group')
    .option('--ack', 'remove each message after printing it', false)
    .option('--requeue', 'return each message for another attempt (counts a delivery)', false)
    .option(
      '--reject',
      'dead-letter each message (refused on a queue without a dead-letter exchange)',
      false,
    )
    .option('-i, --interactive', 'ask what to do with each message (default on a terminal)', false)
    .option(
      '--count <n>',
      'stop after settling n messages; exit 5 if --timeout comes first',
      parsePositiveInt,
    )
    .option('--timeout <duration>', 'stop after this long (total wall time)', parseDuration)
    .option(
      '--prefetch <n>',
      'messages held at once, skipped ones included (default 100 when interactive, else 20)',
      parsePositiveInt,
    )
    .addOption(
      new Option(
        '--force',
        'allow --reject on a queue without a dead-letter exchange (discards)',
      ).default(false),
    )
    .option(
      '--group <name>',
      'Kafka: the consumer group; it commits only past records settled in order',
    )
    .option(
      '--session-timeout <duration>',
      'Kafka: how long the group waits for a silent consumer (default 30s; the broker allows 6s-5m)',
      parseDuration,
    );
  return addMessageOutputOptions(command, { filter: false })
    .addHelpText(
      'after',
      `
Examples:
  $ mq consume email_service_queue --ack --count 1
  $ mq consume email_service_queue --requeue --count 1 --json
  $ mq consume email_service_queue --reject --count 1
  $ mq consume email_service_queue            # on a terminal: asks per message
  $ mq consume order-events --group billing --ack --count 10 --json
  $ mq consume order-events --group billing --reject --count 1   # to order-events-dlt`,
    )
    .action(async (source: string, flags: ConsumeFlags) => {
      const chosen = (['ack', 'requeue', 'reject', 'interactive'] as const).filter(
        (mode) => flags[mode],
      );
      if (chosen.length > 1) {
        throw new UsageError(
          `choose one of --ack, --requeue, --reject, --interactive (got ${chosen.map((m) => `--${m}`).join(', ')})`,
        );
      }
      const settle = chosen[0] ?? (f.io.canPrompt() ? 'interactive' : undefined);
      if (settle === undefined) {
        throw new UsageError(
          '--ack, --requeue or --reject is required when not running interactively',
          {
            hint: `mq consume ${source} --ack --count 1`,
          },
        );
      }
      if (settle === 'interactive' && !f.io.canPrompt()) {
        throw new UsageError(
          '--interactive needs a terminal (and no --no-input, MQ_NO_INPUT or CI)',
        );
      }
      await runF({
        f,
        source,
        settle,
        count: flags.count,
        timeoutMs: flags.timeout,
        prefetch: flags.prefetch ?? (settle === 'interactive' ? 100 : 20),
        force: flags.force,
        group: flags.group,
        sessionTimeoutMs: flags.sessionTimeout,
        output: messageOutputOf(flags),
        format: flags.format,
      });
    });
}

const ANSWERS: readonly { value: Answer; name: string; key: ChoiceKey }[] = [
  { value: 'ack', name: 'ack: done, remove it', key: 'a' },
  {
    value: 'requeue',
    name: 'requeue: return it for another attempt (counts a delivery)',
    key: 'r',
  },
  { value: 'reject', name: 'reject: dead-letter it', key: 'j' },
  { value: 'skip', name: 'skip: leave it in the queue', key: 's' },
  { value: 'quit', name: 'quit: leave it and stop', key: 'q' },
];

/** The same choices, said as they work on Kafka: a seek back, a dead-letter topic, a commit. */
const KAFKA_ANSWERS: readonly { value: Answer; name: string; key: ChoiceKey }[] = [
  { value: 'ack', name: 'ack: done, the group commits past it', key: 'a' },
  {
    value: 'requeue',
    name: 'requeue: read it again now (seeks back: the records after it come again too)',
    key: 'r',
  },
  { value: 'reject', name: 'reject: send it to the dead-letter topic, then move on', key: 'j' },
  { value: 'skip', name: 'skip: move past it (on Kafka a skip is an ack)', key: 's' },
  { value: 'quit', name: 'quit: stop here; the group reads it again next time', key: 'q' },
];

export async function consumeRun(opts: ConsumeOptions): Promise<void> {
  const { f } = opts;
  const broker = await f.broker();
  const onKafka = broker.kind === 'kafka';
  if (!onKafka && opts.group !== undefined) {
    throw new UsageError(`--group is for Kafka topics: ${broker.kind} has no consumer groups`, {
      hint: `mq consume ${opts.source} --ack`,
    });
  }
  if (onKafka && opts.group === undefined) {
    throw new UsageError('consuming from Kafka needs a consumer group: --group <name>', {
      hint: `mq consume ${opts.source} --group <name> --ack (or mq tail ${opts.source} to read without committing)`,
    });
  }
  if (onKafka && opts.settle === 'requeue' && !f.io.canPrompt()) {
    throw new RefusedError(
      '--requeue on Kafka seeks back, so the same records come again and again: refused without a terminal',
      {
        hint: 'leave records unsettled instead (a group commits only past settled ones), or --interactive',
      },
    );
  }
  const canDeadLetter = await hasDeadLetterTarget(broker, opts.source);
  if (onKafka && opts.settle === 'reject' && !canDeadLetter) {
    throw new RefusedError(
      `topic ${opts.source} has no dead-letter topic: --reject has nowhere to send records`,
      {
        hint: `create ${opts.source}-dlt (or name one with deadLetterTopic in mq.config.json, then mq topology apply)`,
      },
    );
  }
  if (opts.settle === 'reject' && !canDeadLetter && !opts.force) {
    throw new RefusedError(
      `${opts.source} has no dead-letter exchange: --reject would discard every message`,
      {
        hint: 'declare a deadLetterQueue in mq.config.json and run mq topology apply, or pass --force to discard',
      },
    );
  }
  const printer = await createMessagePrinter({
    io: f.io,
    broker: broker.kind,
    output: opts.output,
    filter: undefined,
    format: opts.format,
  });
  const answers = (onKafka ? KAFKA_ANSWERS : ANSWERS).filter(
    (answer) => answer.value !== 'reject' || canDeadLetter || (opts.force && !onKafka),
  );
  const tally: Record<Answer, number> = { ack: 0, requeue: 0, reject: 0, skip: 0, quit: 0 };
  const held: Delivery[] = [];
  const requeued = new Set<string>();
  const stop = deadline(f.signal, opts.timeoutMs);
  let settled = 0;
  let interrupted = false;
  try {
    f.io.notice(`ready: consuming ${opts.source} on ${broker.kind}`);
    for await (const delivery of broker.consume(opts.source, {
      signal: stop.signal,
      prefetch: opts.prefetch,
      group: opts.group,
      sessionTimeoutMs: opts.sessionTimeoutMs,
    })) {
      // A requeued message comes straight back: --requeue goes once round the queue, not until
      // the delivery limit dead-letters everything.
      if (opts.settle === 'requeue' && requeued.has(delivery.message.id)) {
        held.push(delivery);
        break;
      }
      await printer.print(printer.envelope(delivery.message));
      const answer = opts.settle === 'interactive' ? await ask(f, answers) : opts.settle;
      if (answer === null) {
        interrupted = true;
        held.push(delivery);
        break;
      }
      tally[answer] += 1;
      if (answer === 'skip' && onKafka) {
        // A group cannot commit past a record and keep it: on Kafka a skip is an ack.
        await delivery.ack();
        continue;
      }
      if (answer === 'skip' || answer === 'quit') {
        held.push(delivery);
        if (answer === 'quit') break;
        continue;
      }
      await settle(delivery, answer);
      if (answer === 'requeue') requeued.add(delivery.message.id);
      settled += 1;
      if (opts.count !== undefined && settled >= opts.count) break;
    }
  } finally {
    // Skipped messages stay leased until the end, so the same one is not offered again at once.
    for (const delivery of held) await delivery.release();
    stop.dispose();
  }
  const parts = (Object.keys(tally) as Answer[])
    .filter((key) => tally[key] > 0)
    .map((key) => `${key} ${tally[key]}`);
  f.io.notice(`${opts.source}: ${parts.length > 0 ? parts.join(', ') : 'no messages'}`);
  if (interrupted || (f.signal.aborted && !stop.timedOut())) {
    throw new InterruptedError('interrupted: unsettled messages were returned to the queue');
  }
  if (opts.count !== undefined && settled < opts.count && stop.timedOut()) {
    throw new TimeoutError(
      `settled ${settled} of ${opts.count} message(s) from ${opts.source} before the timeout`,
    );
  }
}

function settle(delivery: Delivery, answer: 'ack' | 'requeue' | 'reject'): Promise<void> {
  switch (answer) {
    case 'ack':
      return delivery.ack();
    case 'requeue':
      return delivery.retry();
    case 'reject':
      return delivery.deadLetter();
  }
}

/** The person's answer, or null when they pressed Ctrl-C at the prompt. */
async function ask(
  f: Factory,
  answers: readonly { value: Answer; name: string; key: ChoiceKey }[],
): Promise<Answer | null> {
  try {
    return await f.prompter.choose('What now?', answers);
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') return null;
    throw error;
  }
}

async function hasDeadLetterTarget(broker: BrokerAdapter, source: string): Promise<boolean> {
  const info = await requireCapability(broker, 'inspection').describe(source);
  // A Kafka topic's dead letters go to a topic (`deadLetterQueue`), never through an exchange.
  return info.kind === 'topic' ? info.deadLetterQueue !== null : info.deadLetterExchange !== null;
}
