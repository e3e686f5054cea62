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
        'amq.topic with the event name as routing key on AMQP, a topic named after the event on Kafka.',
    )
    .argument('<event>', 'event type, e.g. order.placed')
    .argument('[file...]', 'fixture files or directories; - for stdin')
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
  $ mq --broker kafka://localhost:9092 publish order.placed fixtures/ --key ord-1`,
    )
    .action(async (event: string, files: string[], flags: PublishFlags) => {
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
  const outbound = (message: ReadyMessage): OutboundMessage => {
    const key = opts.key ?? message.key;
    const isJson = message.json !== undefined;
    // Assigned rather than spread: this runs once per message of a --repeat run.
    const properties: MessageProperties = {
      messageId: nextMessageId(),
      timestamp,
      deliveryMode: 2,
    };
    if (contentType ?? isJson) properties.contentType = contentType ?? 'application/json';
    const made: OutboundMessage = { body: message.body, headers, properties };
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
  await send(opts, target.route, ready, outbound, spec.display);
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

async function send(
  opts: PublishOptions,
  route: Route,
  ready: readonly ReadyMessage[],
  outbound: (message: ReadyMessage) => OutboundMessage,
  brokerName: string,
): Promise<void> {
  const { f } = opts;
  const broker = await f.broker();
  const stop = deadline(f.signal, opts.timeout);
  const progress = await startProgress(f.io, 'publishing', ready.length);
  const started = performance.now();
  const receipts: PublishReceipt[] = [];
  /** Why publishing stopped before the end, when the broker went away part-way. */
  let stoppedBy: MqError | null = null;
  // --rate sends one message per call, spaced out.
  const chunk = opts.rate === undefined ? PUBLISH_CHUNK : 1;
  const spacingMs = opts.rate === undefined ? 0 : 1000 / opts.rate;
  try {
    for (let from = 0; from < ready.length; from += chunk) {
      if (stop.signal.aborted) break;
      const batchStart = performance.now();
      const before = receipts.length;
      try {
        const batch = ready.slice(from, from + chunk).map(outbound);
        const published = await broker.publish(route, batch, {
          signal: stop.signal,
          onProgress: (settled) => progress.update(before + settled),
        });
        // One by one: push(...published) overflows the stack past ~120,000 receipts.
        for (const receipt of published) receipts.push(receipt);
      } catch (error) {
        // Before anything was sent the error stands alone; after, the summary must still say
        // what was confirmed.
        if (error instanceof PublishStopped) {
          for (const receipt of error.receipts) receipts.push(receipt);
        } else if (receipts.length === 0 || !(error instanceof MqError)) {
          throw error;
        }
        stoppedBy = error;
        break;
      }
      progress.update(receipts.length);
      const wait = spacingMs - (performance.now() - batchStart);
      if (wait > 0 && from + chunk < ready.length) await pause(wait, stop.signal);
    }
  } finally {
    progress.stop();
    stop.dispose();
  }
  const elapsedMs = performance.now() - started;
  const summary = summarise(receipts, ready.length, elapsedMs, route);
  if (opts.json) writeJson(f.io, summary);
  const latency = summary.confirmLatencyMs;
  f.io.notice(
    `published ${summary.confirmed}/${summary.total} to ${describeRoute(route)} on ${brokerName} in ${(elapsedMs / 1000).toFixed(2)}s` +
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
      `${summary.unroutable} message(s) were unroutable: nothing is bound to ${describeRoute(route)}`,
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

function summarise(receipts: PublishReceipt[], total: number, elapsedMs: number, route: Route) {
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
