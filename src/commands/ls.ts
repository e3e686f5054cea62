import { Command } from 'commander';
import { QUEUE_INFO_FIELDS, requireCapability, type QueueInfo } from '../brokers/types.js';
import { addJsonOptions, jsonChoice, pickFields, type JsonChoice } from '../io/json-fields.js';
import { writeJson } from '../io/json.js';
import type { Factory } from '../factory.js';
import { printRows } from '../io/table.js';
import { parseDuration } from '../config/parse-args.js';
import { pause } from './shared/deadline.js';

export interface LsOptions {
  f: Factory;
  pattern: string | undefined;
  json: JsonChoice;
  /** Refresh every this many milliseconds until Ctrl-C; undefined: list once. */
  watchMs: number | undefined;
}

export function newLsCommand(f: Factory, runF = lsRun): Command {
  const command = new Command('ls')
    .summary('list queues and topics with their depth, consumers and dead-letter queue')
    .argument('[pattern]', 'only names matching this glob (* and ?)')
    .option(
      '-w, --watch [interval]',
      'refresh every 2s (or the interval given) until Ctrl-C',
      parseDuration,
    );
  return addJsonOptions(command, QUEUE_INFO_FIELDS)
    .addHelpText(
      'after',
      "\nExamples:\n  $ mq ls\n  $ mq ls 'order*' --json\n  $ mq ls --fields name,ready",
    )
    .action(
      async (
        pattern: string | undefined,
        flags: { json: boolean; fields?: string; watch?: true | number },
      ) => {
        const watchMs = flags.watch === true ? DEFAULT_WATCH_MS : flags.watch;
        await runF({ f, pattern, json: jsonChoice(flags, QUEUE_INFO_FIELDS), watchMs });
      },
    );
}

const show = (value: number | null) => (value === null ? '-' : String(value));

const DEFAULT_WATCH_MS = 2000;
/** Home the cursor and clear the screen, so each refresh replaces the last. */
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

export async function lsRun(opts: LsOptions): Promise<void> {
  const { f } = opts;
  const inspection = requireCapability(await f.broker(), 'inspection');
  if (opts.watchMs === undefined) {
    await printQueues(f, opts, await inspection.list(opts.pattern));
    return;
  }
  // Ctrl-C is the normal way to stop watching: exit 0.
  while (!f.signal.aborted) {
    const queues = await inspection.list(opts.pattern);
    if (f.io.isStdoutTTY() && !opts.json.json) f.io.out.write(CLEAR_SCREEN);
    await printQueues(f, opts, queues);
    if (!f.io.isStdoutTTY() && !opts.json.json) f.io.out.write('\n');
    await pause(opts.watchMs, f.signal);
  }
}

async function printQueues(f: Factory, opts: LsOptions, queues: QueueInfo[]): Promise<void> {
  if (opts.json.json) {
    const { fields } = opts.json;
    writeJson(
      f.io,
      queues.map((queue) => pickFields(queue, fields)),
    );
    return;
  }
  if (queues.length === 0) {
    f.io.status(
      opts.pattern === undefined ? 'no queues or topics' : `nothing matches ${opts.pattern}`,
    );
    return;
  }
  const byName = new Map(queues.map((queue) => [queue.name, queue]));
  const dlqDepth = (queue: QueueInfo) =>
    queue.deadLetterQueue === null
      ? ''
      : `${queue.deadLetterQueue} (${show(byName.get(queue.deadLetterQueue)?.ready ?? null)})`;
  await printRows(
    f.io,
    ['NAME', 'TYPE', 'READY', 'UNACKED', 'CONSUMERS', 'DEAD LETTERS'],
    queues.map((queue) => [
      queue.name,
      queue.type ?? '-',
      show(queue.ready),
      show(queue.unacked),
      show(queue.consumers),
      dlqDepth(queue),
    ]),
  );
  if (queues.some((queue) => queue.sampled))
    f.io.status(f.io.colors.dim('figures from the management API are sampled (~5 s behind)'));
}
