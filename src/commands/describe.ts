import { Command } from 'commander';
import { QUEUE_INFO_FIELDS, requireCapability } from '../brokers/types.js';
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

export async function describeRun(opts: DescribeOptions): Promise<void> {
  const { f } = opts;
  const inspection = requireCapability(await f.broker(), 'inspection');
  const info = await inspection.describe(opts.name);
  if (opts.json.json) {
    writeJson(f.io, pickFields(info, opts.json.fields));
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
        (info.deadLetterExchange === null
          ? 'none: rejected messages are discarded'
          : `via ${info.deadLetterExchange}`),
    ],
  ];
  const lines = rows
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `${key}\t${String(value)}`);
  lines.push(`bindings\t${info.bindings.length === 0 ? 'none' : ''}`);
  for (const binding of info.bindings)
    lines.push(
      `  ${binding.exchange} ── ${binding.routingKey === '' ? '(all)' : binding.routingKey}`,
    );
  f.io.out.write(`${lines.join('\n')}\n`);
  if (info.sampled)
    f.io.status(f.io.colors.dim('figures from the management API are sampled (~5 s behind)'));
}
