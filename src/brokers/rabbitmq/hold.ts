/**
 * Holding a queue's first messages for a redrive or a purge (`DeadLetterHandling.hold`): one AMQP
 * consumer on a channel of its own, the broker pushing a window of messages ahead of the caller,
 * so taking costs no round trip per message. A message the caller keeps back (skipped, failed)
 * stays unacked to the end; the channel's prefetch then widens by a window, so kept-back messages
 * never stall the ones behind them. At most `limit` messages are handed out; any pushed beyond
 * that go straight back. close() cancels the consumer first, so nothing more arrives, then
 * returns every unsettled message (nack with requeue, in delivery order) and closes the channel.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { MqError } from '../../errors.js';
import type { Delivery, Holding, HoldOptions, InboundMessage } from '../types.js';
import type { TrackedChannel } from './connection.js';
import { asMqError, brokerText } from './failures.js';

/** How long to wait for a message before asking the broker whether any is left. */
const IDLE_CHECK_MS = 250;

type Settlement = 'ack' | 'retry' | 'release' | 'deadLetter';

export interface HoldSource {
  queue: string;
  open(): Promise<TrackedChannel>;
  read(message: ConsumeMessage): InboundMessage;
  /** Messages ready in the queue now (a passive declare). */
  readyCount(): Promise<number>;
}

export class HeldMessages implements Holding {
  /** Received and not yet handed out, in delivery order. */
  private readonly waiting: ConsumeMessage[] = [];
  /** Received and not settled, by delivery tag. */
  private readonly unsettled = new Map<number, ConsumeMessage>();
  private tracked: TrackedChannel | null = null;
  private consumerTag: string | null = null;
  private received = 0;
  private prefetch: number;
  private failure: MqError | null = null;
  private ended = false;
  private wake: () => void = () => {};

  constructor(
    private readonly source: HoldSource,
    private readonly options: HoldOptions,
  ) {
    this.prefetch = Math.max(1, options.window);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Delivery> {
    const { signal, limit } = this.options;
    const nudge = () => this.wake();
    signal.addEventListener('abort', nudge);
    try {
      if (limit <= 0) return;
      const channel = await this.start();
      for (let handedOut = 0; handedOut < limit;) {
        if (this.failure !== null) throw this.failure;
        if (signal.aborted || this.ended) return;
        const next = this.waiting.shift();
        if (next !== undefined) {
          handedOut += 1;
          yield new HeldDelivery(this.source.read(next), next, this);
          continue;
        }
        if (this.unsettled.size >= this.prefetch) {
          // Every slot is held by a message the caller keeps back: let the broker send more.
          this.prefetch = this.unsettled.size + Math.max(1, this.options.window);
          await channel.prefetch(this.prefetch, true);
        }
        if (!(await this.arrival()) && (await this.source.readyCount()) === 0) {
          // Someone else took the rest; anything still on its way is returned by close().
          if (this.waiting.length === 0) return;
        }
      }
    } finally {
      signal.removeEventListener('abort', nudge);
      await this.stopConsuming();
    }
  }

  /** True when something happened (a message, a failure, the signal) before the idle check is due. */
  private arrival(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), IDLE_CHECK_MS);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private async start(): Promise<Channel> {
    const tracked = await this.source.open();
    this.tracked = tracked;
    void tracked.closed.then(() => {
      if (this.ended) return;
      const why = tracked.failure === null ? 'the connection closed' : brokerText(tracked.failure);
      this.fail(new MqError(`taking from ${this.source.queue} stopped: ${why}`));
    });
    const { channel } = tracked;
    try {
      // Channel-wide (global), so that raising it later applies to the running consumer.
      await channel.prefetch(this.prefetch, true);
      const { consumerTag } = await channel.consume(
        this.source.queue,
        (message) => this.receive(message),
        { noAck: false },
      );
      this.consumerTag = consumerTag;
    } catch (error) {
      throw asMqError(error, `taking from ${this.source.queue}`);
    }
    return channel;
  }

  private receive(message: ConsumeMessage | null): void {
    if (message === null) {
      this.fail(
        new MqError(`RabbitMQ cancelled the consumer of ${this.source.queue}`, {
          hint: 'the queue was probably deleted; mq ls lists what is there',
        }),
      );
      return;
    }
    if (this.received >= this.options.limit || this.ended) {
      // Beyond what the run takes (it arrived after it started): straight back, untouched.
      this.tracked?.channel.nack(message, false, true);
      return;
    }
    this.received += 1;
    this.unsettled.set(message.fields.deliveryTag, message);
    this.waiting.push(message);
    if (this.received === this.options.limit) void this.stopConsuming();
    this.wake();
  }

  private fail(error: MqError): void {
    this.failure ??= error;
    this.wake();
  }

  private async stopConsuming(): Promise<void> {
    const tag = this.consumerTag;
    this.consumerTag = null;
    if (tag !== null && this.tracked?.isOpen) {
      await this.tracked.channel.cancel(tag).catch(() => undefined);
    }
  }

  settle(message: ConsumeMessage, id: string, how: Settlement): Promise<void> {
    const tag = message.fields.deliveryTag;
    if (this.ended || this.failure !== null || !this.unsettled.has(tag)) {
      if (how === 'release' && !this.unsettled.has(tag)) return Promise.resolve();
      return Promise.reject(
        this.failure ??
          new MqError(
            this.ended
              ? `the hold on ${this.source.queue} has ended: message ${id} went back to the queue`
              : `message ${id} was already settled`,
          ),
      );
    }
    this.unsettled.delete(tag);
    const { channel } = this.tracked!;
    try {
      if (how === 'ack') channel.ack(message);
      else if (how === 'deadLetter') channel.reject(message, false);
      else if (how === 'retry') channel.reject(message, true);
      else channel.nack(message, false, true);
    } catch (error) {
      return Promise.reject(asMqError(error, `settling a message from ${this.source.queue}`));
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.wake();
    await this.stopConsuming();
    const tracked = this.tracked;
    if (tracked?.isOpen) {
      const remaining = [...this.unsettled.values()].sort(
        (a, b) => a.fields.deliveryTag - b.fields.deliveryTag,
      );
      try {
        for (const message of remaining) tracked.channel.nack(message, false, true);
      } catch {
        // The channel went meanwhile: the broker returns what it held on its own.
      }
      await tracked.close();
    }
    this.unsettled.clear();
    this.waiting.length = 0;
  }
}

class HeldDelivery implements Delivery {
  constructor(
    readonly message: InboundMessage,
    private readonly raw: ConsumeMessage,
    private readonly holding: HeldMessages,
  ) {}

  ack(): Promise<void> {
    return this.holding.settle(this.raw, this.message.id, 'ack');
  }

  deadLetter(): Promise<void> {
    return this.holding.settle(this.raw, this.message.id, 'deadLetter');
  }

  retry(): Promise<void> {
    return this.holding.settle(this.raw, this.message.id, 'retry');
  }

  release(): Promise<void> {
    return this.holding.settle(this.raw, this.message.id, 'release');
  }
}
