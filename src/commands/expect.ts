import { Command } from 'commander';
import { requireCapability, type Inspection } from '../brokers/types.js';
import { parseDuration, parseNonNegativeInt, parsePositiveInt } from '../config/parse-args.js';
import { InterruptedError, RefusedError, TimeoutError, UsageError } from '../errors.js';
import { writeJson } from '../io/json.js';
import { addJsonOptions, jsonChoice, pickFields, type JsonChoice } from '../io/json-fields.js';
import type { Factory } from '../factory.js';
import { deadline, pause, type Deadline } from './shared/deadline.js';
import { createMessagePrinter, type MessagePrinter } from './shared/messages.js';

export type Expectation = { kind: 'depth'; depth: number } | { kind: 'count'; count: number };

/** The `--json` fields of `mq expect`'s outcome. */
export const OUTCOME_FIELDS = [
  'source',
  'expectation',
  'expected',
  'observed',
  'met',
  'elapsedMs',
] as const;

export interface ExpectOptions {
  f: Factory;
  source: string;
  expectation: Expectation;
  filter: string | undefined;
  timeoutMs: number;
  json: JsonChoice;
}

interface ExpectFlags {
  depth?: number;
  count?: number;
  filter?: string;
  timeout: number;
  json: boolean;
  fields?: string;
}

/** How many waiting messages `--count` looks at before counting new arrivals. */
const BROWSE_LIMIT = 1000;
const DEPTH_POLL_MS = 200;

export function newExpectCommand(f: Factory, runF = expectRun): Command {
  const command = new Command('expect')
    .summary('wait until a queue holds what a CI step expects (exit 0), or time out (exit 5)')
    .description(
      'For CI. --depth N: the queue holds exactly N ready messages. --count N: at least N messages (matching\n' +
        '--filter) are there or arrive: those waiting at the start where browsing is allowed, plus new ones.\n' +
        'Removes nothing. Prints "ready: …" on stderr once it watches for new messages.',
    )
    .argument('<source>', 'queue or topic')
    .option('--depth <n>', 'exactly n ready messages', parseNonNegativeInt)
    .option('--count <n>', 'at least n messages (matching --filter)', parsePositiveInt)
    .option(
      '--filter <expr>',
      'with --count: only messages matching a CEL condition, e.g. \'json.orderId == "ord-789"\'',
    )
    .option('--timeout <duration>', 'give up after this long (exit 5)', parseDuration, 30_000);
  return addJsonOptions(command, OUTCOME_FIELDS, 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ mq expect email_service_queue --count 1 --timeout 10s
  $ mq expect email_service_queue --depth 0
  $ mq expect sms_service_queue --count 3 --filter 'json.orderId == "ord-789"' --json`,
    )
    .action(async (source: string, flags: ExpectFlags) => {
      if ((flags.depth === undefined) === (flags.count === undefined)) {
        throw new UsageError('give exactly one of --depth <n> or --count <n>');
      }
      if (flags.filter !== undefined && flags.count === undefined) {
        throw new UsageError('--filter goes with --count', {
          hint: '--depth counts every ready message',
        });
      }
      const expectation: Expectation =
        flags.depth !== undefined
          ? { kind: 'depth', depth: flags.depth }
          : { kind: 'count', count: flags.count ?? 0 };
      await runF({
        f,
        source,
        expectation,
        filter: flags.filter,
        timeoutMs: flags.timeout,
        json: jsonChoice(flags, OUTCOME_FIELDS),
      });
    });
}

export async function expectRun(opts: ExpectOptions): Promise<void> {
  const { f } = opts;
  const started = performance.now();
  const broker = await f.broker();
  const inspection = requireCapability(broker, 'inspection');
  const stop = deadline(f.signal, opts.timeoutMs);
  let observed: number;
  try {
    if (opts.expectation.kind === 'depth') {
      observed = await waitForDepth(inspection, opts.source, opts.expectation.depth, stop);
    } else {
      const printer = await createMessagePrinter({
        io: f.io,
        broker: broker.kind,
        output: { mode: 'json', fields: null },
        filter: opts.filter,
        format: undefined,
      });
      observed = await waitForCount(inspection, opts, opts.expectation.count, printer, stop);
    }
  } finally {
    stop.dispose();
  }
  const target =
    opts.expectation.kind === 'depth' ? opts.expectation.depth : opts.expectation.count;
  const met = opts.expectation.kind === 'depth' ? observed === target : observed >= target;
  const what = opts.expectation.kind === 'depth' ? 'depth' : 'count';
  if (opts.json.json) {
    const outcome = {
      source: opts.source,
      expectation: what,
      expected: target,
      observed,
      met,
      elapsedMs: Math.round(performance.now() - started),
    };
    writeJson(f.io, pickFields(outcome, opts.json.fields));
  }
  if (met) {
    f.io.status(`${f.io.colors.green('✓')} ${opts.source}: ${what} ${observed}`);
    return;
  }
  if (!stop.timedOut()) throw new InterruptedError();
  const relation = opts.expectation.kind === 'depth' ? 'exactly' : 'at least';
  throw new TimeoutError(
    `${opts.source}: expected ${what} ${relation} ${target}, saw ${observed} within the timeout`,
  );
}

async function waitForDepth(
  inspection: Inspection,
  source: string,
  depth: number,
  stop: Deadline,
): Promise<number> {
  for (;;) {
    const ready = (await inspection.describe(source)).ready ?? 0;
    if (ready === depth || stop.signal.aborted) return ready;
    await pause(DEPTH_POLL_MS, stop.signal);
  }
}

/**
 * Subscribes first and browses second, so that no message falls between the two; a message seen
 * both ways is counted once, by id.
 */
async function waitForCount(
  inspection: Inspection,
  opts: ExpectOptions,
  count: number,
  printer: MessagePrinter,
  stop: Deadline,
): Promise<number> {
  const matched = new Set<string>();
  const enough = new AbortController();
  const signal = AbortSignal.any([stop.signal, enough.signal]);
  let announceReady: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => (announceReady = resolve));
  const arrivals = (async () => {
    for await (const message of inspection.tail(opts.source, { signal, onReady: announceReady })) {
      const envelope = printer.envelope(message);
      if (printer.matches(envelope)) matched.add(envelope.id);
      if (matched.size >= count) return;
    }
  })();
  await Promise.race([subscribed, arrivals]);
  opts.f.io.notice(`ready: expecting ${count} message(s) on ${opts.source}`);
  try {
    for (const message of await inspection.peek(opts.source, { limit: BROWSE_LIMIT, signal })) {
      const envelope = printer.envelope(message);
      if (printer.matches(envelope)) matched.add(envelope.id);
    }
  } catch (error) {
    if (!(error instanceof RefusedError)) {
      // Stop the subscription before reporting, so nothing keeps the process waiting.
      enough.abort();
      await arrivals.catch(() => undefined);
      throw error;
    }
    opts.f.io.notice(`note: counting new arrivals on ${opts.source} only (${error.message})`);
  }
  if (matched.size >= count) enough.abort();
  await arrivals;
  return matched.size;
}
