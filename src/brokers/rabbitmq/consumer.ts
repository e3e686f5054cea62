/**
 * A consumer that takes from the broker only what its caller asks for.
 *
 * A plain AMQP consumer with a prefetch of N has the broker push N messages at once; those the
 * caller never looks at must be returned when it stops, which marks them redelivered and, on a
 * quorum queue before RabbitMQ 4.3, spends one of their deliveries: `mq consume --count 1` would
 * eat into the delivery budget of messages nobody saw. So each broker consumer here has a prefetch
 * of 1, a new one is added only when the caller asks for another message while holding the others
 * unsettled (up to `prefetch` of them), and a settlement is written to the broker when the caller
 * asks for the next message or the consumer ends. The broker can then push a message only while
 * the caller is waiting for one. The cost is a round trip per message.
 *
 * Settling (DESIGN.md §9): ack → basic.ack; retry → reject(requeue); release → nack(requeue);
 * deadLetter → reject(no requeue). Ending (loop left, signal aborted, adapter closed) cancels the
 * broker consumers first, so nothing more arrives, then writes the pending settlements and
 * nack-requeues everything unsettled, in delivery order, before closing the channel.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { MqError } from '../../errors.js';
import type { Delivery, InboundMessage } from '../types.js';
import type { TrackedChannel } from './connection.js';
import { asMqError, brokerText } from './failures.js';

export type Settlement = 'ack' | 'retry' | 'release' | 'deadLetter';

/** One settlement on the wire (no round trip): ack → basic.ack; retry → reject(requeue);
 *  release → nack(requeue); deadLetter → reject(no requeue). Throws when the channel is gone. */
export function writeSettlement(channel: Channel, message: ConsumeMessage, how: Settlement): void {
  switch (how) {
    case 'ack':
      channel.ack(message);
      break;
    case 'retry':
      channel.reject(message, true);
      break;
    case 'release':
      channel.nack(message, false, true);
      break;
    case 'deadLetter':
      channel.reject(message, false);
      break;
  }
}

/** A message the broker delivered and has not been told about yet. */
interface Held {
  message: ConsumeMessage;
  consumerTag: string;
  yielded: boolean;
  /** What the caller decided, not yet written to the broker. */
  settlement: Settlement | null;
}

class RabbitDelivery implements Delivery {
  constructor(
    readonly message: InboundMessage,
    private readonly held: Held,
    private readonly session: ConsumerSession,
  ) {}

  ack(): Promise<void> {
    return this.session.settle(this.held, this.message.id, 'ack');
  }

  deadLetter(): Promise<void> {
    return this.session.settle(this.held, this.message.id, 'deadLetter');
  }

  retry(): Promise<void> {
    return this.session.settle(this.held, this.message.id, 'retry');
  }

  release(): Promise<void> {
    return this.session.settle(this.held, this.message.id, 'release');
  }
}

export class ConsumerSession {
  /** Broker consumers on the channel: `open` while one may push, `busy` while it holds a message. */
  private readonly consumers = new Map<string, 'open' | 'busy'>();
  /** By delivery tag, in delivery order. */
  private readonly held = new Map<number, Held>();
  private failure: MqError | null = null;
  private ended = false;
  private wake: () => void = () => {};

  constructor(
    private readonly tracked: TrackedChannel,
    private readonly queue: string,
    private readonly prefetch: number,
    private readonly read: (message: ConsumeMessage) => InboundMessage,
  ) {
    void tracked.closed.then(() => {
      if (this.ended) return;
      const why = tracked.failure === null ? 'the connection closed' : brokerText(tracked.failure);
      this.fail(
        new MqError(`the consumer of ${queue} stopped: ${why}`, { cause: tracked.failure }),
      );
    });
  }

  private fail(error: MqError): void {
    this.failure ??= error;
    this.wake();
  }

  async *deliveries(signal: AbortSignal): AsyncGenerator<Delivery> {
    const nudge = () => this.wake();
    signal.addEventListener('abort', nudge);
    try {
      await this.tracked.channel.prefetch(1);
      for (;;) {
        if (signal.aborted || this.ended) return;
        if (this.failure !== null) throw this.failure;
        const next = [...this.held.values()].find((held) => !held.yielded);
        if (next !== undefined) {
          next.yielded = true;
          yield new RabbitDelivery(this.read(next.message), next, this);
          continue;
        }
        if (![...this.consumers.values()].includes('open') && (await this.makeRoom())) continue;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', nudge);
      await this.end();
    }
  }

  /**
   * Lets the broker push one more message: by writing a settlement the caller already made (which
   * frees that consumer's prefetch), else by adding a consumer while fewer than `prefetch` are
   * held unsettled. False when the caller holds `prefetch` unsettled messages: nothing to do.
   */
  private async makeRoom(): Promise<boolean> {
    const settled = [...this.held.values()].find((held) => held.settlement !== null);
    if (settled !== undefined) {
      this.write(settled);
      return true;
    }
    if (this.held.size >= this.prefetch) return false;
    try {
      const { consumerTag } = await this.tracked.channel.consume(
        this.queue,
        (message) => this.receive(message),
        { noAck: false },
      );
      // Its first message may have arrived with the consume-ok, before this line runs.
      if (!this.consumers.has(consumerTag)) this.consumers.set(consumerTag, 'open');
    } catch (error) {
      this.fail(asMqError(error, `consuming from ${this.queue}`));
    }
    return true;
  }

  private receive(message: ConsumeMessage | null): void {
    if (message === null) {
      this.fail(
        new MqError(`RabbitMQ cancelled the consumer of ${this.queue}`, {
          hint: 'the queue was probably deleted; mq ls lists what is there',
        }),
      );
      return;
    }
    const { consumerTag, deliveryTag } = message.fields;
    this.held.set(deliveryTag, { message, consumerTag, yielded: false, settlement: null });
    this.consumers.set(consumerTag, 'busy');
    this.wake();
  }

  /** Tells the broker what became of a message; its consumer may then receive the next. */
  private write(held: Held): void {
    const { channel } = this.tracked;
    const { message } = held;
    this.held.delete(message.fields.deliveryTag);
    if (this.consumers.has(held.consumerTag)) this.consumers.set(held.consumerTag, 'open');
    try {
      writeSettlement(channel, message, held.settlement ?? 'release');
    } catch (error) {
      // The channel is gone, and with it the broker's record of the delivery: it is back in the
      // queue, the settlement lost (at-least-once). The closed channel reports why.
      this.fail(asMqError(error, `settling a message from ${this.queue}`));
    }
  }

  async settle(held: Held, id: string, how: Settlement): Promise<void> {
    if (this.ended || this.failure !== null) {
      // The broker has it back already: a release has nothing left to do.
      if (how === 'release') return;
      throw (
        this.failure ??
        new MqError(`the consumer of ${this.queue} has ended: message ${id} went back to the queue`)
      );
    }
    if (held.settlement !== null) throw new MqError(`message ${id} was already settled`);
    held.settlement = how;
    if ([...this.consumers.values()].includes('open')) {
      // Settled while the caller waits on another consumer, so no later request would write it:
      // write it now, but cancel its consumer first, so that the prefetch it frees cannot bring
      // a second message when one was asked for.
      this.consumers.delete(held.consumerTag);
      await this.tracked.channel.cancel(held.consumerTag).catch(() => {});
      // end() may have written it meanwhile.
      if (this.held.has(held.message.fields.deliveryTag)) this.write(held);
    }
    this.wake();
  }

  /** Idempotent; see the file comment for the order of things. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.wake();
    if (this.tracked.isOpen) {
      const { channel } = this.tracked;
      await Promise.all(
        [...this.consumers.keys()].map((tag) => channel.cancel(tag).catch(() => {})),
      );
      const remaining = [...this.held.values()].sort(
        (a, b) => a.message.fields.deliveryTag - b.message.fields.deliveryTag,
      );
      for (const held of remaining) this.write(held);
      await this.tracked.close();
    }
    this.held.clear();
    this.consumers.clear();
  }
}
