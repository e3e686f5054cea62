/**
 * Apache Kafka (3.x, 4.x) through kafkajs 2.2, behind the broker contract (DESIGN.md §5.2). One
 * client per adapter: an admin connection opened by `connect()`, a producer on first publish, and
 * an ephemeral consumer group per one-off read (reader.ts). kafkajs types stay in this folder.
 *
 * Not a template for other adapters: kafkajs needs a consumer group even to read once, and its
 * defaults (topic auto-creation, idempotent producers retrying forever, retries that look like a
 * hang) are all overridden in config.ts.
 */
import type { KafkaSpec } from '../../config/broker-url.js';
import type { ProjectFile } from '../../config/project-file.js';
import { desiredTopology } from '../../config/topology.js';
import { MqError, UsageError } from '../../errors.js';
import type {
  BrokerAdapter,
  ConsumeOptions,
  ConsumerGroups,
  Delivery,
  InboundMessage,
  Inspection,
  OutboundMessage,
  PublishReceipt,
  Route,
  TailOptions,
  TopologyManagement,
} from '../types.js';
import { KafkaConnection } from './connection.js';
import { consumeGroup } from './group-consumer.js';
import { KafkaGroups } from './groups.js';
import { KafkaInspection } from './inspection.js';
import { KafkaPublisher } from './publisher.js';
import { KafkaTopology } from './topology.js';

/** Records fetched ahead of the caller when the command names no --prefetch. */
const DEFAULT_PREFETCH = 100;

export function openKafka(
  spec: KafkaSpec,
  options: { connectTimeoutMs: number; project: ProjectFile | null },
): BrokerAdapter {
  const deadLetters = new Map<string, string>();
  if (options.project !== null) {
    for (const topic of desiredTopology(options.project).topics) {
      if (topic.deadLetterTopic !== null) deadLetters.set(topic.name, topic.deadLetterTopic);
    }
  }
  return new KafkaAdapter(spec, options.connectTimeoutMs, deadLetters);
}

export class KafkaAdapter implements BrokerAdapter {
  readonly kind = 'kafka';
  readonly inspection: Inspection;
  readonly topology: TopologyManagement;
  readonly consumerGroups: ConsumerGroups;
  private connecting: Promise<KafkaConnection> | null = null;
  private publisher: KafkaPublisher | null = null;
  private inspector: KafkaInspection | null = null;
  private topologist: KafkaTopology | null = null;
  private grouper: KafkaGroups | null = null;
  private closed = false;

  constructor(
    private readonly spec: KafkaSpec,
    private readonly connectTimeoutMs: number,
    private readonly deadLetterTopics: ReadonlyMap<string, string>,
  ) {
    // Each capability connects on first use, through the same client.
    const inspection = () => this.inspections();
    const topology = async () =>
      (this.topologist ??= new KafkaTopology(await this.connection(), await inspection()));
    this.inspection = {
      peek: async (source, options) => (await inspection()).peek(source, options),
      tail: (source, options) => this.tail(inspection, source, options),
      list: async (pattern) => (await inspection()).list(pattern),
      describe: async (name) => (await inspection()).describe(name),
    };
    this.topology = {
      plan: async (declared) => (await topology()).plan(declared),
      apply: async (declared) => (await topology()).apply(declared),
      export: async () => (await topology()).export(),
      remove: async (declared) => (await topology()).remove(declared),
    };
    const groups = async () => (this.grouper ??= new KafkaGroups(await this.connection()));
    this.consumerGroups = {
      list: async (pattern) => (await groups()).list(pattern),
      resetOffsets: async (group, topic, to, options) =>
        (await groups()).resetOffsets(group, topic, to, options),
    };
  }

  private async *tail(
    inspection: () => Promise<KafkaInspection>,
    source: string,
    options: TailOptions,
  ): AsyncGenerator<InboundMessage> {
    yield* (await inspection()).tail(source, options);
  }

  private async inspections(): Promise<KafkaInspection> {
    return (this.inspector ??= new KafkaInspection(await this.connection(), this.deadLetterTopics));
  }

  private connection(): Promise<KafkaConnection> {
    if (this.closed) return Promise.reject(new MqError('the Kafka connection is closed'));
    this.connecting ??= KafkaConnection.open(this.spec, this.connectTimeoutMs);
    return this.connecting;
  }

  async connect(): Promise<void> {
    await this.connection();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connection = await this.connecting?.catch(() => null);
    await connection?.close();
  }

  async publish(
    route: Route,
    messages: readonly OutboundMessage[],
    options?: { signal?: AbortSignal },
  ): Promise<PublishReceipt[]> {
    const connection = await this.connection();
    this.publisher ??= new KafkaPublisher(connection);
    return this.publisher.publish(route, messages, options?.signal);
  }

  /**
   * Takes records through the consumer group `options.group` (required: a group is what remembers
   * how far it got), committing only settled fronts (group-consumer.ts).
   */
  async *consume(source: string, options: ConsumeOptions): AsyncGenerator<Delivery> {
    if (options.group === undefined) {
      throw new UsageError('a Kafka consumer needs a consumer group (options.group)');
    }
    const connection = await this.connection();
    const { deadLetterQueue } = await (await this.inspections()).describe(source);
    yield* consumeGroup(connection, {
      topic: source,
      group: options.group,
      deadLetterTopic: deadLetterQueue,
      prefetch: options.prefetch ?? DEFAULT_PREFETCH,
      sessionTimeoutMs: options.sessionTimeoutMs,
      signal: options.signal,
      produce: async (topic, message) => {
        const [receipt] = await this.publish({ kind: 'topic', topic }, [message], options);
        if (receipt?.status !== 'confirmed') {
          throw new MqError(`${topic} did not confirm the dead letter of a record of ${source}`, {
            hint: 'the record stays unsettled and is read again; check the topic with mq describe',
          });
        }
      },
    });
  }
}
