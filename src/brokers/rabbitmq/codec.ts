/**
 * Messages between the contract and amqplib. amqplib's field-table codec decides what headers
 * look like (message/headers.ts has the list); two things it needs from us: byte arrays as Buffers
 * (it encodes any other object, a plain Uint8Array included, as a nested table), and timestamps in
 * seconds, where the contract counts milliseconds.
 */
import type { Message, Options } from 'amqplib';
import { contentHashId } from '../../message/content-id.js';
import { decodeDeath } from '../../message/death.js';
import { isTypedHeader } from '../../message/headers.js';
import type {
  HeaderValue,
  Headers,
  InboundMessage,
  MessageProperties,
  OutboundMessage,
} from '../types.js';
import type { QueueType } from './management.js';
import { asBuffer } from '../bytes.js';

/** Set by quorum queues on every return; the envelope carries it as `deliveryCount`. */
const DELIVERY_COUNT_HEADER = 'x-delivery-count';

const MS_PER_SECOND = 1000;

/** A header value as amqplib encodes what it means: bytes as a Buffer, at any depth. */
function toFieldValue(value: HeaderValue): unknown {
  if (value instanceof Uint8Array) return asBuffer(value);
  if (Array.isArray(value)) return value.map(toFieldValue);
  if (value === null || typeof value !== 'object' || isTypedHeader(value)) return value;
  return toFieldTable(value);
}

/** Object.fromEntries keeps a header named `__proto__` a header. */
/** A header table as amqplib encodes it; undefined for a message without headers. */
export type AmqpHeaders = Record<string, unknown> | undefined;

export function toFieldTable(headers: Headers | undefined): AmqpHeaders {
  if (headers === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key, toFieldValue(value)]),
  );
}

/** amqplib's publish options for a message: mandatory always, persistent unless told otherwise. */
export function publishOptions(
  message: OutboundMessage,
  messageId: string,
  headers: AmqpHeaders = toFieldTable(message.headers),
): Options.Publish {
  const properties = message.properties ?? {};
  return {
    mandatory: true,
    deliveryMode: properties.deliveryMode ?? 2,
    messageId,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    correlationId: properties.correlationId,
    replyTo: properties.replyTo,
    expiration: properties.expiration,
    type: properties.type,
    appId: properties.appId,
    userId: properties.userId,
    priority: properties.priority,
    timestamp:
      properties.timestamp === undefined
        ? undefined
        : Math.floor(properties.timestamp / MS_PER_SECOND),
    headers,
  };
}

/** The basic properties that were set, timestamp in milliseconds. */
function readProperties(message: Message): MessageProperties {
  const p = message.properties;
  const properties: MessageProperties = {
    contentType: p.contentType as string | undefined,
    contentEncoding: p.contentEncoding as string | undefined,
    messageId: p.messageId as string | undefined,
    correlationId: p.correlationId as string | undefined,
    replyTo: p.replyTo as string | undefined,
    expiration: p.expiration as string | undefined,
    type: p.type as string | undefined,
    appId: p.appId as string | undefined,
    userId: p.userId as string | undefined,
    priority: p.priority as number | undefined,
    deliveryMode: p.deliveryMode as number | undefined,
    timestamp: typeof p.timestamp === 'number' ? p.timestamp * MS_PER_SECOND : undefined,
  };
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
}

/**
 * Ids for messages without a `message_id` (DESIGN.md §4): the content hash, with `#2`, `#3`…
 * for identical messages met again within one read (one peek, consumer or tail).
 */
export class ContentIds {
  private readonly seen = new Map<string, number>();

  next(hash: string): string {
    const count = (this.seen.get(hash) ?? 0) + 1;
    this.seen.set(hash, count);
    return count === 1 ? hash : `${hash}#${count}`;
  }
}

export interface ReadContext {
  /** The queue the message is reported from (for a tail: the tailed queue, not the tap). */
  source: string;
  /** The type of that queue; null when neither the management API nor the project file says. */
  queueType: QueueType | null;
  ids: ContentIds;
}

/**
 * A delivered or fetched message in contract terms. On a quorum queue (or one of unknown type)
 * `x-delivery-count` moves from the headers to `deliveryCount`, where RabbitMQ omits it on a first
 * delivery through basic.consume (3.x), so missing means 0 on a known quorum queue. Classic and
 * stream queues keep no count: null, and a client's own `x-delivery-count` header stays a header.
 */
export function toInbound(message: Message, context: ReadContext): InboundMessage {
  const received = (message.properties.headers ?? {}) as Headers;
  const countsDeliveries = context.queueType === 'quorum' || context.queueType === null;
  const headers = countsDeliveries
    ? Object.fromEntries(Object.entries(received).filter(([key]) => key !== DELIVERY_COUNT_HEADER))
    : received;
  const counted = received[DELIVERY_COUNT_HEADER];
  const deliveryCount = !countsDeliveries
    ? null
    : typeof counted === 'number'
      ? counted
      : context.queueType === 'quorum'
        ? 0
        : null;
  const properties = readProperties(message);
  return {
    id:
      properties.messageId ??
      context.ids.next(contentHashId({ body: message.content, headers, properties })),
    source: context.source,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    partition: null,
    offset: null,
    timestamp: properties.timestamp ?? null,
    redelivered: message.fields.redelivered,
    deliveryCount,
    death: decodeDeath(headers),
    body: message.content,
    headers,
    properties,
  };
}
