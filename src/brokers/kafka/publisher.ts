/**
 * Publishing to a topic with acks=-1 (every in-sync replica). mq picks each record's partition
 * itself, with kafkajs's default (Java-compatible, murmur2 on the key) partitioner, so that every
 * receipt names the exact partition and offset the record got. Records go in sub-batches small
 * enough for the broker's default `message.max.bytes`, one after another, so order per partition
 * is the order given. An aborted signal (the publish deadline) leaves what is not confirmed
 * `unconfirmed`; kafkajs's retries are bounded (config.ts), so a send always ends.
 */
import kafkajs from 'kafkajs';
import type { IHeaders, Message, PartitionMetadata, RecordMetadata } from 'kafkajs';
import { UnsupportedError, UsageError } from '../../errors.js';
import type { OutboundMessage, PublishReceipt, Route } from '../types.js';
import { asBuffer } from '../bytes.js';
import { oncePerHeaderTable } from '../header-tables.js';
import { headersToKafka, recordId, toKafkaMessage } from './codec.js';
import type { KafkaConnection } from './connection.js';

const { Partitioners } = kafkajs;

/** Records per produce request, and their approximate size: well under Kafka's 1 MiB default. */
const BATCH_RECORDS = 2_000;
const BATCH_BYTES = 512 * 1024;
/** How long the broker may wait for the in-sync replicas per request. */
const ACK_TIMEOUT_MS = 30_000;

export function topicOf(route: Route): { topic: string; partition: number | undefined } {
  if (route.kind !== 'topic') {
    throw new UnsupportedError(
      `Kafka has no exchanges or queues (cannot publish to ${route.kind === 'queue' ? `queue "${route.queue}"` : `exchange "${route.exchange}"`})`,
      { hint: 'publish to a topic: --topic <name>, or the topic of the event in mq.config.json' },
    );
  }
  return { topic: route.topic, partition: route.partition };
}

export class KafkaPublisher {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly layouts = new Map<string, PartitionMetadata[]>();

  constructor(private readonly connection: KafkaConnection) {}

  async publish(
    route: Route,
    messages: readonly OutboundMessage[],
    signal: AbortSignal | undefined,
  ): Promise<PublishReceipt[]> {
    const { topic, partition } = topicOf(route);
    // The producer connects while the topic is looked up; a missing topic leaves it idle.
    const producing = this.connection.producer();
    producing.catch(() => undefined);
    const layout = await this.layout(topic);
    if (partition !== undefined && !layout.some((p) => p.partitionId === partition)) {
      throw new UsageError(
        `topic "${topic}" has no partition ${partition} (it has ${layout.length}: 0 to ${layout.length - 1})`,
      );
    }
    const kafkaHeadersOf = oncePerHeaderTable((headers) => {
      const converted = headersToKafka(headers);
      return { headers: converted, size: sizeOfHeaders(converted) };
    });
    const nextKeylessPartition = roundRobin(layout);
    const partitionOf = (message: OutboundMessage): number => {
      if (partition !== undefined) return partition;
      if (message.key === undefined) return nextKeylessPartition();
      // Without a partition on it: kafkajs's partitioner returns a record's own partition as is.
      const keyed: Message = { key: asBuffer(message.key), value: null };
      return this.partitioner({ topic, partitionMetadata: layout, message: keyed });
    };
    const toRecord = (message: OutboundMessage): Message =>
      toKafkaMessage(message, partitionOf(message), kafkaHeadersOf(message.headers).headers);
    const receipts: PublishReceipt[] = [];
    const unconfirmed = (from: number) => {
      for (let i = from; i < messages.length; i += 1) {
        receipts.push({
          messageId: idOf(messages[i]!),
          status: 'unconfirmed',
          confirmLatencyMs: null,
        });
      }
    };
    const producer = await producing;
    // Records are made batch by batch, so a large run holds one batch of them at a time.
    const sizeOf = (message: OutboundMessage) =>
      64 + message.body.length + (message.key?.length ?? 0) + kafkaHeadersOf(message.headers).size;
    for (const [start, end] of batches(messages, sizeOf)) {
      if (signal?.aborted) {
        unconfirmed(start);
        break;
      }
      const batch = messages.slice(start, end).map(toRecord);
      const sentAt = performance.now();
      let written: RecordMetadata[];
      try {
        written = await untilAborted(
          producer.send({ topic, acks: -1, timeout: ACK_TIMEOUT_MS, messages: batch }),
          signal,
        );
      } catch (error) {
        if (!(error instanceof Aborted) && isRefusal(error)) {
          if (receipts.length === 0) throw this.connection.failure(error, `publishing to ${topic}`);
        }
        // The outcome of this batch is unknown: it may have been written.
        unconfirmed(start);
        break;
      }
      const latency = performance.now() - sentAt;
      receipts.push(...positions(topic, batch, written, latency));
    }
    return receipts;
  }

  private async layout(topic: string): Promise<PartitionMetadata[]> {
    let layout = this.layouts.get(topic);
    if (layout === undefined) {
      layout = await this.connection.existingPartitions(topic);
      this.layouts.set(topic, layout);
    }
    return layout;
  }
}

/**
 * Partitions with a leader in turn, from a random one, as kafkajs's default partitioner places
 * records without a key; without its per-record copy of the partition list, which a large
 * publish notices.
 */
function roundRobin(layout: readonly PartitionMetadata[]): () => number {
  const led = layout.filter((p) => p.leader >= 0).map((p) => p.partitionId);
  const candidates = led.length > 0 ? led : layout.map((p) => p.partitionId);
  let turn = Math.floor(Math.random() * candidates.length);
  return () => candidates[turn++ % candidates.length]!;
}

function idOf(message: OutboundMessage): string {
  return message.properties?.messageId ?? '';
}

/** [start, end) index ranges of at most BATCH_RECORDS records and about BATCH_BYTES. */
function batches(
  messages: readonly OutboundMessage[],
  sizeOf: (message: OutboundMessage) => number,
): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  messages.forEach((message, index) => {
    const size = sizeOf(message);
    if (index > start && (index - start >= BATCH_RECORDS || bytes + size > BATCH_BYTES)) {
      ranges.push([start, index]);
      start = index;
      bytes = 0;
    }
    bytes += size;
  });
  if (start < messages.length) ranges.push([start, messages.length]);
  return ranges;
}

function sizeOfHeaders(headers: IHeaders): number {
  let size = 0;
  for (const [key, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value])
      size += key.length + (item?.length ?? 0);
  }
  return size;
}

/**
 * Each record's offset: kafkajs reports the base offset per partition, and records of one
 * partition are written in the order sent.
 */
function positions(
  topic: string,
  batch: readonly Message[],
  written: readonly RecordMetadata[],
  latency: number,
): PublishReceipt[] {
  // Offsets are 64-bit; numbers count them exactly below 2^53, and cost far less than BigInts.
  const next = new Map<number, number | bigint>();
  for (const meta of written) {
    if (meta.topicName === topic && meta.baseOffset !== undefined) {
      const base = Number(meta.baseOffset);
      const exact = Number.isSafeInteger(base + batch.length);
      next.set(meta.partition, exact ? base : BigInt(meta.baseOffset));
    }
  }
  return batch.map((record) => {
    const partition = record.partition ?? 0;
    const offset = next.get(partition);
    if (offset === undefined) {
      return { messageId: '', status: 'unconfirmed', confirmLatencyMs: null };
    }
    next.set(partition, typeof offset === 'number' ? offset + 1 : offset + 1n);
    return new WrittenRecord(topic, partition, offset, latency);
  });
}

/**
 * The receipt of a written record. Its id and offset are made into text only when read: a large
 * run reads them for none of its records, and would otherwise hold two strings per record.
 */
class WrittenRecord implements PublishReceipt {
  readonly status = 'confirmed';

  constructor(
    private readonly topic: string,
    readonly partition: number,
    private readonly position: number | bigint,
    readonly confirmLatencyMs: number,
  ) {}

  get offset(): string {
    return this.position.toString();
  }

  get messageId(): string {
    return recordId(this.topic, this.partition, this.offset);
  }
}

class Aborted extends Error {}

/** The send, or an Aborted rejection as soon as the signal aborts (the send goes on unwatched). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Aborted());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A refusal (authorization, a record too large, …): nothing of this batch was written. */
function isRefusal(error: unknown): boolean {
  const type = (error as { type?: string } | null)?.type ?? '';
  const causeType = (error as { cause?: { type?: string } } | null)?.cause?.type ?? '';
  const refusals = [
    'TOPIC_AUTHORIZATION_FAILED',
    'CLUSTER_AUTHORIZATION_FAILED',
    'MESSAGE_TOO_LARGE',
    'RECORD_LIST_TOO_LARGE',
    'INVALID_RECORD',
  ];
  return refusals.includes(type) || refusals.includes(causeType);
}
