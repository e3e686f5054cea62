import type { ExchangeType, ProjectFile } from './project-file.js';

/**
 * The broker-neutral declarations a project file stands for, with DESIGN.md §3's dead-letter
 * wiring made explicit, so that the local broker and RabbitMQ apply (and `topology plan` compares)
 * exactly the same things.
 */
export interface ExchangeDeclaration {
  name: string;
  type: ExchangeType;
  durable: boolean;
}

/** Queue arguments by their RabbitMQ names, the one vocabulary both queue brokers use. */
export interface QueueArguments {
  'x-queue-type': 'classic' | 'quorum';
  'x-dead-letter-exchange'?: string;
  'x-dead-letter-routing-key'?: string;
  /** maxDeliveries - 1: RabbitMQ allows limit + 1 deliveries. */
  'x-delivery-limit'?: number;
  'x-message-ttl'?: number;
  /** Deleted by the broker after this long unused (RabbitMQ): `mq bench`'s queues, should it die. */
  'x-expires'?: number;
}

export interface QueueDeclaration {
  name: string;
  arguments: QueueArguments;
}

export interface BindingDeclaration {
  exchange: string;
  queue: string;
  routingKey: string;
}

export interface TopicDeclaration {
  name: string;
  partitions: number;
  retentionMs: number | null;
  /** Where this topic's dead letters go; declared itself too, after it. */
  deadLetterTopic: string | null;
}

export interface Topology {
  exchanges: ExchangeDeclaration[];
  queues: QueueDeclaration[];
  bindings: BindingDeclaration[];
  topics: TopicDeclaration[];
}

/** `<exchange>.dlx`, a direct exchange routing `<queue>.dlq`-style keys, one DLQ per key. */
export function deadLetterExchangeFor(exchange: string): string {
  return `${exchange}.dlx`;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export function retentionToMs(retention: string | undefined): number | null {
  const match = retention === undefined ? null : /^(\d+)(ms|s|m|h|d)$/.exec(retention);
  return match ? Number(match[1]) * DURATION_UNITS_MS[match[2]!]! : null;
}

export function desiredTopology(project: ProjectFile): Topology {
  const exchanges = new Map<string, ExchangeDeclaration>();
  for (const exchange of project.exchanges) {
    exchanges.set(exchange.name, {
      name: exchange.name,
      type: exchange.type,
      durable: exchange.durable ?? true,
    });
  }
  const queues = new Map<string, QueueDeclaration>();
  const bindings: BindingDeclaration[] = [];

  for (const queue of project.queues) {
    const args: QueueArguments = { 'x-queue-type': queue.type ?? 'classic' };
    if (queue.maxDeliveries !== undefined) {
      // A delivery limit needs a quorum queue on RabbitMQ (DESIGN.md §3).
      args['x-queue-type'] = 'quorum';
      args['x-delivery-limit'] = queue.maxDeliveries - 1;
    }
    if (queue.messageTtl !== undefined) args['x-message-ttl'] = queue.messageTtl;
    if (queue.deadLetterQueue !== undefined) {
      const source = queue.bindings?.[0]?.exchange ?? queue.name;
      const dlx = deadLetterExchangeFor(source);
      args['x-dead-letter-exchange'] = dlx;
      args['x-dead-letter-routing-key'] = queue.deadLetterQueue;
      if (!exchanges.has(dlx)) exchanges.set(dlx, { name: dlx, type: 'direct', durable: true });
      // Dead letters must be listable without spending deliveries: always a classic queue.
      if (!queues.has(queue.deadLetterQueue)) {
        queues.set(queue.deadLetterQueue, {
          name: queue.deadLetterQueue,
          arguments: { 'x-queue-type': 'classic' },
        });
      }
      bindings.push({
        exchange: dlx,
        queue: queue.deadLetterQueue,
        routingKey: queue.deadLetterQueue,
      });
    }
    queues.set(queue.name, { name: queue.name, arguments: args });
    for (const binding of queue.bindings ?? []) {
      bindings.push({
        exchange: binding.exchange,
        queue: queue.name,
        routingKey: binding.pattern ?? '',
      });
    }
  }
  // A dead-letter topic gets its topic's partitions (Spring's recoverer keeps the partition number)
  // and retention, unless the project file declares it itself.
  const topics = new Map<string, TopicDeclaration>();
  for (const topic of project.topics) {
    const partitions = topic.partitions ?? 1;
    const retentionMs = retentionToMs(topic.retention);
    const deadLetterTopic = topic.deadLetterTopic ?? null;
    topics.set(topic.name, { name: topic.name, partitions, retentionMs, deadLetterTopic });
    const declaredItself = project.topics.some((t) => t.name === deadLetterTopic);
    if (deadLetterTopic !== null && !declaredItself && !topics.has(deadLetterTopic)) {
      topics.set(deadLetterTopic, {
        name: deadLetterTopic,
        partitions,
        retentionMs,
        deadLetterTopic: null,
      });
    }
  }
  return {
    exchanges: [...exchanges.values()],
    queues: [...queues.values()],
    bindings,
    topics: [...topics.values()],
  };
}
