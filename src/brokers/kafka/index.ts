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
import { MqError, UnsupportedError } from '../../errors.js';
import type {
  BrokerAdapter,
  ConsumeOptions,
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
import { KafkaInspection } from './inspection.js';
import { KafkaPublisher } from './publisher.js';
import { KafkaTopology } from './topology.js';

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
  private connecting: Promise<KafkaConnection> | null = null;
  private publisher: KafkaPublisher | null = null;
  private inspector: KafkaInspection | null = null;
  private topologist: KafkaTopology | null = null;
  private closed = false;

  constructor(
    private readonly spec: KafkaSpec,
    private readonly connectTimeoutMs: number,
    deadLetters: ReadonlyMap<string, string>,
  ) {
    // Each capability connects on first use, through the same client.
    const inspection = async () =>
      (this.inspector ??= new KafkaInspection(await this.connection(), deadLetters));
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
    };
  }

  private async *tail(
    inspection: () => Promise<KafkaInspection>,
    source: string,
    options: TailOptions,
  ): AsyncGenerator<InboundMessage> {
    yield* (await inspection()).tail(source, options);
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
   * Consumer groups that commit (`mq consume --group`) are not built yet: refused before anything
   * is read, so nothing is committed or skipped.
   */
  consume(source: string, _options: ConsumeOptions): AsyncIterable<Delivery> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.reject(
            new UnsupportedError(
              `mq cannot consume from Kafka yet: taking and settling records of "${source}" needs a consumer group that commits`,
              {
                hint: `read without committing instead: mq tail ${source} --from beginning (or mq peek ${source})`,
              },
            ),
          ),
      }),
    };
  }
}
