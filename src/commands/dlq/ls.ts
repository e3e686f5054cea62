import { Command } from 'commander';
import ms from 'ms';
import { parsePositiveInt } from '../../config/parse-args.js';
import type { Factory } from '../../factory.js';
import { printRows } from '../../io/table.js';
import type { Envelope } from '../../message/envelope.js';
import { sanitizeLine } from '../../message/sanitize.js';
import {
  addMessageOutputOptions,
  asksForMessages,
  createMessagePrinter,
  messageOutputOf,
  type MessageOutputFlags,
} from '../shared/messages.js';
import { deadLetterSource, shortId } from './shared.js';

interface DlqLsFlags extends MessageOutputFlags {
  limit: number;
}

const PREVIEW_LENGTH = 40;

export function newDlqLsCommand(f: Factory): Command {
  const command = new Command('ls')
    .summary("list a queue's dead letters with their decoded death records")
    .description(
      'Lists the dead letters of a queue (found from its dead-letter settings, or mq.config.json) without\n' +
        'removing them: one row each with the reason it died, how often, where it came from and how often\n' +
        'mq redrove it, then a summary by reason and origin on stderr. --json prints each as an envelope\n' +
        'with its death record decoded.',
    )
    .argument('<queue>', 'the queue whose dead letters to list, or its dead-letter queue')
    .option('-n, --limit <n>', 'list at most this many, oldest first', parsePositiveInt, 100);
  return addMessageOutputOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ mq dlq ls sms_service_queue
  $ mq dlq ls sms_service_queue --json > dead-letters.ndjson
  $ mq dlq ls sms_service_queue --filter 'death.reason == "rejected"'`,
    )
    .action(async (queue: string, flags: DlqLsFlags) => {
      const output = messageOutputOf(flags);
      const source = await deadLetterSource(f, queue);
      const printer = await createMessagePrinter({
        io: f.io,
        broker: source.broker.kind,
        output,
        filter: flags.filter,
        format: flags.format,
      });
      const messages = await source.inspection.peek(source.deadLetterQueue, {
        limit: flags.limit,
        signal: f.signal,
      });
      const listed = messages
        .map((message) => printer.envelope(message))
        .filter((envelope) => printer.matches(envelope));
      // Rows by default; any message output asked for (--json, --output, --format) prints envelopes.
      if (asksForMessages(flags)) {
        for (const envelope of listed) await printer.print(envelope);
      } else if (listed.length > 0) {
        const now = Date.now();
        await printRows(
          f.io,
          ['ID', 'AGE', 'REASON', 'COUNT', 'ORIGIN', 'REDRIVES', 'BODY'],
          listed.map((envelope) => row(envelope, now)),
        );
      }
      f.io.notice(summary(listed, source.deadLetterQueue, source.depth, messages.length));
    });
}

function row(envelope: Envelope, now: number): string[] {
  const death = envelope.death;
  const died = death?.time ? Date.parse(death.time) : Number.NaN;
  return [
    sanitizeLine(shortId(envelope.id)),
    Number.isFinite(died) ? ms(Math.max(0, now - died)) : '-',
    sanitizeLine(death?.reason ?? '-'),
    death?.count === null || death === null ? '-' : String(death.count),
    sanitizeLine(origin(envelope)),
    String(death?.redriveCount ?? 0),
    preview(envelope),
  ];
}

/** `sms_service_queue ← order_events order.placed`: the queue it died in, and how it got there. */
function origin(envelope: Envelope): string {
  const death = envelope.death;
  if (death === null || death.queue === null) return '-';
  const route = [death.exchange === '' ? '(default)' : death.exchange, death.routingKeys.join(',')]
    .filter((part) => part)
    .join(' ');
  return route === '' ? death.queue : `${death.queue} ← ${route}`;
}

function preview(envelope: Envelope): string {
  if (envelope.bodyEncoding !== 'utf8') {
    return `(${Buffer.from(envelope.body, 'base64').length} bytes, not text)`;
  }
  const text = sanitizeLine(envelope.body);
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH - 1)}…` : text;
}

/** `3 dead letter(s) of 3 in sms_service_queue.dlq: 2 rejected from sms_service_queue, …` */
function summary(
  listed: readonly Envelope[],
  deadLetterQueue: string,
  depth: number | null,
  read: number,
): string {
  if (read === 0) return `${deadLetterQueue} is empty`;
  const groups = new Map<string, number>();
  for (const envelope of listed) {
    const reason = envelope.death?.reason ?? 'no death record';
    const from = envelope.death?.queue ?? 'unknown';
    const key = `${reason} from ${from}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const parts = [...groups].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${n} ${key}`);
  const of = depth === null ? '' : ` of ${depth}`;
  const filtered = listed.length === read ? '' : ` (${read} read, ${listed.length} matched)`;
  return sanitizeLine(
    `${listed.length} dead letter(s)${of} in ${deadLetterQueue}${filtered}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}; nothing was removed`,
  );
}
