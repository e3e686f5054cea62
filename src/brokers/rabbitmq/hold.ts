/**
 * Holding a queue's first messages for a redrive or a purge (`DeadLetterHandling.hold`): one AMQP
 * consumer at a time on a channel of its own, the broker pushing up to a window of messages ahead
 * of the caller, so taking costs no round trip per message and an ack none at all.
 *
 * A message the caller keeps back (skipped, failed) stays unacked until close(), and an unacked
 * message uses up its consumer's prefetch. When every message of the consumer is kept back, the
 * broker would send nothing more: the consumer is cancelled (what it delivered stays held and can
 * still be settled) and a new one starts with a window of its own. A channel-wide prefetch raised
 * in place would be one round trip instead of two, but RabbitMQ refuses global QoS on quorum
 * queues by closing the whole connection (540 NOT_IMPLEMENTED, 3.10), and a DLQ may be one.
 *
 * At most `limit` messages are handed out; any the broker pushes beyond that (or after close())
 * are never yielded and go back with the rest. close() cancels the consumer first, so that nothing
 * more arrives, then returns every unsettled message in delivery order with one basic.nack
 * (multiple, requeue), then closes the channel.
 */
import type { ConsumeMessage } from 'amqplib';
import { MqError } from '../../errors.js';
import type { Delivery, Holding, HoldOptions, InboundMessage } from '../types.js';
import type { TrackedChannel } from './connection.js';
import { asMqError, brokerText } from './failures.js';
import { writeSettlement } from './consumer.js';
import { SettleOnceDelivery, type Settlement } from '../settle-once.js';

/** How long nothing may arrive before asking the broker whether any message is left. */
const IDLE_CHECK_MS = 250;
/** AMQP's prefetch count is a 16-bit field. */
const MAX_PREFETCH = 65_535;

/** What the adapter provides: the queue's channel, its decoding and its ready count. */
export interface HoldSource {
  queue: string;
  /** A channel of its own, once the queue is known to exist (a NotFoundError otherwise). */
  open(): Promise<TrackedChannel>;
  read(message: ConsumeMessage): InboundMessage;
  /** Messages ready in the queue now (a passive declare), not those delivered to anyone. */
  readyCount(): Promise<number>;
}

/** The consumer the broker may push to now. */
interface LiveConsumer {
  tag: string;
  prefetch: number;
  /** Its deliveries not yet settled: once they reach `prefetch`, the broker sends it no more. */
  unsettled: number;
}

export class HeldMessages implements Holding {
  /** Received within the limit and not yet handed out, in delivery order. */
  private readonly waiting: ConsumeMessage[] = [];
  /** Received and not settled (handed out, waiting, or beyond the limit), in delivery order. */
  private readonly unsettled = new Map<number, ConsumeMessage>();
  private tracked: TrackedChannel | null = null;
  private live: LiveConsumer | null = null;
  /** The per-consumer prefetch the channel gives new consumers. */
  private channelPrefetch = 0;
  /** Received within the limit. */
  private received = 0;
  private consumersStarted = 0;
  private iterated = false;
  private failure: MqError | null = null;
  private ended = false;
  private closing: Promise<void> | null = null;
  /** Channel operations (opening, replacing and cancelling consumers, closing) one after another,
   *  so that close() starts only once an operation under way has finished. */
  private operations: Promise<void> = Promise.resolve();
  private wake: () => void = () => {};

  constructor(
    private readonly source: HoldSource,
    private readonly options: HoldOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Delivery> {
    if (this.iterated) throw new MqError(`the hold on ${this.source.queue} was already taken`);
    this.iterated = true;
    const { signal, limit } = this.options;
    const nudge = () => this.wake();
    signal.addEventListener('abort', nudge);
    try {
      if (limit <= 0 || signal.aborted) return;
      await this.serially(() => this.open());
      for (let handedOut = 0; handedOut < limit;) {
        if (this.failure !== null) throw this.failure;
        if (signal.aborted || this.ended) return;
        const next = this.waiting.shift();
        if (next !== undefined) {
          handedOut += 1;
          const message = this.source.read(next);
          yield new SettleOnceDelivery(
            message,
            (how) => this.settle(next, message.id, how),
            (error) => asMqError(error, `settling message ${message.id}`),
          );
          continue;
        }
        const live = this.live;
        if (live !== null && live.unsettled >= live.prefetch) {
          // The caller keeps back everything this consumer delivered: it would get nothing more.
          await this.serially(() => this.replaceConsumer());
          continue;
        }
        if (!(await this.arrival()) && (await this.runOut())) return;
      }
    } finally {
      signal.removeEventListener('abort', nudge);
      await this.serially(() => this.cancelConsumer());
    }
  }

  private serially(operation: () => Promise<void>): Promise<void> {
    const done = this.operations.then(operation);
    this.operations = done.catch(() => undefined);
    return done;
  }

  private async open(): Promise<void> {
    if (this.ended) return;
    const tracked = await this.source.open();
    this.tracked = tracked;
    // Settles when the channel closes, which it always does in the end: nothing to await.
    void tracked.closed.then(() => {
      if (this.ended) return;
      const why = tracked.failure === null ? 'the connection closed' : brokerText(tracked.failure);
      this.fail(
        new MqError(`taking from ${this.source.queue} stopped: ${why}`, {
          cause: tracked.failure,
          hint: 'nothing was lost: RabbitMQ returned every unsettled message to the queue',
        }),
      );
    });
    await this.startConsumer();
  }

  /** A consumer with a window of its own, no larger than what is left to take. */
  private async startConsumer(): Promise<void> {
    const tracked = this.tracked;
    if (this.ended || tracked === null) return;
    const { queue } = this.source;
    const { window, limit } = this.options;
    const prefetch = Math.max(1, Math.min(window, limit - this.received, MAX_PREFETCH));
    this.consumersStarted += 1;
    // Tags that sort in the order the consumers started: RabbitMQ (3.10) passes a multiple nack on
    // to a quorum queue consumer by consumer, in tag order (up to 32 consumers), so close() then
    // returns the messages in the queue's order.
    const tag = `mq-hold-${String(this.consumersStarted).padStart(6, '0')}`;
    try {
      if (prefetch !== this.channelPrefetch) {
        // Per consumer (global false): it applies to the consumers started after it.
        await tracked.channel.prefetch(prefetch, false);
        this.channelPrefetch = prefetch;
      }
      // Live before the consume, so that deliveries arriving with its consume-ok are counted.
      this.live = { tag, prefetch, unsettled: 0 };
      await tracked.channel.consume(queue, (message) => this.receive(message), {
        noAck: false,
        consumerTag: tag,
      });
    } catch (error) {
      this.live = null;
      throw this.failure ?? asMqError(error, `taking from ${queue}`);
    }
  }

  private async replaceConsumer(): Promise<void> {
    await this.cancelConsumer();
    if (this.received < this.options.limit) await this.startConsumer();
  }

  /** Stops the live consumer; what it delivered stays held, to be settled or returned by close(). */
  private async cancelConsumer(): Promise<void> {
    const live = this.live;
    this.live = null;
    if (live === null || this.tracked?.isOpen !== true) return;
    try {
      await this.tracked.channel.cancel(live.tag);
    } catch {
      // The channel went meanwhile, and the consumer with it.
    }
  }

  private receive(message: ConsumeMessage | null): void {
    if (message === null) {
      if (this.ended) return;
      this.fail(
        new MqError(`RabbitMQ cancelled the consumer of ${this.source.queue}`, {
          hint: 'the queue was probably deleted; mq ls lists what is there',
        }),
      );
      return;
    }
    const { deliveryTag, consumerTag } = message.fields;
    this.unsettled.set(deliveryTag, message);
    if (this.live?.tag === consumerTag) this.live.unsettled += 1;
    // Beyond the limit (it arrived after the run started) or after close(): never handed out,
    // it goes back with the rest at close(), after the consumer is cancelled, so it cannot come
    // straight back to this consumer.
    if (this.ended || this.received >= this.options.limit) return;
    this.received += 1;
    this.waiting.push(message);
    if (this.received === this.options.limit) {
      // Everything to take has come: stop the broker pushing more. cancelConsumer() never
      // rejects, and close() waits for it through `operations`.
      void this.serially(() => this.cancelConsumer());
    }
    this.wake();
  }

  private fail(error: MqError): void {
    this.failure ??= error;
    this.wake();
  }

  /** True when something happened (a message, a failure, the signal, close()) before IDLE_CHECK_MS. */
  private arrival(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), IDLE_CHECK_MS);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /**
   * Nothing came for a while although the consumer has room: when the queue has nothing ready,
   * nothing is coming either (another consumer took the rest, or it expired).
   */
  private async runOut(): Promise<boolean> {
    const ready = await this.source.readyCount();
    return ready === 0 && this.waiting.length === 0;
  }

  /** Writes one settlement (no round trip); throws when it can no longer be made. */
  settle(message: ConsumeMessage, id: string, how: Settlement): void {
    const { queue } = this.source;
    if (this.ended || this.failure !== null || this.tracked === null) {
      // close(), or the broker with the channel, has given it back already.
      if (how === 'release') return;
      throw (
        this.failure ??
        new MqError(`the hold on ${queue} has ended: message ${id} went back to the queue`)
      );
    }
    this.unsettled.delete(message.fields.deliveryTag);
    if (this.live?.tag === message.fields.consumerTag) this.live.unsettled -= 1;
    const { channel } = this.tracked;
    try {
      writeSettlement(channel, message, how);
    } catch (error) {
      // The channel is gone, and the broker has the message back (at-least-once).
      throw asMqError(error, `settling message ${id} from ${queue}`);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.ended = true;
    this.wake();
    await this.serially(async () => {
      await this.cancelConsumer();
      // Every delivery the channel still has unacked is an unsettled one, and they go back at
      // once: separate nacks would reach a quorum queue out of order.
      await this.tracked?.returnAllAndClose(this.source.queue, this.unsettled.size);
      this.unsettled.clear();
      this.waiting.length = 0;
    });
  }
}
