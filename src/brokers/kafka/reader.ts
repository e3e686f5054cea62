/**
 * One-off reads of a topic (peek, tail, expect): kafkajs always reads through a consumer group,
 * so each read joins an ephemeral group `mq-ephemeral-<uuid>` of its own, commits nothing, seeks
 * every partition to a position fixed before it starts, and deletes the group when it ends
 * (DESIGN.md §5.2). Positions are resolved by mq, not by kafkajs's reset policy, so "from the end"
 * means the end when the read was asked for, and `onReady` is honest: anything written after it is
 * read.
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { InboundMessage } from '../types.js';
import { toInbound } from './codec.js';
import { ephemeralGroupId } from './config.js';
import type { KafkaConnection } from './connection.js';

export interface ReadRequest {
  topic: string;
  /** Every partition of the topic; those without a start are paused. */
  partitions: readonly number[];
  /** First offset to read, per partition. */
  starts: ReadonlyMap<number, bigint>;
  /** Stop before this offset, per partition; absent: follow until the signal aborts. */
  ends?: ReadonlyMap<number, bigint>;
  signal: AbortSignal;
  onReady?: () => void;
}

/** Records held for the caller before kafkajs is made to wait. */
const HIGH_WATER = 1_000;

export async function* readLog(
  connection: KafkaConnection,
  request: ReadRequest,
): AsyncGenerator<InboundMessage> {
  const { topic, starts, ends, signal } = request;
  const next = new Map(starts);
  const finished = new Set<number>();
  if (ends) {
    for (const [partition, start] of starts) {
      if (start >= (ends.get(partition) ?? 0n)) finished.add(partition);
    }
    if (finished.size === starts.size) {
      request.onReady?.();
      return;
    }
  }
  const buffer: InboundMessage[] = [];
  const state: { failure: Error | null; stopping: boolean } = { failure: null, stopping: false };
  let wakeReader: () => void = () => {};
  let wakeWriter: () => void = () => {};
  const nudge = () => {
    wakeReader();
    wakeWriter();
  };
  signal.addEventListener('abort', nudge);

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    const { partition } = batch;
    let expected = next.get(partition);
    // A batch fetched before mq's seek took effect, or of a partition this read does not want.
    if (expected === undefined || finished.has(partition) || payload.isStale()) return;
    const end = ends?.get(partition);
    for (const record of batch.messages) {
      const offset = BigInt(record.offset);
      if (end !== undefined && offset >= end) break;
      if (offset < expected) continue;
      buffer.push(toInbound(topic, partition, record));
      expected = offset + 1n;
    }
    next.set(partition, expected);
    // Compaction and transaction markers leave gaps: the batch's last offset says how far it got.
    if (end !== undefined && (expected >= end || BigInt(batch.lastOffset()) >= end - 1n)) {
      finished.add(partition);
    }
    wakeReader();
    while (buffer.length >= HIGH_WATER && !state.stopping && !signal.aborted) {
      await new Promise<void>((resolve) => (wakeWriter = resolve));
    }
  };

  const groupId = ephemeralGroupId();
  let consumer: Consumer | null = null;
  try {
    consumer = connection.consumer(groupId);
    consumer.on(consumer.events.CRASH, (event: { payload: { error: Error } }) => {
      state.failure = connection.failure(event.payload.error, `reading ${topic}`);
      nudge();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: false });
      await consumer.run({ autoCommit: false, eachBatch });
    } catch (error) {
      throw connection.failure(error, `reading ${topic}`);
    }
    for (const [partition, offset] of starts) {
      consumer.seek({ topic, partition, offset: offset.toString() });
    }
    const unwanted = request.partitions.filter((partition) => !starts.has(partition));
    if (unwanted.length > 0) consumer.pause([{ topic, partitions: unwanted }]);
    request.onReady?.();

    for (;;) {
      const record = buffer.shift();
      if (record !== undefined) {
        if (buffer.length < HIGH_WATER / 2) wakeWriter();
        yield record;
        continue;
      }
      if (state.failure) throw state.failure;
      if (signal.aborted || (ends !== undefined && finished.size === starts.size)) return;
      await new Promise<void>((resolve) => (wakeReader = resolve));
    }
  } finally {
    state.stopping = true;
    signal.removeEventListener('abort', nudge);
    wakeWriter();
    if (consumer) await connection.releaseConsumer(consumer);
    await connection.deleteGroup(groupId);
  }
}
