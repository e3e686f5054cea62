/**
 * Death records (DESIGN.md §7), decoded from whichever headers the broker or framework wrote:
 * RabbitMQ's `x-death` family, Spring Kafka's `kafka_dlt-*`, Kafka Connect's `__connect.errors.*`,
 * plus mq's own `mq-redrive-count`.
 *
 * Header values arrive in driver form (`HeaderValue`): amqplib's decoded values on AMQP, bytes or
 * strings on Kafka (strings when the envelope showed them as text), arrays for repeated keys.
 */
import type { HeaderValue, Headers } from '../brokers/types.js';
import { decodeUtf8 } from './bytes.js';
import type { DeathRecord } from './envelope.js';
import { isTypedHeader } from './headers.js';
import { isoFromMilliseconds } from './time.js';

/** How many times mq has redriven the message; written by `mq dlq redrive`. */
export const REDRIVE_COUNT_HEADER = 'mq-redrive-count';

const SPRING_PREFIX = 'kafka_dlt-';
const CONNECT_PREFIX = '__connect.errors.';

/**
 * The death record the headers describe, or null when nothing in them says the message died.
 * RabbitMQ is tried first, then Spring Kafka, then Kafka Connect; `redriveCount` is 0 when
 * `mq-redrive-count` is absent or unreadable.
 */
export function decodeDeath(headers: Headers): DeathRecord | null {
  const base = emptyDeathRecord(toCount(own(headers, REDRIVE_COUNT_HEADER)) ?? 0);
  return rabbitMqDeath(headers, base) ?? springDeath(headers, base) ?? connectDeath(headers, base);
}

function emptyDeathRecord(redriveCount: number): DeathRecord {
  return {
    reason: null,
    count: null,
    queue: null,
    exchange: null,
    routingKeys: [],
    time: null,
    firstTime: null,
    originalTopic: null,
    originalPartition: null,
    originalOffset: null,
    originalConsumerGroup: null,
    exception: null,
    redriveCount,
  };
}

/**
 * RabbitMQ: `x-death` is an array of tables, one per (queue, reason), most recently dead-lettered
 * first; each has `count`, `reason`, `queue`, `time`, `exchange` and `routing-keys`. An entry's
 * `time` is when the message first died in that queue for that reason (RabbitMQ only increments
 * `count` afterwards), so `time` is the newest entry's time and `firstTime` the earliest of all.
 * amqplib decodes `time` as `{ '!': 'timestamp', value: <seconds> }` (0.10 and 2.x alike); a plain
 * number of seconds is accepted too (milliseconds when too large to be seconds). The
 * `x-last-death-*` and `x-first-death-*` headers RabbitMQ sets beside it fill in when `x-death` is
 * missing or unreadable.
 */
function rabbitMqDeath(headers: Headers, base: DeathRecord): DeathRecord | null {
  const entries = asArray(own(headers, 'x-death')).filter(isTable);
  const newest = entries[0];
  const last = (field: string) =>
    toText(own(headers, `x-last-death-${field}`)) ?? toText(own(headers, `x-first-death-${field}`));
  const reason = toText(newest?.['reason']) ?? last('reason');
  if (newest === undefined && reason === null) return null;
  const times = entries.map((entry) => toIsoTime(entry['time'])).filter((t) => t !== null);
  return {
    ...base,
    reason,
    count: toCount(newest?.['count']),
    queue: toText(newest?.['queue']) ?? last('queue'),
    exchange: toText(newest?.['exchange']) ?? last('exchange'),
    routingKeys: asArray(newest?.['routing-keys'])
      .map(toText)
      .filter((key) => key !== null),
    time: newest === undefined ? null : toIsoTime(newest['time']),
    firstTime: times.length === 0 ? null : times.reduce((a, b) => (b < a ? b : a)),
  };
}

/**
 * Spring Kafka's DeadLetterPublishingRecoverer: text headers, except the original partition (a
 * big-endian int32) and offset (a big-endian int64). When a record is dead-lettered again the
 * headers repeat and the first is the origin. Spring records no reason, count or death time (the
 * DLT record's own timestamp is when it was written). `kafka_dlt-original-timestamp` is the
 * original record's timestamp, which the death record has no field for.
 */
function springDeath(headers: Headers, base: DeathRecord): DeathRecord | null {
  if (!Object.keys(headers).some((key) => key.startsWith(SPRING_PREFIX))) return null;
  const header = (name: string) => firstOf(own(headers, `${SPRING_PREFIX}${name}`));
  return {
    ...base,
    originalTopic: toText(header('original-topic')),
    originalPartition: toInt32(header('original-partition')),
    originalOffset: toInt64(header('original-offset')),
    originalConsumerGroup: toText(header('original-consumer-group')),
    exception: describeException(
      toText(header('exception-fqcn')),
      toText(header('exception-message')),
    ),
  };
}

/**
 * Kafka Connect's dead letter queue reporter (with `errors.deadletterqueue.context.headers.enable`):
 * every value is text, numbers as decimal strings. The stage that failed (`VALUE_CONVERTER`,
 * `TRANSFORMATION`, `TASK_PUT`…) is the reason. A sink connector's consumer group is
 * `connect-<connector name>` unless the worker overrides it.
 */
function connectDeath(headers: Headers, base: DeathRecord): DeathRecord | null {
  if (!Object.keys(headers).some((key) => key.startsWith(CONNECT_PREFIX))) return null;
  const header = (name: string) => firstOf(own(headers, `${CONNECT_PREFIX}${name}`));
  const connector = toText(header('connector.name'));
  return {
    ...base,
    reason: toText(header('stage')),
    originalTopic: toText(header('topic')),
    originalPartition: toInteger(header('partition')),
    originalOffset: toDecimalString(header('offset')),
    originalConsumerGroup: connector === null ? null : `connect-${connector}`,
    exception: describeException(
      toText(header('exception.class.name')),
      toText(header('exception.message')),
    ),
  };
}

function describeException(className: string | null, message: string | null): string | null {
  if (className !== null && message !== null) return `${className}: ${message}`;
  return className ?? message;
}

/** An own property only: a header named `constructor` must not find Object's. */
function own(headers: Headers, name: string): HeaderValue | undefined {
  return Object.hasOwn(headers, name) ? headers[name] : undefined;
}

type Table = { [key: string]: HeaderValue };

function isTable(value: HeaderValue): value is Table {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    !isTypedHeader(value)
  );
}

function asArray(value: HeaderValue | undefined): HeaderValue[] {
  return Array.isArray(value) ? value : [];
}

/** Kafka repeats a header key by giving an array; the first value is the origin. */
function firstOf(value: HeaderValue | undefined): HeaderValue | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function toText(value: HeaderValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return decodeUtf8(value);
  return null;
}

function toBytes(value: HeaderValue | undefined): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return null;
}

const DECIMAL = /^-?\d+$/;

/** A number, a typed number, or decimal text (as a string or as bytes). */
function toInteger(value: HeaderValue | undefined): number | null {
  const plain = isTypedHeader(value) ? value.value : value;
  if (typeof plain === 'number') return Number.isSafeInteger(plain) ? plain : null;
  if (typeof plain !== 'string' && !(plain instanceof Uint8Array)) return null;
  const text = toText(plain)?.trim();
  if (text === undefined || !DECIMAL.test(text)) return null;
  const parsed = Number(text);
  return Number.isSafeInteger(parsed) ? parsed : null;
}

/** A count cannot be negative: a negative value is as unreadable as a word. */
function toCount(value: HeaderValue | undefined): number | null {
  const count = toInteger(value);
  return count !== null && count >= 0 ? count : null;
}

function toDecimalString(value: HeaderValue | undefined): string | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : null;
  const text = toText(value)?.trim();
  return text !== undefined && DECIMAL.test(text) ? BigInt(text).toString() : null;
}

/** Four bytes are a big-endian int32 (Spring); anything else is read as decimal text. */
function toInt32(value: HeaderValue | undefined): number | null {
  const bytes = toBytes(value);
  if (bytes?.length === 4) return Buffer.from(bytes).readInt32BE(0);
  return toInteger(value);
}

/** Eight bytes are a big-endian int64 (Spring), as a decimal string; else decimal text. */
function toInt64(value: HeaderValue | undefined): string | null {
  const bytes = toBytes(value);
  if (bytes?.length === 8) return Buffer.from(bytes).readBigInt64BE(0).toString();
  return toDecimalString(value);
}

/** AMQP timestamps count seconds; a value this large can only be milliseconds. */
const MILLISECONDS_THRESHOLD = 1e12;

/** A typed or plain AMQP timestamp, or an ISO 8601 string, as ISO 8601; null when unreadable. */
function toIsoTime(value: HeaderValue | undefined): string | null {
  const plain = isTypedHeader(value) ? value.value : value;
  let ms: number;
  if (typeof plain === 'number') ms = plain >= MILLISECONDS_THRESHOLD ? plain : plain * 1000;
  else if (typeof plain === 'string') ms = Date.parse(plain);
  else return null;
  return isoFromMilliseconds(ms);
}
