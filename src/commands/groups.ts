import { Command } from 'commander';
import { GROUP_INFO_FIELDS, type GroupInfo } from '../brokers/types.js';
import type { Factory } from '../factory.js';
import { addJsonOptions, jsonChoice, pickFields, type JsonChoice } from '../io/json-fields.js';
import { writeJson } from '../io/json.js';
import { printRows } from '../io/table.js';
import { sanitizeLine } from '../message/sanitize.js';
import { requireConsumerGroups } from './shared/consumer-groups.js';

export interface GroupsOptions {
  f: Factory;
  pattern: string | undefined;
  /** Also mq's throwaway read groups (`mq-ephemeral-<uuid>`). */
  all: boolean;
  json: JsonChoice;
}

export function newGroupsCommand(f: Factory, runF = groupsRun): Command {
  const command = new Command('groups')
    .summary('list Kafka consumer groups with their committed offsets and lag')
    .description(
      'Lists each consumer group with its state and members, and per partition it\n' +
        'has committed in: the committed offset, the end offset and the lag between\n' +
        'them. On a terminal a group with several partitions ends with its total lag;\n' +
        "piped, rows are tab-separated data only (--json has totalLag). mq's own\n" +
        'throwaway read groups (mq-ephemeral-<uuid>) are hidden unless --all.',
    )
    .argument('[pattern]', 'only groups whose id matches this glob (* and ?)')
    .option('-a, --all', "also list mq's throwaway read groups", false);
  return addJsonOptions(command, GROUP_INFO_FIELDS)
    .addHelpText(
      'after',
      `
Examples:
  $ mq --broker kafka://localhost:9092 groups
  $ mq --broker kafka://localhost:9092 groups 'billing-*' --json
  $ mq --broker kafka://localhost:9092 groups --fields group,totalLag`,
    )
    .action(
      async (
        pattern: string | undefined,
        flags: { all: boolean; json: boolean; fields?: string },
      ) => {
        await runF({ f, pattern, all: flags.all, json: jsonChoice(flags, GROUP_INFO_FIELDS) });
      },
    );
}

export async function groupsRun(opts: GroupsOptions): Promise<void> {
  const { f } = opts;
  const found = await requireConsumerGroups(await f.broker(), 'mq groups').list(opts.pattern);
  const groups = opts.all ? found : found.filter((group) => !group.ephemeral);
  const hidden = found.length - groups.length;
  if (opts.json.json) {
    const { fields } = opts.json;
    writeJson(
      f.io,
      groups.map((group) => pickFields(group, fields)),
    );
  } else if (groups.length === 0) {
    f.io.status(
      opts.pattern === undefined ? 'no consumer groups' : `no group matches ${opts.pattern}`,
    );
  } else {
    const totals = f.io.isStdoutTTY();
    await printRows(
      f.io,
      ['GROUP', 'STATE', 'MEMBERS', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'],
      groups.flatMap((group) => rows(group, totals)),
    );
  }
  if (hidden > 0)
    f.io.status(f.io.colors.dim(`${hidden} throwaway mq group(s) hidden; --all shows them`));
}

const show = (value: string | number | null) => (value === null ? '-' : String(value));

/** One row per partition (one for a group without commits), and on a terminal a total row. */
function rows(group: GroupInfo, withTotal: boolean): string[][] {
  const lead = [sanitizeLine(group.group), group.state, String(group.members.length)];
  if (group.offsets.length === 0) return [[...lead, '-', '-', '-', '-', '-']];
  const partitions = group.offsets.map((offset) => [
    ...lead,
    offset.topic,
    String(offset.partition),
    offset.committed,
    show(offset.end),
    show(offset.lag),
  ]);
  // "(total)" cannot be a topic name: Kafka allows only letters, digits, '.', '_' and '-'.
  if (!withTotal || group.offsets.length < 2) return partitions;
  return [...partitions, [...lead, '(total)', '', '', '', show(group.totalLag)]];
}
