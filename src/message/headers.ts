/**
 * Header values between the driver and the envelope (DESIGN.md §4).
 *
 * AMQP (RabbitMQ and the local broker): values are kept as amqplib decodes them. What amqplib
 * (0.10 and 2.x, `lib/codec.js`) normalises, and what therefore cannot round-trip:
 * - integers of every width (`b`, `B`, `s`, `u`, `I`, `i`, `l`) decode to plain JS numbers, and a
 *   plain number is re-encoded with the narrowest signed width that holds it (byte, short, int,
 *   long); int64 values beyond 2^53 lose precision;
 * - `float` and `double` both decode to JS numbers, re-encoded as double when fractional (a
 *   whole-valued double comes back as an integer);
 * - `longstr` decodes to a string as UTF-8, so invalid UTF-8 in a string header is already
 *   replaced when mq sees it; byte arrays (`x`) stay bytes and become `{ "base64": … }`;
 * - timestamps and decimals stay typed: `{ "!": "timestamp", "value": <seconds> }`,
 *   `{ "!": "decimal", "value": { "places", "digits" } }`. Typed values written by a user
 *   (`{ "!": "int", "value": 5 }`) are kept as they are, so amqplib encodes that exact type.
 *
 * Kafka: every value is bytes; arrays stand for repeated keys. A value is a string when it is
 * readable UTF-8 text, else `{ "base64": … }` (see `bytesToJson`).
 *
 * Known ambiguity, inherited from amqplib's notation: a nested table whose only key is `base64`
 * with a string value reads back as bytes, and a table with a `!` key is a typed value.
 */
import type { HeaderValue, Headers } from '../brokers/types.js';
import { bytesFromJson, bytesToJson } from './bytes.js';
import type { BrokerKind, EncodedBytes, HeaderJson, TypedHeader } from './envelope.js';

export function isEncodedBytes(value: unknown): value is EncodedBytes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === 'base64' && typeof (value as EncodedBytes).base64 === 'string'
  );
}

/** amqplib's own test: an object with an own `!` property (`encodeFieldValue`). */
export function isTypedHeader(value: unknown): value is TypedHeader {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.hasOwn(value, '!')
  );
}

/** One driver header value as JSON. Bytes are text on Kafka when readable, base64 otherwise. */
export function headerToJson(value: HeaderValue, broker: BrokerKind): HeaderJson {
  if (value instanceof Uint8Array) {
    return broker === 'kafka'
      ? bytesToJson(value)
      : { base64: Buffer.from(value).toString('base64') };
  }
  if (Array.isArray(value)) return value.map((item) => headerToJson(item, broker));
  if (isTypedHeader(value)) return { '!': value['!'], value: value.value };
  if (typeof value === 'object' && value !== null) return headersToJson(value, broker);
  return value;
}

export function headersToJson(headers: Headers, broker: BrokerKind): Record<string, HeaderJson> {
  return mapEntries(headers, (value) => headerToJson(value, broker));
}

/**
 * One JSON header value as the driver takes it: `{ base64 }` becomes a Buffer (amqplib encodes
 * only Buffers as byte arrays; kafkajs takes Buffers and strings).
 */
export function headerFromJson(value: HeaderJson): HeaderValue {
  if (isEncodedBytes(value)) return bytesFromJson(value);
  if (Array.isArray(value)) return value.map(headerFromJson);
  if (isTypedHeader(value)) return { '!': value['!'], value: value.value };
  if (typeof value === 'object' && value !== null) return headersFromJson(value);
  return value;
}

export function headersFromJson(headers: Record<string, HeaderJson>): Headers {
  return mapEntries(headers, headerFromJson);
}

/**
 * Object.fromEntries defines own properties, so a header named `__proto__` stays a header instead
 * of replacing the object's prototype (as `table[key] = value` would).
 */
function mapEntries<A, B>(record: Record<string, A>, map: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
