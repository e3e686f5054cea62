/**
 * Reading RabbitMQ without removing anything: peek (under the browse rule, DESIGN.md §5.1), tail
 * (a tap queue beside the target), ls and describe.
 */
import { randomUUID } from 'node:crypto';
import type { ConsumeMessage, GetMessage } from 'amqplib';
import { MqError, NotFoundError, RefusedError, UnsupportedError } from '../../errors.js';
import { globToRegExp, topicMatches } from '../matching.js';
import type { InboundMessage, Inspection, PeekOptions, QueueInfo, TailOptions } from '../types.js';
import { ContentIds, toInbound } from './codec.js';
import type { AmqpConnection } from './connection.js';
import { asMqError } from './failures.js';
import type { ManagedBinding, ManagedExchange, ManagedQueue, ManagementApi } from './management.js';
import type { Queues } from './queues.js';
import {
  defaultQuorumDeliveryLimit,
  formatVersion,
  releaseCountsOnQuorum,
  type ServerVersion,
} from './version.js';

/** A tap holds at most this many copies; past it the oldest are dropped, never the target's. */
const TAP_MAX_LENGTH = 10_000;
/** Copies in this process at once; the rest wait in the tap. */
const TAP_PREFETCH = 100;
/** This process's own queues: gone with its connection, never on disk, never replicated. */
const EPHEMERAL_CLASSIC = {
  exclusive: true,
  autoDelete: true,
  durable: false,
  arguments: { 'x-queue-type': 'classic' },
};

/** A queue's dead-lettering and delivery settings, from its arguments or else its policy. */
interface QueueSettings {
  deadLetterExchange: string | null;
  deadLetterRoutingKey: string | null;
  maxDeliveries: number | null;
  messageTtlMs: number | null;
}

/**
 * RabbitMQ's own precedence: an argument's text wins over the policy's, and of two numeric limits
 * the lower one applies. `x-delivery-limit` counts only on quorum queues, where RabbitMQ 4 has a
 * default; a negative limit means none.
 */
export function queueSettings(queue: ManagedQueue, version: ServerVersion | null): QueueSettings {
  const text = (argument: string, policy: string) => {
    const value = queue.arguments[argument] ?? queue.policy[policy];
    return typeof value === 'string' ? value : null;
  };
  const lowest = (argument: string, policy: string) => {
    const values = [queue.arguments[argument], queue.policy[policy]].filter(
      (value): value is number => typeof value === 'number',
    );
    return values.length === 0 ? null : Math.min(...values);
  };
  const limit =
    queue.type === 'quorum'
      ? (lowest('x-delivery-limit', 'delivery-limit') ?? defaultQuorumDeliveryLimit(version))
      : null;
  return {
    deadLetterExchange: text('x-dead-letter-exchange', 'dead-letter-exchange'),
    deadLetterRoutingKey: text('x-dead-letter-routing-key', 'dead-letter-routing-key'),
    maxDeliveries: limit === null || limit < 0 ? null : limit + 1,
    messageTtlMs: lowest('x-message-ttl', 'message-ttl'),
  };
}

/** Whether a binding of an exchange of this type takes a message with this routing key. */
function routes(exchangeType: string, bindingKey: string, routingKey: string): boolean {
  switch (exchangeType) {
    case 'fanout':
      return true;
    case 'direct':
      return bindingKey === routingKey;
    case 'topic':
      return topicMatches(bindingKey, routingKey);
    default:
      return false;
  }
}

/**
 * The one queue a queue's dead letters reach: the queues the dead-letter exchange routes the
 * dead-letter routing key to, when that is exactly one. Without a fixed key, dead letters follow
 * each message's own routing key: no single answer, unless the exchange is a fanout. The default exchange ('') is a direct
 * exchange with a binding from each queue's name to that queue.
 */
export function deadLetterQueueOf(
  settings: QueueSettings,
  exchanges: readonly ManagedExchange[],
  bindings: readonly ManagedBinding[],
): string | null {
  const { deadLetterExchange: exchange, deadLetterRoutingKey: key } = settings;
  if (exchange === null) return null;
  const type = exchange === '' ? 'direct' : exchanges.find((e) => e.name === exchange)?.type;
  // A fanout exchange ignores the key: without a fixed one, dead letters still go one way.
  if (type === undefined || (key === null && type !== 'fanout')) return null;
  const queues = new Set(
    bindings
      .filter((b) => b.source === exchange && b.destinationType === 'queue')
      .filter((b) => routes(type, b.routingKey, key ?? ''))
      .map((b) => b.destination),
  );
  return queues.size === 1 ? [...queues][0]! : null;
}

/** `mq ls` globs (`*`, `?`) as the anchored PCRE the management API's name filter takes. */
export function globToManagementRegex(glob: string): string {
  return globToRegExp(glob).source;
}

export interface InspectionContext {
  connection(): Promise<AmqpConnection>;
  management: ManagementApi;
  queues: Queues;
}

export class RabbitMqInspection implements Inspection {
  constructor(private readonly context: InspectionContext) {}

  /**
   * Browses: basic.get without ack up to `limit` times, then nack-requeue every message fetched,
   * in order, before the channel closes. Refused on a quorum queue (or one of unknown type) where
   * the return would count a delivery, unless forced; RabbitMQ 3 also puts what a forced browse
   * returns at the back of a quorum queue. Stream queues are not browsed yet.
   */
  async peek(source: string, options: PeekOptions): Promise<InboundMessage[]> {
    const { queues } = this.context;
    await queues.declarePassively(source);
    const type = await queues.type(source);
    if (type === 'stream') {
      throw new UnsupportedError(`mq cannot browse stream queues yet ("${source}" is one)`, {
        hint: `mq tail ${source} shows new messages`,
      });
    }
    const connection = await this.context.connection();
    if (type !== 'classic' && releaseCountsOnQuorum(connection.serverVersion) && !options.force) {
      throw await this.browseRefusal(source, type, options.limit, connection.serverVersion);
    }
    const tracked = await connection.channel();
    const fetched: GetMessage[] = [];
    try {
      while (fetched.length < options.limit && !options.signal?.aborted) {
        const message = await tracked.channel.get(source, { noAck: false });
        if (message === false) break;
        fetched.push(message);
      }
      const ids = new ContentIds();
      return fetched.map((message) => toInbound(message, { source, queueType: type, ids }));
    } catch (error) {
      throw asMqError(error, `browsing ${source}`);
    } finally {
      // Explicitly, at once: closing the channel would return them too, but counted on a quorum
      // queue even on RabbitMQ 4.3; and a classic queue takes 10,000 single nacks in over 10 s.
      await tracked.returnAllAndClose(source, fetched.length);
    }
  }

  private async browseRefusal(
    source: string,
    type: 'quorum' | null,
    limit: number,
    version: ServerVersion | null,
  ): Promise<RefusedError> {
    const managed = type === null ? null : await this.managedQueue(source);
    const maxDeliveries = managed === null ? null : queueSettings(managed, version).maxDeliveries;
    const why =
      type === null
        ? `neither the management API nor mq.config.json tells the type of "${source}", so it is treated as a quorum queue, where`
        : `"${source}" is a quorum queue, where`;
    const budget =
      maxDeliveries === null
        ? ''
        : ` (it dead-letters a message after ${maxDeliveries} deliveries)`;
    return new RefusedError(
      `peek would spend a delivery of each of up to ${limit} message(s): ${why} returning a browsed message counts as a delivery on RabbitMQ ${formatVersion(version)} (before 4.3), so each message shown would get x-delivery-count + 1${budget}`,
      {
        hint: `--force browses anyway and spends them; mq tail ${source} shows new messages without touching the queue`,
      },
    );
  }

  private async managedQueue(name: string): Promise<ManagedQueue | null> {
    return (await this.context.management.available()) ? this.context.management.queue(name) : null;
  }

  /**
   * An exclusive, auto-deleted tap queue, bound with each of the target's own bindings (found in
   * the management API), consumed without acks. The target queue is never touched. The tap is
   * deleted on the way out, and by RabbitMQ with the connection if the process dies.
   *
   * The tap is read with acks and a small prefetch, so a slow reader leaves copies waiting in the
   * tap rather than in this process's memory. Past TAP_MAX_LENGTH the oldest are dropped and
   * dead-lettered (reason `maxlen`) to a second exclusive queue, read only to count them.
   */
  async *tail(source: string, options: TailOptions): AsyncGenerator<InboundMessage> {
    const { management, queues } = this.context;
    await queues.declarePassively(source);
    await management.require(`mq tail ${source} (to find the queue's bindings)`);
    const [target, allBindings] = await Promise.all([
      management.queue(source),
      management.queueBindings(source),
    ]);
    const bindings = allBindings.filter((binding) => binding.source !== '');
    if (target === null) {
      throw new NotFoundError(`queue "${source}" does not exist on RabbitMQ`);
    }
    if (bindings.length === 0) {
      throw new MqError(
        `"${source}" is bound to no exchange: tail cannot see messages published straight to a queue through the default exchange`,
        {
          hint: 'RabbitMQ does not let a tap bind to the default exchange; bind the queue to an exchange, or look with mq peek',
        },
      );
    }
    const connection = await this.context.connection();
    const tracked = await connection.channel();
    const { channel } = tracked;
    const tap = `mq-tail-${randomUUID()}`;
    const arrivals: ConsumeMessage[] = [];
    // Set from callbacks, so held in an object the compiler does not narrow.
    const stopped: { error: MqError | null } = { error: null };
    let wake: () => void = () => {};
    const nudge = () => wake();
    options.signal.addEventListener('abort', nudge);
    void tracked.closed.then(() => {
      stopped.error ??= asMqError(
        tracked.failure ?? new Error('the connection closed'),
        `tailing ${source}`,
      );
      wake();
    });
    try {
      const droppedQueue = `${tap}.dropped`;
      await channel.assertQueue(droppedQueue, EPHEMERAL_CLASSIC);
      let dropped = 0;
      await channel.consume(
        droppedQueue,
        (message) => {
          if (message === null) return;
          dropped += 1;
          options.onDropped?.(dropped);
        },
        { noAck: true, exclusive: true },
      );
      await channel.assertQueue(tap, {
        ...EPHEMERAL_CLASSIC,
        arguments: {
          ...EPHEMERAL_CLASSIC.arguments,
          'x-max-length': TAP_MAX_LENGTH,
          'x-overflow': 'drop-head',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': droppedQueue,
        },
      });
      for (const binding of bindings) {
        await channel.bindQueue(tap, binding.source, binding.routingKey, binding.arguments);
      }
      await channel.prefetch(TAP_PREFETCH);
      await channel.consume(
        tap,
        (message) => {
          if (message === null)
            stopped.error ??= new MqError(`RabbitMQ deleted the tap of ${source}`);
          else arrivals.push(message);
          wake();
        },
        { noAck: false, exclusive: true },
      );
      options.onReady?.();
      const ids = new ContentIds();
      while (!options.signal.aborted) {
        if (stopped.error !== null) throw stopped.error;
        const message = arrivals.shift();
        if (message !== undefined) {
          yield toInbound(message, { source, queueType: target.type, ids });
          // Taken only now that the reader asks for more: until then it waits in the tap.
          channel.ack(message);
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } catch (error) {
      throw asMqError(error, `tailing ${source}`);
    } finally {
      options.signal.removeEventListener('abort', nudge);
      if (tracked.isOpen) await channel.deleteQueue(tap).catch(() => {});
      await tracked.close();
    }
  }

  /** From the management API: every figure sampled, sorted by name. */
  async list(pattern?: string): Promise<QueueInfo[]> {
    const { management } = this.context;
    await management.require('listing queues');
    const found = await management.queues(
      pattern === undefined ? undefined : globToManagementRegex(pattern),
    );
    if (found.length === 0) return [];
    const [bindings, exchanges, connection] = await Promise.all([
      management.bindings(),
      management.exchanges(),
      this.context.connection(),
    ]);
    return found
      .map((queue) => ({
        ...this.info(queue, connection.serverVersion, bindings, exchanges, bindings),
        ready: queue.messagesReady,
        unacked: queue.messagesUnacknowledged,
        consumers: queue.consumers,
        sampled: true,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Ready messages and consumers exact, from a passive declare; unacked and the queue's settings
   * from the management API when it answers (`sampled`), else only the type the project file gives.
   */
  async describe(name: string): Promise<QueueInfo> {
    const { management, queues } = this.context;
    const counts = await queues.declarePassively(name);
    const queue = await this.managedQueue(name);
    if (queue === null) {
      return {
        name,
        kind: 'queue',
        type: queues.declaredType(name),
        ready: counts.ready,
        unacked: null,
        consumers: counts.consumers,
        deadLetterExchange: null,
        deadLetterQueue: null,
        maxDeliveries: null,
        messageTtlMs: null,
        bindings: null,
        sampled: false,
      };
    }
    const connection = await this.context.connection();
    const { deadLetterExchange: exchange, deadLetterRoutingKey: key } = queueSettings(
      queue,
      connection.serverVersion,
    );
    const [bindings, exchanges, deadLetterBindings] = await Promise.all([
      management.queueBindings(name),
      exchange === null || exchange === ''
        ? []
        : management.exchange(exchange).then((found) => (found === null ? [] : [found])),
      exchange === null
        ? []
        : exchange === ''
          ? key === null
            ? []
            : management.queueBindings(key)
          : management.bindingsFrom(exchange),
    ]);
    return {
      ...this.info(queue, connection.serverVersion, bindings, exchanges, deadLetterBindings),
      ready: counts.ready,
      unacked: queue.messagesUnacknowledged,
      consumers: counts.consumers,
      sampled: true,
    };
  }

  /** Everything but the figures; `bindings` may hold other queues' bindings too. */
  private info(
    queue: ManagedQueue,
    version: ServerVersion | null,
    bindings: readonly ManagedBinding[],
    exchanges: readonly ManagedExchange[],
    deadLetterBindings: readonly ManagedBinding[],
  ): Omit<QueueInfo, 'ready' | 'unacked' | 'consumers' | 'sampled'> {
    const settings = queueSettings(queue, version);
    return {
      name: queue.name,
      kind: 'queue',
      type: queue.type,
      deadLetterExchange: settings.deadLetterExchange,
      deadLetterQueue: deadLetterQueueOf(settings, exchanges, deadLetterBindings),
      maxDeliveries: settings.maxDeliveries,
      messageTtlMs: settings.messageTtlMs,
      bindings: bindings
        .filter((b) => b.destination === queue.name && b.destinationType === 'queue')
        .filter((b) => b.source !== '')
        .map((b) => ({ exchange: b.source, routingKey: b.routingKey }))
        .sort((a, b) =>
          a.exchange === b.exchange
            ? a.routingKey.localeCompare(b.routingKey)
            : a.exchange.localeCompare(b.exchange),
        ),
    };
  }
}
