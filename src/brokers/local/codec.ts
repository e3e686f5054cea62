/**
 * Headers and properties as the database stores them. Headers must come back exactly as published
 * (bytes stay bytes, amqplib's typed `{ '!': type, value }` values stay typed), so every value is
 * tagged: unlike the envelope's `{ base64 }` notation, a user's own table can never be mistaken
 * for bytes.
 */
import { MqError } from '../../errors.js';
import { isTypedHeader } from '../../message/headers.js';
import type { HeaderValue, Headers, MessageProperties } from '../types.js';

/** A plain JSON value stands for itself; anything JSON cannot say is an object with one tag. */
type StoredValue =
  | null
  | boolean
  | string
  | number
  | { bytes: string }
  | { list: StoredValue[] }
  | { typed: string; value: StoredValue }
  | { table: Record<string, StoredValue> }
  | { number: string }
  | { bigint: string }
  | { undefined: true };

export function encodeHeaders(headers: Headers | undefined): string {
  return JSON.stringify(encodeTable(headers ?? {}));
}

export function decodeHeaders(text: string): Headers {
  return decodeTable(JSON.parse(text) as Record<string, StoredValue>) as Headers;
}

/** Object.fromEntries keeps a header named `__proto__` a header rather than a prototype. */
function encodeTable(table: object): Record<string, StoredValue> {
  return Object.fromEntries(Object.entries(table).map(([key, value]) => [key, encodeValue(value)]));
}

function decodeTable(table: Record<string, StoredValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(table).map(([key, value]) => [key, decodeValue(value)]));
}

function encodeValue(value: unknown): StoredValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    // JSON has no NaN or infinities and writes -0 as 0.
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    return { number: Object.is(value, -0) ? '-0' : String(value) };
  }
  if (typeof value === 'bigint') return { bigint: value.toString() };
  if (value === undefined) return { undefined: true };
  if (value instanceof Uint8Array) {
    return {
      bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    };
  }
  if (Array.isArray(value)) return { list: value.map(encodeValue) };
  if (isTypedHeader(value)) return { typed: value['!'], value: encodeValue(value.value) };
  if (typeof value === 'object') return { table: encodeTable(value) };
  throw new MqError(`a header value of type ${typeof value} cannot be stored`);
}

function decodeValue(value: StoredValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('bytes' in value) return Buffer.from(value.bytes, 'base64');
  if ('list' in value) return value.list.map(decodeValue);
  if ('typed' in value) return { '!': value.typed, value: decodeValue(value.value) };
  if ('table' in value) return decodeTable(value.table);
  if ('number' in value) return Number(value.number);
  if ('bigint' in value) return BigInt(value.bigint);
  return undefined;
}

/** Only the properties that were set, so that a message reads back with the same keys. */
export function encodeProperties(properties: MessageProperties | undefined): string {
  return JSON.stringify(properties ?? {});
}

export function decodeProperties(text: string): MessageProperties {
  return JSON.parse(text) as MessageProperties;
}

/** A header value as a count (`mq-redrive-count`): a number, a typed number or decimal text. */
export function headerCount(value: HeaderValue | undefined): number | null {
  const plain = isTypedHeader(value) ? value.value : value;
  const count =
    typeof plain === 'number'
      ? plain
      : typeof plain === 'string' && /^\d+$/.test(plain.trim())
        ? Number(plain)
        : Number.NaN;
  return Number.isSafeInteger(count) && count >= 0 ? count : null;
}
