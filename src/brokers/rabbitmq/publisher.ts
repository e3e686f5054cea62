/**
 * Confirmed, mandatory publishing on one confirm channel. A publisher confirm does not mean
 * routed: RabbitMQ confirms an unroutable mandatory message too, after returning it with
 * basic.return, so each return is matched to the message it carries and that receipt says
 * `unroutable`. Up to CONFIRM_WINDOW messages are in flight at once; when the socket's buffer is
 * full amqplib's publish() returns false and the next message waits for `drain`.
 */
import type { ExchangeTarget } from '../amqp-route.js';
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Message } from 'amqplib';
import { InputError, MqError, NotFoundError } from '../../errors.js';
import { didYouMean } from '../../message/suggest.js';
import {
  PublishStopped,
  type OutboundMessage,
  type PublishOptions,
  type PublishReceipt,
} from '../types.js';
import { asBuffer } from '../bytes.js';
import { oncePerHeaderTable } from '../header-tables.js';
import { publishOptions, toFieldTable } from './codec.js';
import type { AmqpConnection, TrackedChannel } from './connection.js';
import { brokerText, NOT_FOUND, replyCode } from './failures.js';

/** Messages published and not yet confirmed, at most. */
const CONFIRM_WINDOW = 1000;
/** Confirms between two progress reports. */
const PROGRESS_EVERY = 100;

/** A message on its way, for matching a basic.return to it. */
interface InFlight {
  exchange: string;
  routingKey: string;
  messageId: string;
  body: Buffer;
  returned: boolean;
}

/** The confirm channel and the messages on it that the broker has not confirmed yet. */
interface ConfirmLane {
  tracked: TrackedChannel<ConfirmChannel>;
  /** In publish order, which is the order RabbitMQ returns and confirms them in. */
  inFlight: Set<InFlight>;
}

function unconfirmed(messageId: string): PublishReceipt {
  return { messageId, status: 'unconfirmed', confirmLatencyMs: null };
}

/** Resolves when the channel's write buffer drains, the channel closes or the signal aborts. */
function drained(lane: ConfirmLane, signal?: AbortSignal): Promise<void> {
  const { channel } = lane.tracked;
  return new Promise((resolve) => {
    // Listeners, not a reaction on `tracked.closed`: that promise outlives many waits, and each
    // reaction added to it would stay until the channel closes.
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    channel.once('drain', done);
    channel.once('close', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class Publisher {
  private lane: ConfirmLane | null = null;
  private opening: Promise<ConfirmLane> | null = null;

  constructor(
    private readonly connection: AmqpConnection,
    /** Exchange names for a "did you mean", when they can be had. */
    private readonly exchangeNames: () => Promise<string[]>,
  ) {}

  /** The open confirm channel; a new one after the broker closed the last (e.g. a missing exchange). */
  private channel(): Promise<ConfirmLane> {
    if (this.lane?.tracked.isOpen) return Promise.resolve(this.lane);
    this.opening ??= this.connection
      .confirmChannel()
      .then((tracked) => {
        const lane: ConfirmLane = { tracked, inFlight: new Set() };
        tracked.channel.on('return', (message: Message) => markReturned(lane, message));
        this.lane = lane;
        return lane;
      })
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  /** One receipt per message written, in order; see BrokerAdapter.publish. */
  async publish(
    target: ExchangeTarget,
    messages: readonly OutboundMessage[],
    { signal, onProgress }: PublishOptions = {},
  ): Promise<PublishReceipt[]> {
    const lane = await this.channel();
    const { channel } = lane.tracked;
    const messageIds = messages.map((m) => m.properties?.messageId ?? randomUUID());
    const receipts: (PublishReceipt | undefined)[] = messages.map(() => undefined);
    let pending = 0;
    let settled = 0;
    let wake: () => void = () => {};
    const nudge = () => wake();
    signal?.addEventListener('abort', nudge);
    void lane.tracked.closed.then(nudge);
    /** Until fewer than `limit` messages are unconfirmed, the channel closes or the signal aborts. */
    const below = async (limit: number) => {
      while (pending >= limit && lane.tracked.isOpen && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    };
    let unencodable: { index: number; error: unknown } | null = null;
    let written = 0;

    const fieldTableOf = oncePerHeaderTable(toFieldTable);
    for (let index = 0; index < messages.length; index += 1) {
      // Awaiting only when the window is full keeps the loop synchronous, and cheap, in between.
      if (pending >= CONFIRM_WINDOW) await below(CONFIRM_WINDOW);
      if (signal?.aborted || !lane.tracked.isOpen) break;
      const message = messages[index]!;
      const body = asBuffer(message.body);
      const entry: InFlight = {
        exchange: target.exchange,
        routingKey: target.routingKey,
        messageId: messageIds[index]!,
        body,
        returned: false,
      };
      const sentAt = performance.now();
      let writable: boolean;
      try {
        writable = channel.publish(
          target.exchange,
          target.routingKey,
          body,
          publishOptions(message, entry.messageId, fieldTableOf(message.headers)),
          (error: unknown) => {
            lane.inFlight.delete(entry);
            receipts[index] =
              error === null
                ? {
                    messageId: entry.messageId,
                    status: entry.returned ? 'unroutable' : 'confirmed',
                    confirmLatencyMs: performance.now() - sentAt,
                  }
                : unconfirmed(entry.messageId);
            pending -= 1;
            settled += 1;
            if (settled % PROGRESS_EVERY === 0) onProgress?.(settled);
            wake();
          },
        );
      } catch (error) {
        // amqplib refuses a header table it cannot encode (over 64 KiB, a value of no AMQP type)
        // before anything is written; the channel stays usable.
        unencodable = { index, error };
        break;
      }
      lane.inFlight.add(entry);
      written += 1;
      pending += 1;
      if (!writable) await drained(lane, signal);
    }
    await below(1);
    signal?.removeEventListener('abort', nudge);
    onProgress?.(settled);

    const lost = this.connection.lostBecause;
    const failure = lane.tracked.isOpen ? null : (lane.tracked.failure ?? lost);
    if (failure !== null && replyCode(failure) === NOT_FOUND) {
      throw new NotFoundError(
        `exchange "${target.exchange}" does not exist on RabbitMQ${didYouMean(target.exchange, await this.exchangeNames())}`,
        {
          cause: failure,
          hint: 'declare it with mq topology apply, or publish through amq.topic',
        },
      );
    }
    const sent = receipts
      .slice(0, written)
      .map((receipt, index) => receipt ?? unconfirmed(messageIds[index]!));
    const confirmed = sent.filter((r) => r.status === 'confirmed').length;
    if (failure !== null) {
      const refusal =
        lost === null
          ? `RabbitMQ closed the channel: ${brokerText(failure)}`
          : `lost the connection to RabbitMQ at ${this.connection.display}: ${brokerText(lost)}`;
      // A channel-level refusal before any confirm (no permission on the exchange…) means the
      // broker took none of them; a lost connection leaves the written ones in doubt.
      if (confirmed === 0 && lost === null) throw new MqError(refusal, { cause: failure });
      throw new PublishStopped(refusal, sent, { cause: failure });
    }
    if (unencodable !== null) {
      const reason = `message ${messageIds[unencodable.index]} cannot be encoded: ${(unencodable.error as Error).message}`;
      const hint = 'AMQP header tables hold at most 64 KiB, and typed values must be AMQP types';
      if (unencodable.index === 0) {
        throw new InputError(reason, { cause: unencodable.error, hint });
      }
      throw new PublishStopped(reason, sent, { cause: unencodable.error, hint });
    }
    return sent;
  }

  /** Waits (at most `timeoutMs`) for what is still unconfirmed, then closes the channel. */
  async close(timeoutMs: number): Promise<void> {
    const lane = this.lane;
    if (lane === null || !lane.tracked.isOpen) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      lane.tracked.channel.waitForConfirms().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    await lane.tracked.close();
  }
}

/**
 * RabbitMQ returns an unroutable mandatory message before confirming it; the return carries the
 * message, so the earliest unconfirmed message with the same route, id and body is the one.
 */
function markReturned(lane: ConfirmLane, message: Message): void {
  for (const candidate of lane.inFlight) {
    if (
      !candidate.returned &&
      candidate.exchange === message.fields.exchange &&
      candidate.routingKey === message.fields.routingKey &&
      candidate.messageId === message.properties.messageId &&
      candidate.body.equals(message.content)
    ) {
      candidate.returned = true;
      return;
    }
  }
}
