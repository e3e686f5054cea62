/**
 * Reading Kafka without changing it: peek (the last N records), tail (from a position), ls and
 * describe (partitions, offsets, configuration). Nothing here commits an offset or creates a topic.
 */
import kafkajs from 'kafkajs';
import type { TopicDeclaration } from '../../config/topology.js';
import { UsageError } from '../../errors.js';
import { globToRegExp } from '../matching.js';
import type {
  InboundMessage,
  Inspection,
  LogPosition,
  PartitionInfo,
  PeekOptions,
  QueueInfo,
  TailOptions,
} from '../types.js';
import type { KafkaConnection, PartitionOffsets } from './connection.js';
import { readLog } from './reader.js';

/** Where a topic's dead letters go when the project file does not say (DESIGN.md §7). */
export const CONVENTIONAL_DLQ_SUFFIXES = ['-dlt', '.DLT', '.dlq'] as const;

/** kafkajs's ConfigSource.TOPIC_CONFIG: set on the topic itself, not inherited from the broker. */
const TOPIC_CONFIG = 1;

/** Kafka's internal topics (`__consumer_offsets`, …) are listed only when a pattern asks for them. */
const INTERNAL = /^__/;

export class KafkaInspection implements Inspection {
  constructor(
    private readonly connection: KafkaConnection,
    /** Dead-letter topics the project file declares, by topic. */
    private readonly declaredDeadLetters: ReadonlyMap<string, string>,
  ) {}

  /**
   * The last `limit` records of the topic over all partitions (or of one), oldest first: up to
   * `limit` from the end of each partition, then the newest `limit` of those by timestamp.
   */
  async peek(source: string, options: PeekOptions): Promise<InboundMessage[]> {
    const { partitions, offsets } = await this.layout(source, options.partition);
    const limit = BigInt(options.limit);
    const starts = new Map<number, bigint>();
    const ends = new Map<number, bigint>();
    for (const { partition, low, high } of offsets) {
      if (options.partition !== undefined && partition !== options.partition) continue;
      const start = high - limit > low ? high - limit : low;
      if (start >= high) continue;
      starts.set(partition, start);
      ends.set(partition, high);
    }
    if (starts.size === 0) return [];
    const records: InboundMessage[] = [];
    const signal = options.signal ?? new AbortController().signal;
    for await (const record of readLog(this.connection, {
      topic: source,
      partitions,
      starts,
      ends,
      signal,
    })) {
      records.push(record);
    }
    records.sort(
      (a, b) =>
        (a.timestamp ?? 0) - (b.timestamp ?? 0) ||
        (a.partition ?? 0) - (b.partition ?? 0) ||
        compareOffsets(a.offset, b.offset),
    );
    return records.slice(Math.max(0, records.length - options.limit));
  }

  /** Records from `options.from` (default: the end, so only new ones) until the signal aborts. */
  async *tail(source: string, options: TailOptions): AsyncGenerator<InboundMessage> {
    const { partitions, offsets } = await this.layout(source, options.partition);
    const from = options.from ?? { kind: 'end' };
    const byTime =
      from.kind === 'time' ? await this.connection.offsetsAt(source, from.timestamp) : null;
    const starts = new Map<number, bigint>();
    for (const position of offsets) {
      if (options.partition !== undefined && position.partition !== options.partition) continue;
      starts.set(position.partition, startOf(position, from, byTime));
    }
    yield* readLog(this.connection, {
      topic: source,
      partitions,
      starts,
      signal: options.signal,
      ...(options.onReady ? { onReady: options.onReady } : {}),
    });
  }

  /** The topic's partitions and offsets; a missing topic or partition fails before any read. */
  private async layout(
    topic: string,
    partition: number | undefined,
  ): Promise<{ partitions: number[]; offsets: PartitionOffsets[] }> {
    await this.connection.requireTopic(topic);
    const offsets = await this.connection.offsets(topic);
    const partitions = offsets.map((o) => o.partition);
    if (partition !== undefined && !partitions.includes(partition)) {
      throw new UsageError(
        `topic "${topic}" has no partition ${partition} (it has ${partitions.length}: 0 to ${partitions.length - 1})`,
      );
    }
    return { partitions, offsets };
  }

  async list(pattern?: string): Promise<QueueInfo[]> {
    const matcher = pattern === undefined ? null : globToRegExp(pattern);
    const names = (await this.connection.topicNames())
      .filter((name) => (matcher ? matcher.test(name) : !INTERNAL.test(name)))
      .sort();
    const configs = await this.configs(names);
    const all = new Set(await this.connection.topicNames());
    const infos: QueueInfo[] = [];
    for (const name of names) infos.push(await this.info(name, configs.get(name) ?? {}, all));
    return infos;
  }

  async describe(name: string): Promise<QueueInfo> {
    await this.connection.requireTopic(name);
    const configs = await this.configs([name]);
    const all = new Set(await this.connection.topicNames());
    return this.info(name, configs.get(name) ?? {}, all);
  }

  private async info(
    name: string,
    configs: Record<string, string>,
    topics: ReadonlySet<string>,
  ): Promise<QueueInfo> {
    const [metadata, offsets] = await Promise.all([
      this.connection.partitions(name),
      this.connection.offsets(name),
    ]);
    const partitions: PartitionInfo[] = offsets.map(({ partition, low, high }) => {
      const leader = metadata.find((p) => p.partitionId === partition)?.leader;
      return {
        partition,
        leader: leader === undefined || leader < 0 ? null : leader,
        earliestOffset: low.toString(),
        endOffset: high.toString(),
      };
    });
    const retained = offsets.reduce((sum, { low, high }) => sum + (high - low), 0n);
    const retention = Number(configs['retention.ms'] ?? Number.NaN);
    return {
      name,
      kind: 'topic',
      type: 'log',
      // Offsets kept: records, plus any gaps compaction or transaction markers left.
      ready: Number(retained),
      unacked: null,
      consumers: null,
      deadLetterExchange: null,
      deadLetterQueue: this.deadLetterTopic(name, topics),
      maxDeliveries: null,
      messageTtlMs: Number.isFinite(retention) && retention >= 0 ? retention : null,
      bindings: [],
      sampled: false,
      partitions,
      configs,
    };
  }

  private deadLetterTopic(topic: string, topics: ReadonlySet<string>): string | null {
    const declared = this.declaredDeadLetters.get(topic);
    if (declared !== undefined) return declared;
    return CONVENTIONAL_DLQ_SUFFIXES.map((s) => `${topic}${s}`).find((t) => topics.has(t)) ?? null;
  }

  /**
   * Every topic but Kafka's own, as a project file would declare it: retention only where the topic
   * sets its own, each dead-letter topic named as `describe` pairs it.
   */
  async topicDeclarations(): Promise<TopicDeclaration[]> {
    const all = await this.connection.topicNames();
    const names = all.filter((name) => !INTERNAL.test(name)).sort();
    const [configs, partitionCounts] = await Promise.all([
      this.configs(names, []),
      this.connection.partitionCounts(names),
    ]);
    const topics = new Set(all);
    return names.map((name) => {
      const retention = configs.get(name)?.['retention.ms'];
      return {
        name,
        partitions: partitionCounts.get(name) ?? 1,
        // Past 2^53 a number cannot say it exactly; that far is forever in practice (-1).
        retentionMs:
          retention === undefined
            ? null
            : Number.isSafeInteger(Number(retention))
              ? Number(retention)
              : -1,
        deadLetterTopic: this.deadLetterTopic(name, topics),
      };
    });
  }

  /** Per topic, its configuration entries set on the topic (not broker defaults), plus `inherited` ones. */
  private async configs(
    topics: readonly string[],
    inherited: readonly string[] = ['retention.ms'],
  ): Promise<Map<string, Record<string, string>>> {
    const found = new Map<string, Record<string, string>>();
    if (topics.length === 0) return found;
    try {
      const { resources } = await this.connection.admin.describeConfigs({
        resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })),
        includeSynonyms: false,
      });
      for (const resource of resources) {
        const entries: Record<string, string> = {};
        for (const entry of resource.configEntries) {
          if (entry.configValue === null || entry.isSensitive) continue;
          if (Number(entry.configSource) === TOPIC_CONFIG || inherited.includes(entry.configName)) {
            entries[entry.configName] = entry.configValue;
          }
        }
        found.set(resource.resourceName, entries);
      }
    } catch (error) {
      throw this.connection.failure(error, 'reading topic configurations');
    }
    return found;
  }
}

function compareOffsets(a: string | null, b: string | null): number {
  const x = BigInt(a ?? '0');
  const y = BigInt(b ?? '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The first offset to read in one partition, clamped to what the partition keeps. */
function startOf(
  { partition, low, high }: PartitionOffsets,
  from: LogPosition,
  byTime: ReadonlyMap<number, bigint> | null,
): bigint {
  const clamp = (offset: bigint) => (offset < low ? low : offset > high ? high : offset);
  switch (from.kind) {
    case 'beginning':
      return low;
    case 'end':
      return high;
    case 'offset':
      return clamp(BigInt(from.offset));
    case 'time': {
      const found = byTime?.get(partition);
      return found === undefined || found < 0n ? high : clamp(found);
    }
  }
}
