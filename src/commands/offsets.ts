import { Command, InvalidArgumentError } from 'commander';
import { OFFSET_RESET_FIELDS, type LogPosition, type OffsetResetResult } from '../brokers/types.js';
import { UsageError } from '../errors.js';
import type { Factory } from '../factory.js';
import { addJsonOptions, jsonChoice, pickFields, type JsonChoice } from '../io/json-fields.js';
import { writeJson } from '../io/json.js';
import { printRows } from '../io/table.js';
import { sanitizeLine } from '../message/sanitize.js';
import { requireConsumerGroups } from './shared/consumer-groups.js';
import { parseLogPosition } from './tail.js';

export interface OffsetsResetOptions {
  f: Factory;
  group: string;
  topic: string;
  to: LogPosition;
  /** Without it, a dry run: the offsets are shown, nothing is committed. */
  execute: boolean;
  json: JsonChoice;
}

export function newOffsetsCommand(f: Factory): Command {
  return new Command('offsets')
    .summary('move a Kafka consumer group to replay or skip records')
    .description(
      "Moves a consumer group's committed offsets in a topic: back for a replay,\n" +
        'forward to skip a backlog. Kafka keeps records after they are read, so a\n' +
        'group moved back reads them again.',
    )
    .addCommand(newOffsetsResetCommand(f))
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq offsets reset billing order-events --to earliest\n  $ mq offsets reset billing order-events --to 1h --execute',
    );
}

/** `--to`: tail's `--from` positions, in the words Kafka's tools use for a reset. */
export function parseResetPosition(value: string): LogPosition {
  try {
    return parseLogPosition(value);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new InvalidArgumentError(
      'want earliest, latest, an offset, a time such as 2025-01-31T12:00:00Z, or a duration ago such as 1h',
    );
  }
}

export function newOffsetsResetCommand(f: Factory, runF = offsetsResetRun): Command {
  const command = new Command('reset')
    .summary("set a consumer group's offsets in a topic (a dry run unless --execute)")
    .description(
      'Shows, per partition of the topic, the offset the group has committed and\n' +
        'the one --to gives; only --execute commits them. --to earliest is the first\n' +
        'record kept, latest the end (skip everything); an offset applies to every\n' +
        'partition, clamped to what each one holds; a time (ISO 8601, or a duration\n' +
        'ago such as 1h) is the first record at or after it. Refused (exit 2), dry\n' +
        'run or not, while the group has members or when its membership cannot be\n' +
        'told: stop its consumers first. A group that never committed can be reset:\n' +
        'that is how a new group is placed.',
    )
    .argument('<group>', 'the consumer group to move')
    .argument('<topic>', 'the topic whose offsets to move (every partition)')
    .requiredOption(
      '--to <position>',
      'earliest, latest, an offset, a time (ISO 8601) or a duration ago (1h)',
      parseResetPosition,
    )
    .option('--execute', 'commit the new offsets (without it, nothing changes)', false);
  return addJsonOptions(command, OFFSET_RESET_FIELDS)
    .addHelpText(
      'after',
      `
Examples:
  $ mq --broker kafka://localhost:9092 offsets reset billing order-events --to earliest
  $ mq --broker kafka://localhost:9092 offsets reset billing order-events --to earliest --execute
  $ mq --broker kafka://localhost:9092 offsets reset billing order-events --to 2025-01-31T12:00:00Z --execute
  $ mq --broker kafka://localhost:9092 offsets reset billing order-events --to 30m --execute --json`,
    )
    .action(
      async (
        group: string,
        topic: string,
        flags: { to: LogPosition; execute: boolean; json: boolean; fields?: string },
      ) => {
        if (group.trim() === '') throw new UsageError('the group id is empty');
        if (topic.trim() === '') throw new UsageError('the topic name is empty');
        await runF({
          f,
          group,
          topic,
          to: flags.to,
          execute: flags.execute,
          json: jsonChoice(flags, OFFSET_RESET_FIELDS),
        });
      },
    );
}

export async function offsetsResetRun(opts: OffsetsResetOptions): Promise<void> {
  const { f } = opts;
  const groups = requireConsumerGroups(await f.broker(), 'mq offsets reset');
  const result = await groups.resetOffsets(opts.group, opts.topic, opts.to, {
    execute: opts.execute,
  });
  if (opts.json.json) {
    writeJson(f.io, pickFields(result, opts.json.fields));
  } else {
    await printRows(
      f.io,
      ['PARTITION', 'OLD', 'NEW', 'EARLIEST', 'END'],
      result.partitions.map((p) => [
        String(p.partition),
        p.oldOffset ?? '-',
        p.newOffset,
        p.earliestOffset,
        p.endOffset,
      ]),
    );
  }
  // A typo in the group id would otherwise quietly place a new group.
  if (result.partitions.every((p) => p.oldOffset === null)) {
    f.io.notice(
      `group "${sanitizeLine(result.group)}" has no committed offsets in ${result.topic} yet (a new group, or a mistyped id)`,
    );
  }
  const clamped = result.partitions.filter((p) => p.clamped).map((p) => p.partition);
  if (clamped.length > 0) {
    f.io.notice(
      `--to lies outside what partition(s) ${clamped.join(', ')} hold: clamped to their earliest or end offset`,
    );
  }
  f.io.notice(summary(result));
}

function summary(result: OffsetResetResult): string {
  const group = sanitizeLine(result.group);
  const moved = result.partitions.filter((p) => p.oldOffset !== p.newOffset).length;
  const count = `${moved} of ${result.partitions.length} partition(s) of ${result.topic}`;
  return result.executed
    ? `reset ${group} in ${count}: its consumers start from the new offsets`
    : `dry run: nothing changed; add --execute to move ${group} in ${count}`;
}
