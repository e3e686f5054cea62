/**
 * The redrive journal (DESIGN.md §7): `$MQ_HOME/redrive/<run>.ndjson`, one line per step of each
 * message: `intent` before it is published, `confirmed` once the broker confirmed it, `removed`
 * once it was taken off the dead-letter queue. Intents are made durable (fsync) before their
 * window is published, confirmations before their window is removed: two syncs per confirm window,
 * never one per message. A run that ends says `done`.
 *
 * A rerun after a crash (kill -9 included) reads every unfinished journal of the same dead-letter
 * queue: a message confirmed but not removed is removed without being published again; one with
 * an intent but no confirmation may or may not have arrived, so it is published again and
 * reported as a possible duplicate. Once the rerun is done, those journals are marked done too.
 *
 * Messages are keyed by their id, mq's redrive count and the broker's death count: a message that
 * was redriven and died again has a higher redrive count, so it is a new dead letter, not the one
 * the journal speaks of. Identical copies share a key, so each key counts its copies.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { InboundMessage } from '../../brokers/types.js';

type Step = 'intent' | 'confirmed' | 'removed';

interface Header {
  type: 'run';
  run: string;
  broker: string;
  queue: string;
  startedAt: string;
}

type Line = Header | { type: Step; key: string } | { type: 'done'; by: string };

export function journalKey(message: InboundMessage): string {
  return `${message.id} ${message.death?.redriveCount ?? 0} ${message.death?.count ?? '-'}`;
}

/** How many of each key there are: identical copies of a message share one key. */
export class KeyCounts {
  private readonly counts = new Map<string, number>();

  add(key: string, by = 1): void {
    if (by > 0) this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  /** Takes one copy of `key`, if there is one left. */
  take(key: string): boolean {
    const left = this.counts.get(key) ?? 0;
    if (left <= 0) return false;
    this.counts.set(key, left - 1);
    return true;
  }

  get total(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  copy(): KeyCounts {
    const copy = new KeyCounts();
    for (const [key, count] of this.counts) copy.add(key, count);
    return copy;
  }
}

/** What unfinished runs left for a key: copies to remove unpublished, copies maybe published. */
class Leftovers {
  private readonly confirmedOnly = new KeyCounts();
  private readonly intentOnly = new KeyCounts();

  add(counts: Map<string, Record<Step, number>>): void {
    for (const [key, { intent, confirmed, removed }] of counts) {
      this.confirmedOnly.add(key, confirmed - removed);
      this.intentOnly.add(key, intent - confirmed);
    }
  }

  /** Takes one: the message was published and confirmed by an earlier run. */
  takeConfirmed(key: string): boolean {
    return this.confirmedOnly.take(key);
  }

  /** Takes one: an earlier run may have published the message. */
  takeIntent(key: string): boolean {
    return this.intentOnly.take(key);
  }

  get pending(): number {
    return this.confirmedOnly.total + this.intentOnly.total;
  }
}

export class RedriveJournal {
  readonly leftovers = new Leftovers();
  /** The unfinished journals this run takes over (marked done when it is). */
  private readonly earlier: string[] = [];
  private readonly fd: number;
  private buffered = '';

  private constructor(
    readonly file: string,
    readonly run: string,
  ) {
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Starts a run's journal, taking over the unfinished ones of the same broker and queue. */
  static open(directory: string, broker: string, queue: string): RedriveJournal {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const run = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    const earlier = unfinishedJournals(directory, broker, queue);
    const journal = new RedriveJournal(join(directory, `${run}.ndjson`), run);
    for (const { file, counts } of earlier) {
      journal.leftovers.add(counts);
      journal.earlier.push(file);
    }
    const header: Header = { type: 'run', run, broker, queue, startedAt: new Date().toISOString() };
    journal.append([header]);
    journal.sync();
    return journal;
  }

  /** Unfinished runs this one took over. */
  get takenOver(): number {
    return this.earlier.length;
  }

  record(step: Step, keys: readonly string[]): void {
    this.append(keys.map((key) => ({ type: step, key })));
  }

  /** Writes what was recorded and waits until the disk has it. */
  sync(): void {
    if (this.buffered !== '') {
      writeSync(this.fd, this.buffered);
      this.buffered = '';
    }
    fsyncSync(this.fd);
  }

  /** The run finished: every message it took is accounted for, and so are the earlier runs'. */
  finish(): void {
    this.append([{ type: 'done', by: this.run }]);
    this.sync();
    for (const file of this.earlier) {
      const fd = openSync(file, 'a');
      try {
        // On a line of its own even after half a line a crash left.
        writeSync(fd, `\n${JSON.stringify({ type: 'done', by: this.run })}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  close(): void {
    if (this.buffered !== '') writeSync(this.fd, this.buffered);
    closeSync(this.fd);
  }

  private append(lines: readonly Line[]): void {
    for (const line of lines) this.buffered += `${JSON.stringify(line)}\n`;
  }
}

/** The journals of runs on this broker and queue that never finished, oldest first. */
export function unfinishedJournals(
  directory: string,
  broker: string,
  queue: string,
): { file: string; counts: Map<string, Record<Step, number>> }[] {
  let names: string[];
  try {
    names = readdirSync(directory).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith('.ndjson'))
    .map((name) => join(directory, name))
    .map((file) => ({ file, counts: unfinishedCounts(file, broker, queue) }))
    .filter(
      (found): found is { file: string; counts: Map<string, Record<Step, number>> } =>
        found.counts !== null,
    );
}

/**
 * Step counts per key of a journal of this broker and queue that never finished; null for any
 * other journal. A line cut short by a crash is the last one, and is ignored.
 */
function unfinishedCounts(
  file: string,
  broker: string,
  queue: string,
): Map<string, Record<Step, number>> | null {
  let header: Header | null = null;
  const counts = new Map<string, Record<Step, number>>();
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      continue;
    }
    if (line.type === 'run') header = line;
    else if (line.type === 'done') return null;
    else {
      const entry = counts.get(line.key) ?? { intent: 0, confirmed: 0, removed: 0 };
      entry[line.type] += 1;
      counts.set(line.key, entry);
    }
  }
  return header !== null && header.broker === broker && header.queue === queue ? counts : null;
}
