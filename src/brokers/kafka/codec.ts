/**
 * Between kafkajs records and the broker contract's messages (DESIGN.md §4). Kafka headers are
 * bytes; a key sent twice arrives as an array in kafkajs, and stays one here, in order.
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { HeaderValue, Headers, InboundMessage, OutboundMessage } from '../types.js';
import { asBuffer } from '../bytes.js';

/** The id of a record: where it is in the log (DESIGN.md §4). */
export function recordId(topic: string, partition: number, offset: string): string {
  return `${topic}/${partition}/${offset}`;
}

/** A header as kafkajs decodes it: bytes, null for a null value, an array for a repeated key. */
type KafkaHeaderValue = Buffer | string | null | undefined | (Buffer | string | null)[];

function headerFromKafka(value: KafkaHeaderValue): HeaderValue {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map((item) => headerFromKafka(item));
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

export function headersFromKafka(headers: IHeaders | undefined): Headers {
  const entries = Object.entries((headers ?? {}) as Record<string, KafkaHeaderValue>);
  return Object.fromEntries(entries.map(([key, value]) => [key, headerFromKafka(value)]));
}

/**
 * One header value as Kafka bytes. Kafka has only bytes: text stays text, numbers and booleans
 * become their decimal text, AMQP typed values their value, tables JSON text.
 */
function headerBytes(value: HeaderValue): Buffer | string | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!Array.isArray(value) && Object.hasOwn(value, '!')) {
    const typed = (value as { value: unknown }).value;
    return typeof typed === 'string' ? typed : JSON.stringify(typed);
  }
  return JSON.stringify(value);
}

function flatten(values: readonly HeaderValue[]): HeaderValue[] {
  return values.flatMap((value) => (Array.isArray(value) ? flatten(value) : [value]));
}

/** Headers for kafkajs: an array is a repeated key (nested arrays flattened). */
export function headersToKafka(headers: Headers | undefined): IHeaders {
  const out: Record<string, Buffer | string | null | (Buffer | string | null)[]> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    out[key] = Array.isArray(value)
      ? flatten(value).map((v) => headerBytes(v))
      : headerBytes(value);
  }
  // kafkajs writes a null header value as Kafka's null (length -1); its type omits null.
  return out as IHeaders;
}

/** The record kafkajs sends; the timestamp is the publisher's, when it set one. */
export function toKafkaMessage(
  message: OutboundMessage,
  partition: number,
  headers: IHeaders = headersToKafka(message.headers),
): Message {
  const timestamp = message.properties?.timestamp;
  // Only the fields there is something in: kafkajs copies each record's fields several times on
  // its way to the wire, and its defaults (no key, no headers) are what an absent field means.
  const record: Message = { value: asBuffer(message.body), partition };
  if (message.key !== undefined) record.key = asBuffer(message.key);
  if (hasAny(headers)) record.headers = headers;
  if (timestamp !== undefined) record.timestamp = String(timestamp);
  return record;
}

/** Whether a header table has a key, without listing them: once per record of a publish. */
function hasAny(headers: IHeaders): boolean {
  for (const key in headers) if (Object.hasOwn(headers, key)) return true;
  return false;
}

/**
 * A record as read. A tombstone (null value) reads as an empty body. Kafka keeps no delivery
 * state: never redelivered, no count; a death record comes from the headers (Spring, Connect).
 */
export function toInbound(topic: string, partition: number, record: KafkaMessage): InboundMessage {
  const timestamp = Number(record.timestamp);
  const message: InboundMessage = {
    id: recordId(topic, partition, record.offset),
    source: topic,
    body: record.value ?? Buffer.alloc(0),
    headers: headersFromKafka(record.headers),
    exchange: null,
    routingKey: null,
    partition,
    offset: record.offset,
    timestamp: Number.isFinite(timestamp) && timestamp >= 0 ? timestamp : null,
    redelivered: false,
    deliveryCount: null,
    death: null,
  };
  if (record.key !== null && record.key !== undefined) message.key = record.key;
  return message;
}
