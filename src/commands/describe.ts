import { Command } from 'commander';
import {
  QUEUE_INFO_FIELDS,
  requireCapability,
  type Inspection,
  type QueueInfo,
} from '../brokers/types.js';
import { addJsonOptions, jsonChoice, pickFields, type JsonChoice } from '../io/json-fields.js';
import { writeJson } from '../io/json.js';
import type { Factory } from '../factory.js';

export interface DescribeOptions {
  f: Factory;
  name: string;
  json: JsonChoice;
}

export function newDescribeCommand(f: Factory, runF = describeRun): Command {
  const command = new Command('describe')
    .summary('show one queue or topic: depth, consumers, type, limits, dead letters and bindings')
    .argument('<name>', 'queue or topic');
  return addJsonOptions(command, QUEUE_INFO_FIELDS)
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq describe email_service_queue\n  $ mq describe email_service_queue --json',
    )
    .action(async (name: string, flags: { json: boolean; fields?: string }) => {
      await runF({ f, name, json: jsonChoice(flags, QUEUE_INFO_FIELDS) });
    });
}

/** What RabbitMQ shows only through its management API. */
const UNKNOWN = 'unknown without the management API';

export async function describeRun(opts: DescribeOptions): Promise<void> {
  const { f } = opts;
  const inspection = requireCapability(await f.broker(), 'inspection');
  const info = await inspection.describe(opts.name);
  if (opts.json.json) {
    writeJson(f.io, pickFields(info, opts.json.fields));
    return;
  }
  if (info.kind === 'topic') {
    await describeTopic(f, inspection, info);
    return;
  }
  const deadLetters =
    info.deadLetterQueue === null
      ? null
      : await inspection.describe(info.deadLetterQueue).then(
          (dlq) => `${dlq.name} (${dlq.ready ?? '?'} waiting) via ${info.deadLetterExchange}`,
          () => `${info.deadLetterQueue} via ${info.deadLetterExchange}`,
        );
  const rows: [string, string | number | null][] = [
    ['name', info.name],
    ['kind', info.kind],
    ['type', info.type],
    ['ready', info.ready],
    ['unacked', info.unacked],
    ['consumers', info.consumers],
    ['max deliveries', info.maxDeliveries],
    ['message ttl', info.messageTtlMs === null ? null : `${info.messageTtlMs} ms`],
    [
      'dead letters',
      deadLetters ??
        (info.deadLetterExchange !== null
          ? `via ${info.deadLetterExchange}`
          : info.bindings === null
            ? UNKNOWN
            : 'none: rejected messages are discarded'),
    ],
  ];
  const lines = rows
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `${key}\t${String(value)}`);
  const bindings = info.bindings ?? [];
  lines.push(`bindings\t${info.bindings === null ? UNKNOWN : bindings.length === 0 ? 'none' : ''}`);
  for (const binding of bindings)
    lines.push(
      `  ${binding.exchange} ── ${binding.routingKey === '' ? '(all)' : binding.routingKey}`,
    );
  f.io.out.write(`${lines.join('\n')}\n`);
  if (info.sampled)
    f.io.status(f.io.colors.dim('figures from the management API are sampled (~5 s behind)'));
}

/** A log: its partitions with their offsets, its configuration and its dead-letter topic. */
async function describeTopic(f: Factory, inspection: Inspection, info: QueueInfo): Promise<void> {
  const deadLetters =
    info.deadLetterQueue === null
      ? 'none found (looked for <topic>-dlt, <topic>.DLT, <topic>.dlq)'
      : await inspection.describe(info.deadLetterQueue).then(
          (dlt) => `${dlt.name} (${dlt.ready ?? '?'} kept)`,
          () => `${info.deadLetterQueue} (does not exist)`,
        );
  const lines = [
    `name\t${info.name}`,
    `kind\ttopic`,
    `records\t${info.ready ?? '-'} (end offset - earliest offset, summed over partitions)`,
    `retention\t${info.messageTtlMs === null ? 'unlimited' : `${info.messageTtlMs} ms`}`,
    `dead letters\t${deadLetters}`,
    `partitions\t${info.partitions?.length ?? 0}`,
    ...(info.partitions ?? []).map(
      (p) =>
        `  ${p.partition}\tleader ${p.leader ?? 'none'}\toffsets ${p.earliestOffset}..${p.endOffset}`,
    ),
    `configs\t${Object.keys(info.configs ?? {}).length === 0 ? 'broker defaults' : ''}`,
    ...Object.entries(info.configs ?? {}).map(([key, value]) => `  ${key}\t${value}`),
  ];
  f.io.out.write(`${lines.join('\n')}\n`);
}
