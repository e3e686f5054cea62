/**
 * One kafkajs client per adapter: an admin connection opened by `connect()` (bounded by the
 * connect timeout), a producer opened on first publish, and consumers made per read. Topic lookups
 * go through the admin's metadata, which never creates a topic.
 */
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka, PartitionMetadata, Producer } from 'kafkajs';
import type { KafkaSpec } from '../../config/broker-url.js';
import { MqError, NotFoundError } from '../../errors.js';
import { didYouMean } from '../../message/suggest.js';
import { registerCodecs } from './codecs.js';
import { adminConfig, clientConfig, consumerConfig, producerConfig } from './config.js';
import { asMqError, connectFailure } from './failures.js';

const { Kafka: KafkaClient, CompressionCodecs } = kafkajs;

/** Offsets of one partition: the first kept and the next to be written (high watermark). */
export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Rejects with `onTimeout()` when `work` takes longer than `ms`. */
export async function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // A late failure of abandoned work is not an unhandled rejection.
  work.catch(() => undefined);
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long closing may take before mq stops waiting for kafkajs. */
const CLOSE_TIMEOUT_MS = 5_000;

export class KafkaConnection {
  private producing: Promise<Producer> | null = null;
  private readonly consumers = new Set<Consumer>();

  private constructor(
    readonly kafka: Kafka,
    readonly admin: Admin,
    readonly spec: KafkaSpec,
    readonly connectTimeoutMs: number,
  ) {}

  /** Connects the admin client, so a wrong address or login fails here: a ConnectError (exit 3). */
  static async open(spec: KafkaSpec, connectTimeoutMs: number): Promise<KafkaConnection> {
    registerCodecs(CompressionCodecs);
    const kafka = new KafkaClient(clientConfig(spec, connectTimeoutMs));
    const admin = kafka.admin(adminConfig());
    try {
      await within(admin.connect(), connectTimeoutMs, () =>
        connectFailure(
          new Error(`no answer within ${Math.round(connectTimeoutMs / 100) / 10} s`),
          spec.display,
        ),
      );
    } catch (error) {
      // Stops kafkajs's own retries, which would otherwise keep the process alive.
      await admin.disconnect().catch(() => undefined);
      throw error instanceof MqError ? error : connectFailure(error, spec.display);
    }
    return new KafkaConnection(kafka, admin, spec, connectTimeoutMs);
  }

  /** What failed, in mq's terms. */
  failure(error: unknown, doing: string): MqError {
    return asMqError(error, doing, this.spec.display);
  }

  /** The connected producer, made on first use. */
  producer(): Promise<Producer> {
    this.producing ??= (async () => {
      const producer = this.kafka.producer(producerConfig());
      try {
        await within(producer.connect(), this.connectTimeoutMs, () =>
          connectFailure(new Error('the producer did not connect in time'), this.spec.display),
        );
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error instanceof MqError ? error : connectFailure(error, this.spec.display);
      }
      return producer;
    })();
    return this.producing;
  }

  /** A consumer in `groupId`, disconnected by `close()` if its reader has not done so. */
  consumer(groupId: string, options: { sessionTimeoutMs?: number } = {}): Consumer {
    const consumer = this.kafka.consumer(consumerConfig(groupId, options.sessionTimeoutMs));
    this.consumers.add(consumer);
    return consumer;
  }

  async releaseConsumer(consumer: Consumer): Promise<void> {
    this.consumers.delete(consumer);
    await within(consumer.disconnect(), CLOSE_TIMEOUT_MS, () => new Error('timeout')).catch(
      () => undefined,
    );
  }

  async topicNames(): Promise<string[]> {
    try {
      return await this.admin.listTopics();
    } catch (error) {
      throw this.failure(error, 'listing topics');
    }
  }

  /** Fails with NotFoundError (exit 1) and a near miss when the topic does not exist. */
  async requireTopic(topic: string): Promise<void> {
    const names = await this.topicNames();
    if (!names.includes(topic)) throw missingTopic(topic, names);
  }

  /**
   * The partitions of a topic that must exist, by id, from one metadata request (the one that
   * lists the topics also describes them).
   */
  async existingPartitions(topic: string): Promise<PartitionMetadata[]> {
    let topics: { name: string; partitions: PartitionMetadata[] }[];
    try {
      ({ topics } = await this.admin.fetchTopicMetadata());
    } catch (error) {
      throw this.failure(error, 'reading topic metadata');
    }
    const found = topics.find((t) => t.name === topic);
    if (found === undefined)
      throw missingTopic(
        topic,
        topics.map((t) => t.name),
      );
    return byPartitionId(found.partitions);
  }

  /** The partitions of an existing topic, by id. */
  async partitions(topic: string): Promise<PartitionMetadata[]> {
    try {
      const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
      return byPartitionId(partitions);
    } catch (error) {
      throw this.failure(error, `reading the metadata of ${topic}`);
    }
  }

  /** How many partitions each topic has, in one metadata request. */
  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    if (topics.length === 0) return new Map();
    try {
      const metadata = await this.admin.fetchTopicMetadata({ topics: [...topics] });
      return new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    } catch (error) {
      throw this.failure(error, 'reading topic metadata');
    }
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    try {
      const offsets = await this.admin.fetchTopicOffsets(topic);
      return offsets
        .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }))
        .sort((a, b) => a.partition - b.partition);
    } catch (error) {
      throw this.failure(error, `reading the offsets of ${topic}`);
    }
  }

  /** Per partition, the offset of the first record at or after `timestamp` (the end when none). */
  async offsetsAt(topic: string, timestamp: number): Promise<Map<number, bigint>> {
    try {
      const found = await this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
      return new Map(found.map((o) => [o.partition, BigInt(o.offset)]));
    } catch (error) {
      throw this.failure(error, `looking up offsets by time in ${topic}`);
    }
  }

  /** Removes an ephemeral group; a group already gone (or never formed) is fine. */
  async deleteGroup(groupId: string): Promise<void> {
    await within(this.admin.deleteGroups([groupId]), CLOSE_TIMEOUT_MS, () => new Error('timeout'))
      .then(() => undefined)
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    const bounded = (work: Promise<void>) =>
      within(work, CLOSE_TIMEOUT_MS, () => new Error('timeout')).catch(() => undefined);
    for (const consumer of this.consumers) await bounded(consumer.disconnect());
    this.consumers.clear();
    const producer = await this.producing?.catch(() => null);
    if (producer) await bounded(producer.disconnect());
    await bounded(this.admin.disconnect());
  }
}

function missingTopic(topic: string, names: readonly string[]): NotFoundError {
  return new NotFoundError(`topic "${topic}" does not exist on Kafka${didYouMean(topic, names)}`, {
    hint: 'mq ls lists the topics; mq topology apply creates those mq.config.json declares (mq never creates one as a side effect)',
  });
}

function byPartitionId(partitions: readonly PartitionMetadata[]): PartitionMetadata[] {
  return [...partitions].sort((a, b) => a.partitionId - b.partitionId);
}
