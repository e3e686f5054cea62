import { Command } from 'commander';
import {
  PublishStopped,
  type Headers,
  type InboundMessage,
  type MessageProperties,
  type OutboundMessage,
  type PublishReceipt,
  type Route,
} from '../brokers/types.js';
import { resolvePublishTarget, type RouteFlags } from '../config/catalog.js';
import {
  collectHeader,
  parseDuration,
  parseNonNegativeInt,
  parsePositiveInt,
  parseRate,
} from '../config/parse-args.js';
import { MqError, PartialError, UsageError } from '../errors.js';
import { writeJson } from '../io/json.js';
import type { Factory } from '../factory.js';
import {
  addMessageOutputOptions,
  createMessagePrinter,
  messageOutputOf,
  type MessageOutput,
  type MessageOutputFlags,
} from './shared/messages.js';
import { startProgress } from '../io/progress.js';
import type { ReadyMessage } from '../fixtures/prepare.js';
import { messageIdSequence } from '../message/message-ids.js';
import { deadline, pause } from './shared/deadline.js';

export interface PublishOptions {
  f: Factory;
  event: string;
  inputs: string[];
  route: RouteFlags;
  key: string | undefined;
  headers: [string, string][];
  repeat: number;
  /** Messages per second; undefined for as fast as confirms allow. */
  rate: number | undefined;
  /** Overall deadline in milliseconds. */
  timeout: number | undefined;
  dryRun: boolean;
  /** How --dry-run prints the envelopes. */
  output: MessageOutput;
  format: string | undefined;
  /** Without --dry-run: print the summary as JSON. */
  json: boolean;
}

interface PublishFlags extends RouteFlags, MessageOutputFlags {
  from?: string;
  toQueue?: string;
  key?: string;
  header?: [string, string][];
  repeat: number;
  rate?: number;
  timeout?: number;
  dryRun: boolean;
}

export function newPublishCommand(f: Factory, runF = publishRun): Command {
  const command = new Command('publish')
    .summary('publish an event from fixture files, a directory or stdin, with confirms')
    .description(
      'Publishes <event> with the bodies in [file...]: a JSON file, a JSON array (one message per element),\n' +
        'NDJSON, a directory of them, or - for stdin. Templates {{uuid}}, {{now}}, {{seq}}, {{env.NAME}} and\n' +
        "{{randomInt a b}} are rendered per message. Every input is checked (syntax, templates, the event's\n" +
        'JSON Schema from mq.config.json) before the first message is sent.\n\n' +
        'The route comes from flags, else the event catalog in mq.config.json, else the defaults: exchange\n' +
        'amq.topic with the event name as routing key on AMQP, a topic named after the event on Kafka.\n\n' +
        'With --from, it replays envelopes saved as NDJSON instead, bodies and headers exactly as saved: a dead\n' +
        'letter goes back to the queue that dead-lettered it, alone; any other message the way it came\n' +
        '(its exchange and routing key, or topic); with --to-queue, all to that queue.',
    )
    .argument('[event]', 'event type, e.g. order.placed (not with --from)')
    .argument('[file...]', 'fixture files or directories; - for stdin')
    .option(
      '--from <file>',
      'replay saved envelopes (NDJSON from tail, peek or dlq ls --json; - for stdin) where they came from',
    )
    .option('--to-queue <queue>', 'with --from: send every envelope to this queue alone')
    .option('--exchange <name>', 'AMQP exchange (overrides the catalog)')
    .option('--routing-key <key>', 'AMQP routing key (overrides the catalog)')
    .option('--topic <name>', 'Kafka topic (overrides the catalog)')
    .option('--key <key>', 'Kafka record key (default: the catalog key field of each body)')
    .option('--partition <n>', 'Kafka partition', parseNonNegativeInt)
    .option('--header <key=value>', 'add a header (repeatable)', collectHeader)
    .option(
      '--repeat <n>',
      'send the whole input n times ({{seq}} counts across repeats)',
      parsePositiveInt,
      1,
    )
    .option('--rate <n/s>', 'at most this many messages per second', parseRate)
    .option(
      '--timeout <duration>',
      'overall deadline; unconfirmed messages are then reported (exit 4)',
      parseDuration,
    )
    .option(
      '--dry-run',
      'render and validate, print the envelopes that would be sent, send nothing',
      false,
    );
  return addMessageOutputOptions(command, { filter: false })
    .addHelpText(
      'after',
      `
Examples:
  $ mq publish order.placed fixtures/order.placed.json
  $ mq publish order.placed fixtures/order.placed.json --dry-run --json
  $ mq publish order.placed orders.ndjson --repeat 100 --rate 50/s
  $ echo '{"orderId":"{{uuid}}","n":{{seq}}}' | mq publish order.placed - --repeat 3
  $ mq --broker kafka://localhost:9092 publish order.placed fixtures/ --key ord-1
  $ mq dlq ls sms_service_queue --json > dead.ndjson && mq publish --from dead.ndjson`,
    )
    .action(async (event: string | undefined, files: string[], flags: PublishFlags) => {
      if (flags.from !== undefined) {
        await replay(f, event, files, flags);
        return;
      }
      if (flags.toQueue !== undefined) {
        throw new UsageError('--to-queue goes with --from', {
          hint: 'to publish fixtures to one queue: --exchange "" --routing-key <queue>',
        });
      }
      if (event === undefined) {
        throw new UsageError('no event given', {
          hint: 'mq publish <event> <file>, e.g. mq publish order.placed fixtures/order.placed.json; or mq publish --from <saved.ndjson>',
        });
      }
      if (files.length === 0) {
        throw new UsageError('no fixture given', {
          hint: `name a file or directory, or - for stdin: mq publish ${event} fixtures/${event}.json`,
        });
      }
      if (!flags.dryRun && (flags.fields ?? flags.format ?? flags.output) !== undefined) {
        throw new UsageError('--fields, --format and --output shape what --dry-run prints', {
          hint: 'add --dry-run, or use --json for a summary of a real publish',
        });
      }
      await runF({
        f,
        event,
        inputs: files,
        route: pickRouteFlags(flags),
        key: flags.key,
        headers: flags.header ?? [],
        repeat: flags.repeat,
        rate: flags.rate,
        timeout: flags.timeout,
        dryRun: flags.dryRun,
        output: messageOutputOf(flags),
        format: flags.format,
        json: flags.json,
      });
    });
}

/** The flags that shape fixtures or pick a route; a replay takes both from its envelopes. */
const NOT_WITH_FROM = [
  ['exchange', '--exchange'],
  ['routingKey', '--routing-key'],
  ['topic', '--topic'],
  ['key', '--key'],
  ['partition', '--partition'],
  ['header', '--header'],
  ['fields', '--fields'],
  ['format', '--format'],
  ['output', '--output'],
] as const;

async function replay(
  f: Factory,
  event: string | undefined,
  files: string[],
  flags: PublishFlags,
): Promise<void> {
  if (event !== undefined || files.length > 0) {
    throw new UsageError('--from replays saved envelopes: it takes no <event> or files', {
      hint: 'mq publish --from saved.ndjson',
    });
  }
  const clash = NOT_WITH_FROM.find(([field]) => flags[field] !== undefined);
  if (clash !== undefined || flags.repeat !== 1) {
    throw new UsageError(`${clash?.[1] ?? '--repeat'} does not go with --from`, {
      hint: 'a replay sends each envelope once, as it was saved; --to-queue picks one queue for all',
    });
  }
  const { replayRun } = await import('./publish-replay.js');
  await replayRun({
    f,
    from: flags.from!,
    toQueue: flags.toQueue,
    rate: flags.rate,
    timeout: flags.timeout,
    json: flags.json,
    dryRun: flags.dryRun,
  });
}

function pickRouteFlags(flags: PublishFlags): RouteFlags {
  return {
    ...(flags.exchange === undefined ? {} : { exchange: flags.exchange }),
    ...(flags.routingKey === undefined ? {} : { routingKey: flags.routingKey }),
    ...(flags.topic === undefined ? {} : { topic: flags.topic }),
    ...(flags.partition === undefined ? {} : { partition: flags.partition }),
  };
}

export async function publishRun(opts: PublishOptions): Promise<void> {
  const { f } = opts;
  const { spec } = await f.brokerChoice();
  const project = await f.project();
  const target = resolvePublishTarget(opts.event, opts.route, project, spec.kind);
  if (target.warning) f.io.notice(`warning: ${target.warning}`);
  if (opts.key !== undefined && spec.kind !== 'kafka') {
    throw new UsageError(`--key applies to Kafka, not to the ${spec.kind} broker`);
  }
  const event = target.event;
  const [{ loadFixtures }, { prepareMessages }, schema] = await Promise.all([
    import('../fixtures/load.js'),
    import('../fixtures/prepare.js'),
    project && event
      ? import('../config/project-file.js').then(({ loadEventSchema }) =>
          loadEventSchema(project, event),
        )
      : null,
  ]);
  const documents = await loadFixtures(opts.inputs, { stdin: f.io.in, cwd: f.cwd });
  const keyField = spec.kind === 'kafka' && opts.key === undefined ? event?.key : undefined;
  const ready = await prepareMessages(documents, {
    repeat: opts.repeat,
    env: f.env,
    ...(schema ? { schema: schema.schema, schemaName: schema.file } : {}),
    ...(keyField ? { keyField } : {}),
  });

  const headers: Headers = { ...(event?.headers ?? {}) };
  for (const [name, value] of opts.headers) headers[name] = value;
  const contentType = event?.contentType;
  const nextMessageId = messageIdSequence();
  // One stamp for the whole run: on Kafka, records of one batch with equal timestamps encode
  // without per-record 64-bit arithmetic.
  const timestamp = Date.now();
  // A Kafka record has no AMQP properties: of these only the timestamp travels, so every record
  // of the run shares them, and no message id is made that would never be sent.
  const recordProperties: MessageProperties | null = spec.kind === 'kafka' ? { timestamp } : null;
  const propertiesOf = (message: ReadyMessage): MessageProperties => {
    if (recordProperties !== null) return recordProperties;
    // Assigned rather than spread: this runs once per message of a --repeat run.
    const properties: MessageProperties = {
      messageId: nextMessageId(),
      timestamp,
      deliveryMode: 2,
    };
    if (contentType ?? message.json !== undefined) {
      properties.contentType = contentType ?? 'application/json';
    }
    return properties;
  };
  const outbound = (message: ReadyMessage): OutboundMessage => {
    const key = opts.key ?? message.key;
    const made: OutboundMessage = {
      body: message.body,
      headers,
      properties: propertiesOf(message),
    };
    if (key !== undefined) made.key = Buffer.from(key, 'utf8');
    return made;
  };

  if (opts.dryRun) {
    const { toEnvelope } = await import('../message/envelope-codec.js');
    const printer = await createMessagePrinter({
      io: f.io,
      broker: spec.kind,
      output: opts.output,
      filter: undefined,
      format: opts.format,
    });
    // Routing decides the queues, so a planned message names none (only its Kafka topic).
    const sourceKind = target.route.kind === 'topic' ? 'topic' : null;
    for (const message of ready) {
      await printer.print(
        toEnvelope(plannedDelivery(outbound(message), target.route), {
          broker: spec.kind,
          sourceKind,
        }),
      );
    }
    f.io.notice(
      `dry run: ${ready.length} message(s) would go to ${describeRoute(target.route)} on ${spec.display}; nothing was sent`,
    );
    return;
  }
  await send(
    opts,
    {
      total: ready.length,
      parts: [{ route: target.route, from: 0, to: ready.length }],
      message: (index) => outbound(ready[index]!),
    },
    spec.display,
  );
}

/** The message as a consumer would read it, for --dry-run: no position, no delivery state. */
function plannedDelivery(message: OutboundMessage, route: Route): InboundMessage {
  return {
    ...message,
    id: message.properties?.messageId ?? crypto.randomUUID(),
    source: route.kind === 'topic' ? route.topic : route.kind === 'queue' ? route.queue : '',
    exchange: route.kind === 'exchange' ? route.exchange : route.kind === 'queue' ? '' : null,
    routingKey:
      route.kind === 'exchange' ? route.routingKey : route.kind === 'queue' ? route.queue : null,
    partition: route.kind === 'topic' ? (route.partition ?? null) : null,
    offset: null,
    timestamp: message.properties?.timestamp ?? null,
    redelivered: false,
    deliveryCount: null,
    death: null,
  };
}

export function describeRoute(route: Route): string {
  switch (route.kind) {
    case 'exchange':
      return `exchange ${route.exchange} with routing key ${route.routingKey}`;
    case 'queue':
      return `queue ${route.queue}`;
    case 'topic':
      return `topic ${route.topic}${route.partition === undefined ? '' : ` partition ${route.partition}`}`;
  }
}

/**
 * Messages per publish() call: each call keeps the broker's confirm window full, and the messages
 * of a call are made just before it, so a large run holds one chunk of them at a time.
 */
const PUBLISH_CHUNK = 10_000;

/**
 * What a run sends: consecutive parts with one route each, the messages made by index when their
 * chunk goes (a replay of saved envelopes may go to several routes, a fixture run to one).
 */
export interface PublishPlan {
  total: number;
  parts: readonly { route: Route; from: number; to: number }[];
  message(index: number): OutboundMessage;
}

export type SendOptions = Pick<PublishOptions, 'f' | 'rate' | 'timeout' | 'json'>;

export async function send(
  opts: SendOptions,
  plan: PublishPlan,
  brokerName: string,
): Promise<void> {
  const { f } = opts;
  const broker = await f.broker();
  const stop = deadline(f.signal, opts.timeout);
  const progress = await startProgress(f.io, 'publishing', plan.total);
  const started = performance.now();
  const receipts: PublishReceipt[] = [];
  /** Why publishing stopped before the end, when the broker went away part-way. */
  let stoppedBy: MqError | null = null;
  // --rate sends one message per call, spaced out.
  const chunk = opts.rate === undefined ? PUBLISH_CHUNK : 1;
  const spacingMs = opts.rate === undefined ? 0 : 1000 / opts.rate;
  try {
    sending: for (const part of plan.parts) {
      for (let from = part.from; from < part.to; from += chunk) {
        if (stop.signal.aborted) break sending;
        const batchStart = performance.now();
        const before = receipts.length;
        const to = Math.min(from + chunk, part.to);
        try {
          const batch: OutboundMessage[] = [];
          for (let index = from; index < to; index += 1) batch.push(plan.message(index));
          const published = await broker.publish(part.route, batch, {
            signal: stop.signal,
            onProgress: (settled) => progress.update(before + settled),
          });
          // One by one: push(...published) overflows the stack past ~120,000 receipts.
          for (const receipt of published) receipts.push(receipt);
          // A broker that left some of a chunk unconfirmed (Kafka after its retries) or unsent
          // will not do better with the next: the rest of the run is reported not sent.
          const incomplete =
            published.length < batch.length ||
            published.some((receipt) => receipt.status === 'unconfirmed');
          if (incomplete) break sending;
        } catch (error) {
          // Before anything was sent the error stands alone; after, the summary must still say
          // what was confirmed.
          if (error instanceof PublishStopped) {
            for (const receipt of error.receipts) receipts.push(receipt);
          } else if (receipts.length === 0 || !(error instanceof MqError)) {
            throw error;
          }
          stoppedBy = error;
          break sending;
        }
        progress.update(receipts.length);
        const wait = spacingMs - (performance.now() - batchStart);
        if (wait > 0 && to < plan.total) await pause(wait, stop.signal);
      }
    }
  } finally {
    progress.stop();
    stop.dispose();
  }
  const elapsedMs = performance.now() - started;
  const only = plan.parts.length === 1 ? plan.parts[0]!.route : null;
  const summary = summarise(receipts, plan.total, elapsedMs, only);
  const where = routesText(plan);
  if (opts.json) writeJson(f.io, summary);
  const latency = summary.confirmLatencyMs;
  f.io.notice(
    `published ${summary.confirmed}/${summary.total} to ${where} on ${brokerName} in ${(elapsedMs / 1000).toFixed(2)}s` +
      ` (${summary.ratePerSec.toFixed(0)}/s, confirm p50 ${latency.p50 ?? '-'} ms, p99 ${latency.p99 ?? '-'} ms)`,
  );
  if (stoppedBy !== null) {
    throw new PartialError(
      `${stoppedBy.message}; ${summary.confirmed} confirmed, ${summary.unconfirmed} unconfirmed (they may or may not have arrived), ${summary.notSent} not sent`,
      {
        cause: stoppedBy,
        hint:
          stoppedBy.hint ??
          'with --json the summary lists the unconfirmed messages (unconfirmedMessages); messages from index total - notSent on were never sent',
      },
    );
  }
  if (summary.unroutable > 0) {
    throw new PartialError(
      `${summary.unroutable} message(s) were unroutable: nothing is bound to ${where}`,
      {
        hint: 'check the bindings with mq describe <queue>, or publish with another --routing-key',
      },
    );
  }
  if (summary.unconfirmed > 0) {
    throw new PartialError(
      `${summary.unconfirmed} message(s) were not confirmed by the broker; they may or may not have arrived`,
      { hint: 'with --json the summary lists them (unconfirmedMessages)' },
    );
  }
  if (summary.notSent > 0) {
    const why = stop.timedOut() ? 'the --timeout passed' : 'interrupted';
    throw new PartialError(`${summary.notSent} message(s) were not sent: ${why}`);
  }
}

/** `queue a`, or `2 routes (queue a, exchange b with routing key c)`. */
function routesText(plan: PublishPlan): string {
  const routes = [...new Set(plan.parts.map((part) => describeRoute(part.route)))];
  return routes.length === 1 ? routes[0]! : `${routes.length} routes (${routes.join(', ')})`;
}

function summarise(
  receipts: PublishReceipt[],
  total: number,
  elapsedMs: number,
  route: Route | null,
) {
  // Once per message of the run: a typed array sorts numbers without a comparator call each.
  const latencies = new Float64Array(receipts.length);
  let measured = 0;
  for (const receipt of receipts) {
    if (receipt.confirmLatencyMs !== null) latencies[measured++] = receipt.confirmLatencyMs;
  }
  const sorted = latencies.subarray(0, measured).sort();
  const percentile = (p: number) =>
    measured === 0
      ? null
      : Math.round(sorted[Math.min(measured - 1, Math.floor(p * measured))]! * 10) / 10;
  let confirmed = 0;
  const unroutableMessages: { index: number; messageId: string }[] = [];
  const unconfirmedMessages: { index: number; messageId: string }[] = [];
  receipts.forEach((receipt, index) => {
    if (receipt.status === 'confirmed') confirmed += 1;
    else if (receipt.status === 'unroutable')
      unroutableMessages.push({ index, messageId: receipt.messageId });
    else unconfirmedMessages.push({ index, messageId: receipt.messageId });
  });
  return {
    route,
    total,
    confirmed,
    unroutable: unroutableMessages.length,
    unconfirmed: unconfirmedMessages.length,
    notSent: total - receipts.length,
    unroutableMessages,
    unconfirmedMessages,
    elapsedMs: Math.round(elapsedMs),
    ratePerSec: confirmed / Math.max(elapsedMs / 1000, 1e-3),
    confirmLatencyMs: { p50: percentile(0.5), p99: percentile(0.99) },
  };
}
