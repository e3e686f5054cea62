import { Command } from 'commander';
import { join } from 'node:path';
import type {
  DeadLetterHandling,
  DeadLetterMove,
  InboundMessage,
  OutboundMessage,
  PublishReceipt,
  Route,
} from '../../brokers/types.js';
import { requireCapability } from '../../brokers/types.js';
import { defaultDataDir } from '../../config/broker-url.js';
import {
  parseDuration,
  parseNonNegativeInt,
  parsePositiveInt,
  parseRate,
} from '../../config/parse-args.js';
import { InterruptedError, PartialError, UsageError } from '../../errors.js';
import type { Factory } from '../../factory.js';
import { writeJson } from '../../io/json.js';
import { startProgress } from '../../io/progress.js';
import { redrivenHeaders } from '../../message/redrive-headers.js';
import { sanitizeLine } from '../../message/sanitize.js';
import { pause } from '../shared/deadline.js';
import { createMessagePrinter, type MessagePrinter } from '../shared/messages.js';
import { describeRoute } from '../publish.js';
import { journalKey, KeyCounts, RedriveJournal, unfinishedJournals } from './journal.js';
import { queuesReached } from './routes.js';
import { confirmChange, deadLetterSource, type DeadLetterSource } from './shared.js';

interface RedriveFlags {
  viaExchange: boolean;
  to?: string;
  filter?: string;
  limit?: number;
  rate?: number;
  maxRedrives?: number;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  chunk: number;
}

/** Messages published and confirmed together, then removed together (and journalled so). */
const CONFIRM_WINDOW = 500;
/** How many moves a dry run lists as its sample. */
const SAMPLE_SIZE = 5;
/** AMQP's limit on a header table, less room for the properties beside it in the same frame. */
const MAX_HEADER_BYTES = 65_536 - 4_096;
/** How long a hold keeps messages back before returning them: a third of RabbitMQ's default consumer timeout. */
const DEFAULT_CHUNK_MS = 10 * 60_000;
/** After an interrupted run, how long the dead-letter queue's depth must hold still to count it. */
const SETTLE_MS = 500;
const SETTLE_POLL_MS = 50;

export function newDlqRedriveCommand(f: Factory): Command {
  return new Command('redrive')
    .summary('move dead letters back to the queue each one died in, losing none')
    .description(
      'Moves the dead letters of a queue back: each to the queue that dead-lettered it, alone (through\n' +
        'the default exchange, so no sibling queue gets a second copy), or --via-exchange through its\n' +
        'original exchange and routing key, or --to one queue. Each is published with a confirm, then\n' +
        'removed; only those there at the start move. The death headers become mq-death-history, and\n' +
        'mq-redrive-count, mq-redriven-at, mq-redriven-from, mq-original-exchange and\n' +
        'mq-original-routing-key are set. A journal under $MQ_HOME/redrive lets a rerun after a crash\n' +
        'finish the job without publishing a confirmed message twice. Exit 4 if any message failed.',
    )
    .argument('<queue>', 'the queue whose dead letters to move, or its dead-letter queue')
    .option(
      '--via-exchange',
      'publish through the original exchange and routing key (names the queues that get copies)',
      false,
    )
    .option('--to <queue>', 'move every message to this queue instead')
    .option(
      '--filter <expr>',
      'move only messages matching a CEL condition, e.g. \'death.reason == "rejected"\'',
    )
    .option('--limit <n>', 'move at most this many', parsePositiveInt)
    .option('--rate <n/s>', 'at most this many messages per second', parseRate)
    .option(
      '--max-redrives <n>',
      'leave a message redriven this many times already in the dead-letter queue',
      parseNonNegativeInt,
    )
    .option('--dry-run', 'count what would move where and show a sample; change nothing', false)
    .option(
      '--chunk <duration>',
      "return skipped and failed messages and take them again at least this often (keep it under the broker's consumer timeout: RabbitMQ's default is 30m)",
      parseDuration,
      DEFAULT_CHUNK_MS,
    )
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)', false)
    .option('--json', 'print the report as JSON on stdout', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mq dlq redrive sms_service_queue --dry-run
  $ mq dlq redrive sms_service_queue --yes
  $ mq dlq redrive sms_service_queue --filter 'death.reason == "rejected"' --max-redrives 3 --yes
  $ mq dlq redrive sms_service_queue --to sms_retry --rate 50/s --yes`,
    )
    .action(async (queue: string, flags: RedriveFlags) => {
      if (flags.viaExchange && flags.to !== undefined) {
        throw new UsageError('--via-exchange and --to pick the target two ways', {
          hint: 'pass one of them',
        });
      }
      await redrive(f, queue, flags);
    });
}

/** Where one dead letter goes, or why it cannot. */
type Target = { route: Route } | { problem: string };

interface Outcome {
  moved: number;
  /** Removed without publishing: an earlier run had published them (confirmed). */
  finishedFromEarlierRun: number;
  possibleDuplicates: string[];
  skipped: { id: string; reason: string }[];
  failed: { id: string; reason: string }[];
  targets: Map<string, number>;
  /**
   * Dead letters in the queue after the run that it never took: they came in during the run, or
   * a consumer held them at its start (the broker was still taking back what a killed or closed
   * consumer had). Null when the run was not meant to empty the queue (--limit, or it stopped).
   */
  notTaken: number | null;
  /** Holds the run took the queue in (a new one each --chunk while messages were kept back). */
  holds: number;
}

async function redrive(f: Factory, queue: string, flags: RedriveFlags): Promise<void> {
  const source = await deadLetterSource(f, queue);
  const handling = requireCapability(source.broker, 'deadLetters');
  if (source.depth === null) {
    throw new UsageError(`cannot tell how many dead letters wait in ${source.deadLetterQueue}`);
  }
  const journalAt =
    handling.move === undefined
      ? {
          directory: join(defaultDataDir(f.env), 'redrive'),
          // The display form never holds a password.
          broker: (await f.brokerChoice()).spec.display,
          queue: source.deadLetterQueue,
        }
      : null;
  let depth = source.depth;
  if (
    journalAt !== null &&
    unfinishedJournals(journalAt.directory, journalAt.broker, journalAt.queue).length > 0
  ) {
    depth = await settledDepth(source, depth, f.signal);
  }
  if (flags.to !== undefined) await source.inspection.describe(flags.to);
  const printer = await createMessagePrinter({
    io: f.io,
    broker: source.broker.kind,
    output: { mode: 'json', fields: null },
    filter: flags.filter,
    format: undefined,
  });
  const limit = Math.min(depth, flags.limit ?? Number.POSITIVE_INFINITY);
  const targetOf = (message: InboundMessage): Target => target(message, flags);
  const decide = (message: InboundMessage): string | null => skipReason(message, printer, flags);

  if (flags.dryRun) {
    await dryRun(f, source, limit, targetOf, decide, flags.json);
    return;
  }
  if (limit === 0) {
    report(f, source, { ...emptyOutcome(), notTaken: 0 }, flags.json, null);
    return;
  }
  await confirm(f, source, limit, flags);

  const outcome = emptyOutcome();
  const journal =
    journalAt === null
      ? null
      : RedriveJournal.open(journalAt.directory, journalAt.broker, journalAt.queue);
  const progress = await startProgress(f.io, 'redriving', limit);
  const stopTaking = new AbortController();
  const onInterrupt = () => stopTaking.abort();
  f.signal.addEventListener('abort', onInterrupt, { once: true });
  if (f.signal.aborted) onInterrupt();
  let stoppedBy: Error | null = null;
  const started = performance.now();
  // Skipped and failed messages stay held, so that none is taken twice, until their hold ends and
  // returns them to their places, in order. A hold lasts at most --chunk while it keeps messages
  // back (a broker ends a consumer that holds a message past its consumer timeout: RabbitMQ's is
  // 30 minutes); the next hold takes them again first, recognises them and keeps them back again.
  const keptBack = new KeyCounts();
  let untaken = limit;
  /** The route and message to publish; null when the message stays, recorded as skipped or failed. */
  const moveOf = (
    message: InboundMessage,
    key: string,
  ): Omit<Pending, 'delivery' | 'key'> | null => {
    const keep = (list: Outcome['skipped'], reason: string) => {
      list.push({ id: message.id, reason });
      keptBack.add(key);
      return null;
    };
    const skipped = decide(message);
    if (skipped !== null) return keep(outcome.skipped, skipped);
    const destination = targetOf(message);
    if ('problem' in destination) return keep(outcome.failed, destination.problem);
    const outbound = redriven(message, source.deadLetterQueue);
    if (headerBytes(outbound) > MAX_HEADER_BYTES) {
      return keep(outcome.failed, 'its headers are too large for AMQP (over 64 KiB)');
    }
    return { route: destination.route, message: outbound };
  };
  try {
    let window: Pending[] = [];
    const flush = async () => {
      const moving = window;
      window = [];
      await move(source, handling, journal, moving, outcome, keptBack);
      progress.update(outcome.moved + outcome.skipped.length + outcome.failed.length);
      if (flags.rate !== undefined) {
        const due = (outcome.moved / flags.rate) * 1000 - (performance.now() - started);
        if (due > 0) await pause(due, stopTaking.signal);
      }
    };
    const windowSize = Math.min(CONFIRM_WINDOW, Math.max(1, Math.ceil(flags.rate ?? Infinity)));
    for (let chunkEnded = true; chunkEnded && untaken > 0 && !stopTaking.signal.aborted;) {
      chunkEnded = false;
      const comingBack = keptBack.copy();
      const chunkEnds = performance.now() + flags.chunk;
      outcome.holds += 1;
      const holding = handling.hold(source.deadLetterQueue, {
        signal: stopTaking.signal,
        limit: untaken + comingBack.total,
        window: CONFIRM_WINDOW,
      });
      try {
        for await (const delivery of holding) {
          const { message } = delivery;
          const key = journalKey(message);
          // Kept back by an earlier hold and returned at its end: decided and reported already.
          if (comingBack.take(key)) continue;
          untaken -= 1;
          if (journal?.leftovers.takeConfirmed(key)) {
            await delivery.ack();
            journal.record('removed', [key]);
            outcome.finishedFromEarlierRun += 1;
          } else {
            const moving = moveOf(message, key);
            if (moving !== null) {
              if (journal?.leftovers.takeIntent(key)) outcome.possibleDuplicates.push(message.id);
              window.push({ delivery, key, ...moving });
              if (window.length >= windowSize) await flush();
            }
          }
          if (keptBack.total > 0 && performance.now() > chunkEnds && untaken > 0) {
            chunkEnded = true;
            break;
          }
        }
        if (window.length > 0) await flush();
      } finally {
        await holding.close();
      }
    }
  } catch (error) {
    stoppedBy = error as Error;
  } finally {
    f.signal.removeEventListener('abort', onInterrupt);
    progress.stop();
  }
  const clean =
    stoppedBy === null &&
    !f.signal.aborted &&
    outcome.failed.every((m) => !m.reason.startsWith('unconfirmed'));
  if (journal !== null) {
    if (clean) journal.finish();
    journal.close();
  }
  if (clean && flags.limit === undefined) {
    // Kept-back messages (skipped, failed) went back to the queue: they are reported already.
    const { ready } = await source.inspection.describe(source.deadLetterQueue);
    outcome.notTaken =
      ready === null ? null : Math.max(0, ready - outcome.skipped.length - outcome.failed.length);
  }
  report(f, source, outcome, flags.json, journal?.file ?? null);
  if (stoppedBy !== null) {
    throw new PartialError(`redrive stopped: ${stoppedBy.message}`, {
      cause: stoppedBy,
      hint: 'nothing is lost: rerun the same command to finish (the journal knows what was confirmed)',
    });
  }
  if (f.signal.aborted) {
    throw new InterruptedError(
      'interrupted: what was not moved is back in the dead-letter queue; rerun to move the rest',
    );
  }
  if (outcome.failed.length > 0) {
    throw new PartialError(
      `${outcome.failed.length} message(s) could not be moved and stay in ${source.deadLetterQueue}`,
      {
        hint: 'the report lists them and why; mq dlq show <queue> <id> shows one',
      },
    );
  }
}

/**
 * The dead-letter queue's depth once the broker has taken back what an interrupted run held. It
 * returns a killed consumer's messages gradually (500 a second from a busy classic queue), so a
 * rerun that counted at once would leave the rest behind: the depth must hold still a while.
 */
async function settledDepth(
  source: DeadLetterSource,
  depth: number,
  signal: AbortSignal,
): Promise<number> {
  let settled = depth;
  let stillSince = performance.now();
  while (performance.now() - stillSince < SETTLE_MS) {
    await pause(SETTLE_POLL_MS, signal);
    if (signal.aborted) break;
    const { ready } = await source.inspection.describe(source.deadLetterQueue);
    if (ready !== null && ready !== settled) {
      settled = ready;
      stillSince = performance.now();
    }
  }
  return settled;
}

interface Pending extends DeadLetterMove {
  key: string;
}

/**
 * One confirm window. Where the broker moves in one transaction (local), that is all. Elsewhere:
 * intents made durable, the window published with confirms, confirmations made durable, then the
 * confirmed ones removed. The others (unroutable, unconfirmed) stay held.
 */
async function move(
  source: DeadLetterSource,
  handling: DeadLetterHandling,
  journal: RedriveJournal | null,
  window: readonly Pending[],
  outcome: Outcome,
  keptBack: KeyCounts,
): Promise<void> {
  let receipts: PublishReceipt[];
  if (handling.move !== undefined) {
    receipts = await handling.move(window);
  } else {
    journal!.record(
      'intent',
      window.map((pending) => pending.key),
    );
    journal!.sync();
    receipts = await publishByRoute(source, window);
  }
  const removed: Pending[] = [];
  window.forEach((pending, index) => {
    const status = receipts[index]?.status ?? 'unconfirmed';
    if (status === 'confirmed') {
      removed.push(pending);
      const where = describeRoute(pending.route);
      outcome.targets.set(where, (outcome.targets.get(where) ?? 0) + 1);
    } else {
      const reason =
        status === 'unroutable'
          ? `unroutable: nothing takes ${describeRoute(pending.route)}`
          : 'unconfirmed: the broker did not confirm the publish (it may have arrived)';
      outcome.failed.push({ id: pending.delivery.message.id, reason });
      keptBack.add(pending.key);
    }
  });
  if (handling.move === undefined) {
    journal!.record(
      'confirmed',
      removed.map((pending) => pending.key),
    );
    journal!.sync();
    await Promise.all(removed.map((pending) => pending.delivery.ack()));
    journal!.record(
      'removed',
      removed.map((pending) => pending.key),
    );
  }
  outcome.moved += removed.length;
}

/** Consecutive messages with the same route go in one publish; different routes in parallel. */
async function publishByRoute(
  source: DeadLetterSource,
  window: readonly Pending[],
): Promise<PublishReceipt[]> {
  const groups = new Map<string, { route: Route; indexes: number[] }>();
  window.forEach((pending, index) => {
    const name = JSON.stringify(pending.route);
    const group = groups.get(name) ?? { route: pending.route, indexes: [] };
    group.indexes.push(index);
    groups.set(name, group);
  });
  const receipts: PublishReceipt[] = new Array<PublishReceipt>(window.length);
  await Promise.all(
    [...groups.values()].map(async ({ route, indexes }) => {
      const published = await source.broker.publish(
        route,
        indexes.map((index) => window[index]!.message),
      );
      indexes.forEach((index, position) => {
        receipts[index] = published[position]!;
      });
    }),
  );
  return receipts;
}

function target(message: InboundMessage, flags: RedriveFlags): Target {
  if (flags.to !== undefined) return { route: { kind: 'queue', queue: flags.to } };
  const death = message.death;
  if (flags.viaExchange) {
    const routingKey = death?.routingKeys[0];
    if (death?.exchange == null || routingKey === undefined) {
      return { problem: 'its death record names no exchange and routing key (use --to)' };
    }
    return { route: { kind: 'exchange', exchange: death.exchange, routingKey } };
  }
  if (death?.queue == null) {
    return { problem: 'its death record names no queue (use --to)' };
  }
  return { route: { kind: 'queue', queue: death.queue } };
}

function skipReason(
  message: InboundMessage,
  printer: MessagePrinter,
  flags: RedriveFlags,
): string | null {
  const redrives = message.death?.redriveCount ?? 0;
  if (flags.maxRedrives !== undefined && redrives >= flags.maxRedrives) {
    return `redriven ${redrives} time(s) already (--max-redrives ${flags.maxRedrives})`;
  }
  if (flags.filter !== undefined && !printer.matches(printer.envelope(message))) {
    return 'does not match --filter';
  }
  return null;
}

/** The message as it goes back: the same body, key and properties (its id too), new headers. */
function redriven(message: InboundMessage, from: string): OutboundMessage {
  const outbound: OutboundMessage = {
    body: message.body,
    headers: redrivenHeaders(message.headers, message.death, { from, at: new Date() }),
  };
  if (message.properties !== undefined) outbound.properties = message.properties;
  if (message.key !== undefined) outbound.key = message.key;
  return outbound;
}

/** An upper bound of the encoded header table: names and values as text, bytes as they are. */
function headerBytes(message: OutboundMessage): number {
  return Buffer.byteLength(
    JSON.stringify(message.headers ?? {}, (_key, value: unknown) =>
      value instanceof Uint8Array ? 'x'.repeat(value.length) : value,
    ),
  );
}

async function confirm(
  f: Factory,
  source: DeadLetterSource,
  limit: number,
  flags: RedriveFlags,
): Promise<void> {
  let where = 'each to the queue it died in, alone';
  if (flags.to !== undefined) where = `to queue ${flags.to}`;
  if (flags.viaExchange) {
    // Named whether or not anyone is asked: the copies are the point of --via-exchange.
    const copies = await recipients(source, limit);
    f.io.notice(sanitizeLine(`--via-exchange: copies go to ${copies}`));
    where = 'through their original exchanges';
  }
  await confirmChange(f, {
    yes: flags.yes,
    refusal: `redrive moves up to ${limit} message(s)`,
    hint: `see first what would move: mq dlq redrive ${source.queue} --dry-run`,
    question: `Move up to ${limit} dead letter(s) from ${source.deadLetterQueue} ${where}?`,
    declined: 'nothing was moved',
  });
}

/**
 * `order_events order.placed → email_queue, sms_queue; …` for the routes of the first dead letters:
 * every queue that will get a copy, named before anything moves.
 */
async function recipients(source: DeadLetterSource, limit: number): Promise<string> {
  const sample = await source.inspection.peek(source.deadLetterQueue, {
    limit: Math.min(limit, 1000),
  });
  const routes = new Map<string, { exchange: string; routingKey: string }>();
  for (const message of sample) {
    const exchange = message.death?.exchange;
    const routingKey = message.death?.routingKeys[0];
    if (exchange != null && routingKey !== undefined) {
      routes.set(`${exchange}\u0000${routingKey}`, { exchange, routingKey });
    }
  }
  const snapshot = await source.broker.topology?.export().catch(() => null);
  const described = [...routes.values()].map(({ exchange, routingKey }) => {
    const queues = snapshot ? queuesReached(snapshot, exchange, routingKey) : null;
    const reach =
      queues === null ? '(queues unknown)' : queues.length === 0 ? '(no queue)' : queues.join(', ');
    return `${exchange} ${routingKey} → ${reach}`;
  });
  return described.length > 0 ? described.join('; ') : 'none of them records one';
}

async function dryRun(
  f: Factory,
  source: DeadLetterSource,
  limit: number,
  targetOf: (message: InboundMessage) => Target,
  decide: (message: InboundMessage) => string | null,
  json: boolean,
): Promise<void> {
  const messages =
    limit === 0
      ? []
      : await source.inspection.peek(source.deadLetterQueue, { limit, signal: f.signal });
  const outcome = emptyOutcome();
  const sample: { id: string; to: string }[] = [];
  for (const message of messages) {
    const skipped = decide(message);
    const destination = skipped === null ? targetOf(message) : null;
    if (skipped !== null) outcome.skipped.push({ id: message.id, reason: skipped });
    else if (destination !== null && 'problem' in destination)
      outcome.failed.push({ id: message.id, reason: destination.problem });
    else if (destination !== null) {
      const where = describeRoute(destination.route);
      outcome.targets.set(where, (outcome.targets.get(where) ?? 0) + 1);
      outcome.moved += 1;
      if (sample.length < SAMPLE_SIZE) sample.push({ id: message.id, to: where });
    }
  }
  if (json) {
    writeJson(f.io, { dryRun: true, ...reportFields(source, outcome, null), sample });
  } else {
    for (const { id, to } of sample) f.io.notice(sanitizeLine(`would move ${id} → ${to}`));
  }
  f.io.notice(
    sanitizeLine(`dry run: ${summaryText(source, outcome, 'would move')}; nothing was changed`),
  );
}

function emptyOutcome(): Outcome {
  return {
    moved: 0,
    finishedFromEarlierRun: 0,
    possibleDuplicates: [],
    skipped: [],
    failed: [],
    targets: new Map(),
    notTaken: null,
    holds: 0,
  };
}

function reportFields(source: DeadLetterSource, outcome: Outcome, journal: string | null) {
  return {
    deadLetterQueue: source.deadLetterQueue,
    moved: outcome.moved,
    skipped: outcome.skipped.length,
    failed: outcome.failed.length,
    finishedFromEarlierRun: outcome.finishedFromEarlierRun,
    possibleDuplicates: outcome.possibleDuplicates,
    targets: Object.fromEntries(outcome.targets),
    notTaken: outcome.notTaken,
    holds: outcome.holds,
    skippedMessages: outcome.skipped,
    failedMessages: outcome.failed,
    journal,
  };
}

function summaryText(source: DeadLetterSource, outcome: Outcome, verb: string): string {
  const targets = [...outcome.targets].map(([where, n]) => `${n} to ${where}`).join(', ');
  return (
    `${verb} ${outcome.moved} of ${source.deadLetterQueue}${targets ? ` (${targets})` : ''}, ` +
    `${outcome.skipped.length} skipped, ${outcome.failed.length} failed`
  );
}

function report(
  f: Factory,
  source: DeadLetterSource,
  outcome: Outcome,
  json: boolean,
  journal: string | null,
): void {
  if (json) writeJson(f.io, reportFields(source, outcome, journal));
  for (const { id, reason } of outcome.skipped)
    f.io.notice(sanitizeLine(`skipped ${id}: ${reason}`));
  for (const { id, reason } of outcome.failed) f.io.notice(sanitizeLine(`failed ${id}: ${reason}`));
  const earlier =
    outcome.finishedFromEarlierRun > 0
      ? `; ${outcome.finishedFromEarlierRun} confirmed by an interrupted earlier run removed without publishing again`
      : '';
  const duplicates =
    outcome.possibleDuplicates.length > 0
      ? `; ${outcome.possibleDuplicates.length} possible duplicate(s) (an interrupted earlier run may have published them): ${listed(outcome.possibleDuplicates)}`
      : '';
  f.io.notice(sanitizeLine(`${summaryText(source, outcome, 'moved')}${earlier}${duplicates}`));
  if (outcome.notTaken !== null && outcome.notTaken > 0) {
    f.io.notice(
      sanitizeLine(
        `${outcome.notTaken} more dead letter(s) are in ${source.deadLetterQueue} now, not taken by this run: they came in during it, or a consumer still held them when it started; rerun to move them`,
      ),
    );
  }
}

/** The first few ids of a long list: --json has them all. */
function listed(ids: readonly string[]): string {
  const shown = ids.slice(0, SAMPLE_SIZE).join(', ');
  return ids.length > SAMPLE_SIZE ? `${shown}, … (--json lists all ${ids.length})` : shown;
}
