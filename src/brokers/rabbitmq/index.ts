/**
 * RabbitMQ (3.10 or later) through amqplib, behind the broker contract. One AMQP connection per
 * adapter, opened on first use: publishing on a confirm channel, each consumer, peek and tail on
 * a channel of their own, passive checks on throwaway channels. The management API (management.ts)
 * adds what AMQP cannot tell: queue types, arguments, bindings and lists.
 */
import type { RabbitMqSpec } from '../../config/broker-url.js';
import type { ProjectFile } from '../../config/project-file.js';
import { desiredTopology, type Topology } from '../../config/topology.js';
import { MqError } from '../../errors.js';
import type {
  BrokerAdapter,
  ConsumeOptions,
  DeadLetterHandling,
  Delivery,
  Holding,
  HoldOptions,
  Inspection,
  OutboundMessage,
  PublishOptions,
  PublishReceipt,
  Route,
  TopologyManagement,
} from '../types.js';
import { ContentIds, toInbound } from './codec.js';
import { AmqpConnection, nodesOf } from './connection.js';
import { ConsumerSession } from './consumer.js';
import { HeldMessages } from './hold.js';
import { RabbitMqInspection } from './inspection.js';
import { ManagementApi } from './management.js';
import { exchangeTarget } from '../amqp-route.js';
import { Publisher } from './publisher.js';
import { Queues } from './queues.js';
import { RabbitMqTopology } from './topology.js';

/** Unsettled deliveries per consumer when the caller does not say, as on the local broker. */
const DEFAULT_PREFETCH = 10;

export function openRabbitMq(
  spec: RabbitMqSpec,
  options: { connectTimeoutMs: number; project: ProjectFile | null },
): BrokerAdapter {
  return new RabbitMqAdapter(
    spec,
    options.connectTimeoutMs,
    options.project === null ? null : desiredTopology(options.project),
  );
}

export class RabbitMqAdapter implements BrokerAdapter {
  readonly kind = 'rabbitmq';
  readonly inspection: Inspection;
  readonly topology: TopologyManagement;
  /** No move(): on RabbitMQ a move is a confirmed publish, then an ack. */
  readonly deadLetters: DeadLetterHandling = {
    hold: (queue, options) => this.hold(queue, options),
  };
  private readonly management: ManagementApi;
  private readonly queues: Queues;
  private connecting: Promise<AmqpConnection> | null = null;
  private connected: AmqpConnection | null = null;
  private publisher: Publisher | null = null;
  private readonly sessions = new Set<ConsumerSession>();
  private readonly holdings = new Set<Holding>();
  private closed = false;

  constructor(
    private readonly spec: RabbitMqSpec,
    private readonly connectTimeoutMs: number,
    private readonly declared: Topology | null,
  ) {
    const [first] = nodesOf(spec);
    this.management = new ManagementApi(
      spec.managementUrl,
      spec.username,
      first?.password ?? '',
      spec.vhost,
      connectTimeoutMs,
    );
    const connection = () => this.connection();
    this.queues = new Queues(connection, this.management, declared, spec.vhost);
    this.inspection = new RabbitMqInspection({
      connection,
      management: this.management,
      queues: this.queues,
    });
    this.topology = new RabbitMqTopology(connection, this.management);
  }

  /** With several nodes: the one that answered (`amqp://host:5672`) and any passed over. */
  get connectedTo(): string | null {
    return this.spec.urls.length > 1 ? (this.connected?.describeFailover ?? null) : null;
  }

  private connection(): Promise<AmqpConnection> {
    if (this.closed) return Promise.reject(new MqError('the RabbitMQ connection is closed'));
    this.connecting ??= AmqpConnection.open(this.spec, this.connectTimeoutMs).then(
      (connection) => (this.connected = connection),
    );
    return this.connecting;
  }

  async connect(): Promise<void> {
    await this.connection();
  }

  /** Ends consumers (returning what they hold), waits for confirms, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connection = await this.connecting?.catch(() => null);
    if (connection === null || connection === undefined) return;
    for (const session of this.sessions) await session.end();
    for (const holding of this.holdings) await holding.close();
    await this.publisher?.close(this.connectTimeoutMs);
    await connection.close();
  }

  async publish(
    route: Route,
    messages: readonly OutboundMessage[],
    options: PublishOptions = {},
  ): Promise<PublishReceipt[]> {
    const target = exchangeTarget(route, 'RabbitMQ');
    const connection = await this.connection();
    this.publisher ??= new Publisher(connection, () => this.exchangeNames());
    return this.publisher.publish(target, messages, options);
  }

  private async exchangeNames(): Promise<string[]> {
    if (await this.management.available()) {
      return (await this.management.exchanges()).map((e) => e.name).filter((name) => name !== '');
    }
    return this.declared?.exchanges.map((e) => e.name) ?? [];
  }

  consume(source: string, options: ConsumeOptions): AsyncIterable<Delivery> {
    return this.deliveries(source, options);
  }

  private async *deliveries(queue: string, options: ConsumeOptions): AsyncGenerator<Delivery> {
    const connection = await this.connection();
    await this.queues.declarePassively(queue);
    const queueType = await this.queues.type(queue);
    const ids = new ContentIds();
    const session = new ConsumerSession(
      await connection.channel(),
      queue,
      Math.max(1, options.prefetch ?? DEFAULT_PREFETCH),
      (message) => toInbound(message, { source: queue, queueType, ids }),
    );
    this.sessions.add(session);
    try {
      yield* session.deliveries(options.signal);
    } finally {
      this.sessions.delete(session);
    }
  }

  private hold(queue: string, options: HoldOptions): Holding {
    const ids = new ContentIds();
    let queueType: Awaited<ReturnType<Queues['type']>> = null;
    const holding = new HeldMessages(
      {
        queue,
        open: async () => {
          const connection = await this.connection();
          await this.queues.declarePassively(queue);
          queueType = await this.queues.type(queue);
          return connection.channel();
        },
        read: (message) => toInbound(message, { source: queue, queueType, ids }),
        readyCount: async () => (await this.queues.declarePassively(queue)).ready,
      },
      options,
    );
    this.holdings.add(holding);
    return {
      [Symbol.asyncIterator]: () => holding[Symbol.asyncIterator](),
      close: async () => {
        this.holdings.delete(holding);
        await holding.close();
      },
    };
  }
}
