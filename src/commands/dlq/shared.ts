import type { BrokerAdapter, Inspection } from '../../brokers/types.js';
import { requireCapability } from '../../brokers/types.js';
import { InterruptedError, NotFoundError, UnsupportedError, UsageError } from '../../errors.js';
import { sanitizeLine } from '../../message/sanitize.js';
import type { Factory } from '../../factory.js';

export interface DeadLetterSource {
  broker: BrokerAdapter;
  inspection: Inspection;
  /** The queue the dead letters came from, as the user named it. */
  queue: string;
  deadLetterQueue: string;
  /** How many wait in the dead-letter queue now (null where the broker cannot say). */
  depth: number | null;
}

/**
 * The dead-letter queue of `queue`: from its dead-letter arguments and bindings, or the project
 * file where the broker cannot tell (what `mq describe` shows). A queue without one is exit 1.
 */
export async function deadLetterSource(f: Factory, queue: string): Promise<DeadLetterSource> {
  const broker = await f.broker();
  const inspection = requireCapability(broker, 'inspection');
  const info = await inspection.describe(queue);
  // A log's dead letters are positions of a consumer group (DESIGN.md §7), not a queue's front.
  if (info.kind === 'topic') {
    throw new UnsupportedError('mq dlq does not read dead-letter topics yet', {
      hint: 'mq peek <topic>-dlt shows the newest dead letters of a topic',
    });
  }
  let deadLetterQueue = info.deadLetterQueue;
  if (deadLetterQueue === null) {
    // Named by its dead-letter queue instead: fine too, when some queue dead-letters into it.
    const queues = await inspection.list().catch(() => []);
    if (queues.some((other) => other.deadLetterQueue === queue)) deadLetterQueue = queue;
  }
  if (deadLetterQueue === null) {
    throw new NotFoundError(`queue "${queue}" has no dead-letter queue`, {
      hint: 'mq describe shows its dead-letter settings; deadLetterQueue in mq.config.json declares one (then mq topology apply)',
    });
  }
  const depth =
    deadLetterQueue === queue ? info.ready : (await inspection.describe(deadLetterQueue)).ready;
  return { broker, inspection, queue, deadLetterQueue, depth };
}

/** RabbitMQ names a message without a message id by a hash of its content, `sha256:<hex>`. */
const CONTENT_ID = 'sha256:';

/** An id as `mq dlq ls` shows it: 8 characters, of the hash where the id is one. */
export function shortId(id: string): string {
  return id.startsWith(CONTENT_ID)
    ? id.slice(CONTENT_ID.length, CONTENT_ID.length + 8)
    : id.slice(0, 8);
}

/** Whether `id` is the one asked for, whole or by a prefix (of the hash, for a content id). */
export function idMatches(id: string, asked: string): boolean {
  return (
    id.startsWith(asked) ||
    (id.startsWith(CONTENT_ID) && id.slice(CONTENT_ID.length).startsWith(asked))
  );
}

/**
 * A change to the dead-letter queue goes ahead with --yes, or when the person at the terminal says
 * yes; without a terminal it is exit 2, and a no is exit 130 (nothing was changed either way).
 */
export async function confirmChange(
  f: Factory,
  change: { yes: boolean; refusal: string; hint: string; question: string; declined: string },
): Promise<void> {
  if (change.yes) return;
  if (!f.io.canPrompt()) {
    throw new UsageError(`${change.refusal}: confirm with --yes`, { hint: change.hint });
  }
  if (!(await f.prompter.confirm(sanitizeLine(change.question), false))) {
    throw new InterruptedError(change.declined);
  }
}
