/**
 * `mq consume <topic> --group <g>`: records taken and settled through a consumer group that
 * commits (DESIGN.md §5.2). kafkajs's own commits are off; the committed offset of a partition is
 * the offset after its longest settled front (commits.ts), so a record nobody settled is read
 * again by the group's next consumer, even when later ones were acked.
 *
 * - ack: settled. deadLetter: produced to the topic's dead-letter topic with Spring Kafka's
 *   `kafka_dlt-*` headers, then settled. retry and release (while consuming): a seek back to the
 *   record, which comes again, and so does everything after it in its partition.
 * - kafkajs fetches ahead into a buffer of at most `prefetch` records. When the buffer is full it
 *   waits inside its batch handler, heartbeating, so a person may sit at a prompt for longer than
 *   the session timeout without the group giving the partitions to someone else.
 * - A group that never committed starts at the earliest record (a new group is usually made to
 *   read what is there; `mq offsets reset` positions one anywhere else).
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { MqError } from '../../errors.js';
import type { Delivery, InboundMessage, OutboundMessage } from '../types.js';
import { SettleOnceDelivery } from '../settle-once.js';
import { toInbound } from './codec.js';
import { ContiguousCommits } from './commits.js';
import type { KafkaConnection } from './connection.js';

export interface GroupConsumeRequest {
  topic: string;
  group: string;
  /** Where deadLetter() sends a record; null when the topic has none. */
  deadLetterTopic: string | null;
  /** Records fetched ahead of the caller. */
  prefetch: number;
  sessionTimeoutMs: number | undefined;
  signal: AbortSignal;
  /** Produces one record and resolves once every in-sync replica has it. */
  produce: (topic: string, message: OutboundMessage) => Promise<void>;
}

/** How often a batch handler waiting for room in the buffer heartbeats. */
const WAITING_HEARTBEAT_MS = 1_000;
/** Spring Kafka's header prefix; mq writes the headers its DeadLetterPublishingRecoverer writes. */
const DLT = 'kafka_dlt-';

interface Fetched {
  partition: number;
  record: KafkaMessage;
}

export async function* consumeGroup(
  connection: KafkaConnection,
  request: GroupConsumeRequest,
): AsyncGenerator<Delivery> {
  const { topic, signal } = request;
  await connection.requireTopic(topic);
  const session = new GroupSession(connection, request);
  const nudge = () => session.wakeAll();
  signal.addEventListener('abort', nudge);
  try {
    await session.start();
    for (;;) {
      if (session.failure !== null) throw session.failure;
      // Records fetched ahead stay unread: the group reads them again next time.
      if (signal.aborted) return;
      const fetched = session.buffer.shift();
      if (fetched === undefined) {
        await session.waitForRecords();
        continue;
      }
      session.wakeWriter();
      yield session.deliver(fetched);
    }
  } finally {
    signal.removeEventListener('abort', nudge);
    await session.stop();
  }
}

class GroupSession {
  readonly buffer: Fetched[] = [];
  failure: MqError | null = null;
  /** Settled records whose offsets could not be committed: the group will read them again. */
  private commitFailure: MqError | null = null;
  private readonly commits = new ContiguousCommits();
  /** The next offset wanted per partition: what kafkajs fetches again is not taken twice. */
  private readonly next = new Map<number, bigint>();
  /** Offsets committed so far per partition. */
  private readonly committed = new Map<number, bigint>();
  private consumer: Consumer | null = null;
  private running = true;
  /** The partitions the group gave this member at its last join; null before the first. */
  private assignment: Set<number> | null = null;
  private joined = false;
  private committing: Promise<void> | null = null;
  private commitAgain = false;
  private wakeReader: () => void = () => {};
  private wakeWriterNow: () => void = () => {};

  constructor(
    private readonly connection: KafkaConnection,
    private readonly request: GroupConsumeRequest,
  ) {}

  async start(): Promise<void> {
    const { topic, group, sessionTimeoutMs } = this.request;
    const consumer = this.connection.consumer(group, { sessionTimeoutMs });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event: { payload: { error: Error } }) => {
      this.fail(this.connection.failure(event.payload.error, `consuming ${topic}`));
    });
    consumer.on(
      consumer.events.GROUP_JOIN,
      (event: { payload: { memberAssignment: Record<string, number[]> } }) => {
        this.assigned(event.payload.memberAssignment[topic] ?? []);
      },
    );
    const joining = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      // Resolves once the group has taken this member in: after a crash that can take the dead
      // member's whole session timeout, so the signal (Ctrl-C, --timeout) may end the wait.
      await consumer.run({ autoCommit: false, eachBatch: (payload) => this.take(payload) });
      this.joined = true;
    })();
    // Given up on when the signal comes first: a late failure is no longer anyone's concern.
    joining.catch(() => undefined);
    try {
      await Promise.race([joining, this.aborted()]);
    } catch (error) {
      throw this.connection.failure(error, `joining group ${group} on ${topic}`);
    }
  }

  /** Resolves when the request's signal aborts. */
  private aborted(): Promise<void> {
    const { signal } = this.request;
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** kafkajs's batch handler: records into the buffer, waiting (and heartbeating) while it is full. */
  private async take(payload: EachBatchPayload): Promise<void> {
    const { partition } = payload.batch;
    for (const record of payload.batch.messages) {
      const offset = BigInt(record.offset);
      if (offset < (this.next.get(partition) ?? 0n)) continue;
      while (this.buffer.length >= this.request.prefetch) {
        if (!this.running) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, WAITING_HEARTBEAT_MS);
          this.wakeWriterNow = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        // Throws when the group is rebalancing: kafkajs then rejoins and fetches this batch again.
        await payload.heartbeat();
      }
      // A seek back, a rebalance or the end came while waiting: this batch is not wanted now.
      if (!this.running || payload.isStale() || !this.owns(partition)) return;
      this.buffer.push({ partition, record });
      this.next.set(partition, offset + 1n);
      this.wakeReader();
    }
  }

  deliver({ partition, record }: Fetched): Delivery {
    const offset = BigInt(record.offset);
    this.commits.handedOut(partition, offset);
    const message = toInbound(this.request.topic, partition, record);
    return new SettleOnceDelivery(
      message,
      async (how) => {
        if (!this.running) {
          // The group has it back already: the record is read again by its next consumer.
          if (how === 'release') return;
          throw new MqError(
            `the consumer of ${this.request.topic} has ended: record ${message.id} was not committed`,
          );
        }
        if (how === 'ack') return this.settled(partition, offset);
        if (how === 'deadLetter') {
          await this.deadLetter(message, partition, record);
          return this.settled(partition, offset);
        }
        this.seekBack(partition, offset);
      },
      (error) =>
        error instanceof MqError
          ? error
          : this.connection.failure(error, `settling record ${message.id}`),
    );
  }

  private settled(partition: number, offset: bigint): void {
    if (this.commits.settle(partition, offset) !== null) void this.flushCommits();
  }

  private async deadLetter(message: InboundMessage, partition: number, record: KafkaMessage) {
    const { topic, group, deadLetterTopic } = this.request;
    if (deadLetterTopic === null) {
      throw new MqError(`topic "${topic}" has no dead-letter topic: nothing was sent`, {
        hint: `create ${topic}-dlt, or name one with deadLetterTopic in mq.config.json`,
      });
    }
    const headers = { ...message.headers };
    const append = (name: string, value: Uint8Array) => {
      const key = `${DLT}${name}`;
      const before = headers[key];
      // Dead-lettered again: Spring repeats the headers and the first stays the origin.
      headers[key] =
        before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    };
    append('original-topic', Buffer.from(topic));
    append('original-partition', int32(partition));
    append('original-offset', int64(BigInt(record.offset)));
    append('original-timestamp', int64(BigInt(record.timestamp)));
    append('original-timestamp-type', Buffer.from('CreateTime'));
    append('original-consumer-group', Buffer.from(group));
    append('exception-fqcn', Buffer.from('mq.Rejected'));
    append('exception-message', Buffer.from('rejected with mq consume'));
    const outbound: OutboundMessage = { body: message.body, headers };
    if (message.key !== undefined) outbound.key = message.key;
    await this.request.produce(deadLetterTopic, outbound);
  }

  private seekBack(partition: number, offset: bigint): void {
    if (!this.running || this.consumer === null) return;
    this.commits.rewind(partition, offset);
    this.next.set(partition, offset);
    this.dropBuffered((fetched) => fetched.partition === partition);
    this.consumer.seek({ topic: this.request.topic, partition, offset: offset.toString() });
  }

  private owns(partition: number): boolean {
    return this.assignment === null || this.assignment.has(partition);
  }

  /** After a rebalance: partitions given to another member are its to read and commit now. */
  private assigned(partitions: readonly number[]): void {
    const kept = new Set(partitions);
    this.assignment = kept;
    for (const partition of [...this.next.keys()]) {
      if (kept.has(partition)) continue;
      this.next.delete(partition);
      this.committed.delete(partition);
      this.commits.forget(partition);
    }
    this.dropBuffered((fetched) => !kept.has(fetched.partition));
  }

  private dropBuffered(drop: (fetched: Fetched) => boolean): void {
    const keep = this.buffer.filter((fetched) => !drop(fetched));
    this.buffer.splice(0, this.buffer.length, ...keep);
    this.wakeWriter();
  }

  /** Commits what may be committed; one request at a time, the newest offsets each time. */
  private flushCommits(): Promise<void> {
    if (this.committing !== null) {
      this.commitAgain = true;
      return this.committing;
    }
    this.committing = (async () => {
      do {
        this.commitAgain = false;
        const due = [...this.commits.committable()].filter(
          ([partition, offset]) => this.committed.get(partition) !== offset,
        );
        if (due.length === 0 || this.consumer === null) continue;
        try {
          await this.consumer.commitOffsets(
            due.map(([partition, offset]) => ({
              topic: this.request.topic,
              partition,
              offset: offset.toString(),
            })),
          );
          for (const [partition, offset] of due) this.committed.set(partition, offset);
        } catch (error) {
          this.commitFailure = this.connection.failure(
            error,
            `committing offsets of group ${this.request.group}`,
          );
          this.fail(this.commitFailure);
          return;
        }
      } while (this.commitAgain);
    })().finally(() => {
      this.committing = null;
    });
    return this.committing;
  }

  waitForRecords(): Promise<void> {
    return new Promise((resolve) => (this.wakeReader = resolve));
  }

  wakeWriter(): void {
    if (this.buffer.length < this.request.prefetch) this.wakeWriterNow();
  }

  wakeAll(): void {
    this.wakeReader();
    this.wakeWriterNow();
  }

  private fail(error: MqError): void {
    this.failure ??= error;
    this.wakeAll();
  }

  /** Commits the settled fronts, then leaves the group; unsettled records are read again later. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeAll();
    await this.flushCommits();
    if (this.consumer !== null) {
      const leaving = this.connection.releaseConsumer(this.consumer);
      // Still waiting to be taken into the group: leaving would wait for that too (up to a dead
      // member's session timeout). The broker forgets a member that never joined on its own.
      if (this.joined) await leaving;
    }
    if (this.commitFailure !== null) throw this.commitFailure;
  }
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

function int64(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
}
