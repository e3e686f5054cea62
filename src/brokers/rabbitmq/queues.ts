/**
 * What mq needs to know about one queue before it reads from it: that it exists (a passive declare
 * on a throwaway channel, exact and immediate), and its type, which decides the browse rule and
 * what `deliveryCount` means.
 */
import type { Topology } from '../../config/topology.js';
import { NotFoundError } from '../../errors.js';
import { didYouMean } from '../../message/suggest.js';
import type { AmqpConnection } from './connection.js';
import { asMqError, NOT_FOUND, replyCode } from './failures.js';
import type { ManagementApi, QueueType } from './management.js';

export interface QueueCounts {
  /** Messages ready for delivery (not those delivered and unacked). */
  ready: number;
  consumers: number;
}

export class Queues {
  constructor(
    private readonly connection: () => Promise<AmqpConnection>,
    private readonly management: ManagementApi,
    /** The project file's topology, when there is one. */
    private readonly declared: Topology | null,
    private readonly vhost: string,
  ) {}

  /** Exact counts; a missing queue is a NotFoundError naming the near miss. */
  async declarePassively(name: string): Promise<QueueCounts> {
    const connection = await this.connection();
    try {
      const ok = await connection.withChannel((channel) => channel.checkQueue(name));
      return { ready: ok.messageCount, consumers: ok.consumerCount };
    } catch (error) {
      if (replyCode(error) !== NOT_FOUND) throw asMqError(error, `looking up queue ${name}`);
      throw new NotFoundError(
        `queue "${name}" does not exist on RabbitMQ (vhost ${this.vhost})${didYouMean(name, await this.names())}`,
        {
          cause: error,
          hint: 'mq ls lists the queues; mq topology apply declares those of mq.config.json',
        },
      );
    }
  }

  /** Queue names to suggest from: the broker's when the management API answers, else the project file's. */
  private async names(): Promise<string[]> {
    if (await this.management.available()) {
      return (await this.management.queues()).map((queue) => queue.name);
    }
    return this.declared?.queues.map((queue) => queue.name) ?? [];
  }

  /** The type the project file declares for the queue, if it declares the queue. */
  declaredType(name: string): QueueType | null {
    return (
      this.declared?.queues.find((queue) => queue.name === name)?.arguments['x-queue-type'] ?? null
    );
  }

  /** From the management API, else the project file (DESIGN.md §5.1); null when neither tells. */
  async type(name: string): Promise<QueueType | null> {
    if (await this.management.available()) {
      const queue = await this.management.queue(name);
      if (queue !== null) return queue.type;
    }
    return this.declaredType(name);
  }
}
