import { createWriteStream, type WriteStream } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { requireCapability, type LogPosition } from '../brokers/types.js';
import { parseDuration, parseNonNegativeInt, parsePositiveInt } from '../config/parse-args.js';
import { MqError, TimeoutError, UsageError } from '../errors.js';
import type { Factory } from '../factory.js';
import type { Envelope } from '../message/envelope.js';
import { deadline } from './shared/deadline.js';
import {
  addMessageOutputOptions,
  createMessagePrinter,
  messageOutputOf,
  type MessageOutput,
  type MessageOutputFlags,
} from './shared/messages.js';

export interface TailOptions {
  f: Factory;
  source: string;
  /** Messages already waiting to show first. */
  backlog: number;
  count: number | undefined;
  timeoutMs: number | undefined;
  savePath: string | undefined;
  output: MessageOutput;
  filter: string | undefined;
  format: string | undefined;
  /** Logs only: where to start, and one partition instead of all. */
  from?: LogPosition | undefined;
  partition?: number | undefined;
}

interface TailFlags extends MessageOutputFlags {
  number: number;
  count?: number;
  timeout?: number;
  save?: string;
  from?: LogPosition;
  partition?: number;
}

/**
 * `--from`: `beginning`, `end`, an offset (a whole number), a time (ISO 8601), or a duration
 * (`10m`: that long ago).
 */
export function parseLogPosition(value: string): LogPosition {
  const text = value.trim();
  if (text === 'beginning' || text === 'earliest') return { kind: 'beginning' };
  if (text === 'end' || text === 'latest') return { kind: 'end' };
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: text };
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/i.test(text)) {
    return { kind: 'time', timestamp: Date.now() - parseDuration(text) };
  }
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError(
      'want beginning, end, an offset, a time such as 2025-01-31T12:00:00Z, or a duration ago such as 10m',
    );
  }
  return { kind: 'time', timestamp: time };
}

export function newTailCommand(f: Factory, runF = tailRun): Command {
  const command = new Command('tail')
    .summary('follow new messages without removing them')
    .description(
      'Prints messages as they arrive, leaving every message in place. Prints "ready: …" on stderr once\n' +
        'it is subscribed, so a script can start it, wait for that line, then trigger. On RabbitMQ it reads\n' +
        'a temporary tap queue bound like the target; it cannot see messages published straight to the\n' +
        'queue through the default exchange. On Kafka it reads in a throwaway consumer group that commits\n' +
        'nothing, from --from (default: the end). Ctrl-C ends it normally (exit 0).',
    )
    .argument('<source>', 'queue or topic')
    .option(
      '-n, --number <n>',
      'first show up to n messages already waiting (via peek)',
      parseNonNegativeInt,
      0,
    )
    .option(
      '--count <n>',
      'stop after n messages (those shown by -n included); exit 5 if --timeout comes first',
      parsePositiveInt,
    )
    .option('--timeout <duration>', 'stop after this long (total wall time)', parseDuration)
    .option('--save <file>', 'also append every message shown to <file> as NDJSON envelopes')
    .option(
      '--from <position>',
      'Kafka: start at beginning, end (default), an offset, a time (ISO 8601) or a duration ago (10m)',
      parseLogPosition,
    )
    .option('--partition <n>', 'Kafka: read one partition only', parseNonNegativeInt);
  return addMessageOutputOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ mq tail sms_service_queue
  $ mq tail sms_service_queue --count 2 --timeout 20s --json
  $ mq tail email_service_queue -n 5 --filter 'json.totalAmount > 50' --save seen.ndjson
  $ mq --broker kafka://localhost:9092 tail order-events --from beginning --timeout 30s --json
  $ mq --broker kafka://localhost:9092 tail order-events --partition 1 --from 2025-01-31T12:00:00Z`,
    )
    .action(async (source: string, flags: TailFlags) => {
      await runF({
        f,
        source,
        backlog: flags.number,
        count: flags.count,
        timeoutMs: flags.timeout,
        savePath: flags.save,
        output: messageOutputOf(flags),
        filter: flags.filter,
        format: flags.format,
        from: flags.from,
        partition: flags.partition,
      });
    });
}

export async function tailRun(opts: TailOptions): Promise<void> {
  const { f } = opts;
  const broker = await f.broker();
  const inspection = requireCapability(broker, 'inspection');
  const logOnly = [opts.from && '--from', opts.partition !== undefined && '--partition'].filter(
    (flag): flag is string => typeof flag === 'string',
  );
  if (broker.kind !== 'kafka' && logOnly.length > 0) {
    throw new UsageError(
      `${logOnly.join(' and ')} apply to Kafka topics, not to ${broker.kind} queues`,
    );
  }
  const logOptions = {
    ...(opts.from === undefined ? {} : { from: opts.from }),
    ...(opts.partition === undefined ? {} : { partition: opts.partition }),
  };
  const printer = await createMessagePrinter({
    io: f.io,
    broker: broker.kind,
    output: opts.output,
    filter: opts.filter,
    format: opts.format,
  });
  const save = opts.savePath === undefined ? null : await openSaveFile(opts.savePath);
  const { encodeEnvelopeLine } = await import('../message/ndjson.js');
  const stop = deadline(f.signal, opts.timeoutMs);
  let shown = 0;
  const show = async (envelope: Envelope): Promise<boolean> => {
    if (!printer.matches(envelope)) return false;
    await printer.print(envelope);
    if (save) await appendLine(save, encodeEnvelopeLine(envelope));
    shown += 1;
    return opts.count !== undefined && shown >= opts.count;
  };

  // Subscribe first and show the backlog second, so that nothing published in between is missed;
  // a message seen both ways is shown once (by id).
  let announceReady: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => (announceReady = resolve));
  const onReady = () => {
    f.io.notice(`ready: tailing ${opts.source} on ${broker.kind}`);
    announceReady();
  };
  let dropped = 0;
  const onDropped = (total: number) => {
    if (dropped === 0) {
      f.io.notice(
        `warning: the tail of ${opts.source} fell too far behind; the oldest copies are being dropped (the queue keeps its messages)`,
      );
    }
    dropped = total;
  };
  const tap = inspection.tail(opts.source, {
    signal: stop.signal,
    onReady,
    onDropped,
    ...logOptions,
  });
  const arrivals = tap[Symbol.asyncIterator]();
  try {
    let next = arrivals.next();
    await Promise.race([subscribed, next]);
    const seen = new Set<string>();
    let done = false;
    if (opts.backlog > 0) {
      for (const message of await inspection.peek(opts.source, {
        limit: opts.backlog,
        signal: stop.signal,
        ...(opts.partition === undefined ? {} : { partition: opts.partition }),
      })) {
        const envelope = printer.envelope(message);
        seen.add(envelope.id);
        if ((done = await show(envelope))) break;
      }
    }
    while (!done) {
      const result = await next;
      if (result.done) break;
      const envelope = printer.envelope(result.value);
      if (!seen.delete(envelope.id)) done = await show(envelope);
      if (!done) next = arrivals.next();
    }
  } finally {
    await arrivals.return?.(undefined);
    if (save) await new Promise((resolve) => save.end(resolve));
    stop.dispose();
  }
  f.io.status(
    f.io.colors.dim(`${shown} message(s) shown from ${opts.source}; nothing was removed`),
  );
  if (dropped > 0) {
    f.io.notice(
      `warning: ${dropped} message(s) of ${opts.source} were dropped from the tail, unseen`,
    );
  }
  const countMissed = opts.count !== undefined && shown < opts.count;
  if (countMissed && stop.timedOut()) {
    throw new TimeoutError(
      `saw ${shown} of ${opts.count} message(s) on ${opts.source} before the timeout`,
    );
  }
  if (countMissed && !f.signal.aborted) {
    throw new MqError(
      `the tail of ${opts.source} ended after ${shown} of ${opts.count} message(s)`,
    );
  }
}

async function openSaveFile(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) =>
      reject(new UsageError(`cannot write ${path}: ${error.message}`)),
    );
  });
  return stream;
}

function appendLine(stream: WriteStream, line: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    stream.write(`${line}\n`, (error) => (error ? reject(error) : resolve())),
  );
}
