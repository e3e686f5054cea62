/**
 * Checks a parsed JSON value against the envelope format (DESIGN.md §4) and completes it.
 *
 * Required: `v` (1), `id`, `broker`, `body` and `bodyEncoding`. Every other field may be left out
 * and is then null (`headers` {}, `death` null), so a hand-written envelope for
 * `mq publish --from` stays short. Unknown fields are refused: a misspelt `routing_key` must not
 * be ignored silently. Text that UTF-8 cannot carry (lone surrogates from `\ud800` escapes) and
 * base64 that would not re-encode to the same text are refused too, so that every accepted body
 * comes back byte for byte.
 */
import { isCanonicalBase64, isWellFormedText } from './bytes.js';
import { PROPERTY_TYPES } from './envelope-codec.js';
import {
  DEATH_FIELDS,
  ENVELOPE_FIELDS,
  type BrokerKind,
  type DeathRecord,
  type EncodedBytes,
  type Envelope,
  type HeaderJson,
} from './envelope.js';
import { sanitizeLine } from './sanitize.js';
import { didYouMean } from './suggest.js';

/** A JSON path inside one envelope line: property names and array indexes. */
export type JsonPath = (string | number)[];

/** What is wrong, and where: `path` leads to the value, or to the property key when `atKey`. */
export class EnvelopeFieldError extends Error {
  constructor(
    readonly path: JsonPath,
    message: string,
    readonly atKey = false,
  ) {
    super(message);
    this.name = 'EnvelopeFieldError';
  }
}

const REQUIRED_FIELDS = ['v', 'id', 'broker', 'body', 'bodyEncoding'] as const;
const BROKERS: readonly BrokerKind[] = ['local', 'rabbitmq', 'kafka'];
const DECIMAL_OFFSET = /^\d+$/;
const DECIMAL_INTEGER = /^-?\d+$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

type JsonObject = Record<string, unknown>;

export function checkEnvelope(value: unknown): Envelope {
  if (!isObject(value)) {
    throw new EnvelopeFieldError(
      [],
      `expected an envelope object {"v":1,…}, got ${describe(value)}`,
    );
  }
  checkKeys(value, [], ENVELOPE_FIELDS);
  for (const field of REQUIRED_FIELDS) {
    if (!Object.hasOwn(value, field))
      throw new EnvelopeFieldError([], `missing required field "${field}"`);
  }
  if (value['v'] !== 1) {
    throw new EnvelopeFieldError(
      ['v'],
      `unsupported envelope version ${JSON.stringify(value['v'])}: this mq reads version 1`,
    );
  }
  const bodyEncoding = value['bodyEncoding'];
  if (bodyEncoding !== 'utf8' && bodyEncoding !== 'base64') {
    throw new EnvelopeFieldError(
      ['bodyEncoding'],
      `"bodyEncoding" must be "utf8" or "base64", got ${describe(bodyEncoding)}`,
    );
  }
  return {
    v: 1,
    id: nonEmptyString(value, 'id'),
    broker: oneOf(value, 'broker', BROKERS),
    queue: nullableString(value, 'queue'),
    topic: nullableString(value, 'topic'),
    exchange: nullableString(value, 'exchange'),
    routingKey: nullableString(value, 'routingKey'),
    partition: nullableCount(value, 'partition'),
    offset: nullableDecimal(value, 'offset', DECIMAL_OFFSET),
    key: checkKey(value),
    timestamp: nullableTimestamp(value, 'timestamp', []),
    redelivered: nullableBoolean(value, 'redelivered'),
    deliveryCount: nullableCount(value, 'deliveryCount'),
    headers: checkHeaders(value),
    properties: checkProperties(value),
    body: checkBody(value['body'], bodyEncoding),
    bodyEncoding,
    death: checkDeath(value),
  };
}

function checkKeys(object: JsonObject, path: JsonPath, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new EnvelopeFieldError(
        [...path, key],
        `unknown field ${quote(key)}${didYouMean(key, allowed)}`,
        true,
      );
    }
  }
}

function nonEmptyString(object: JsonObject, field: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') {
    throw new EnvelopeFieldError(
      [field],
      `"${field}" must be a non-empty string, got ${describe(value)}`,
    );
  }
  return value;
}

function oneOf<T extends string>(object: JsonObject, field: string, allowed: readonly T[]): T {
  const value = object[field];
  if (!allowed.includes(value as T)) {
    const names = allowed.map((name) => `"${name}"`).join(', ');
    throw new EnvelopeFieldError(
      [field],
      `"${field}" must be one of ${names}, got ${describe(value)}`,
    );
  }
  return value as T;
}

function nullableString(object: JsonObject, field: string, path: JsonPath = []): string | null {
  const value = object[field] ?? null;
  if (value !== null && typeof value !== 'string') {
    throw new EnvelopeFieldError(
      [...path, field],
      `"${field}" must be a string or null, got ${describe(value)}`,
    );
  }
  return value;
}

function nullableBoolean(object: JsonObject, field: string): boolean | null {
  const value = object[field] ?? null;
  if (value !== null && typeof value !== 'boolean') {
    throw new EnvelopeFieldError(
      [field],
      `"${field}" must be true, false or null, got ${describe(value)}`,
    );
  }
  return value;
}

/** A non-negative integer (a partition, a delivery count) or null. */
function nullableCount(object: JsonObject, field: string, path: JsonPath = []): number | null {
  const value = object[field] ?? null;
  if (value !== null && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
    throw new EnvelopeFieldError(
      [...path, field],
      `"${field}" must be a whole number (0 or more) or null, got ${describe(value)}`,
    );
  }
  return value as number | null;
}

function nullableInteger(object: JsonObject, field: string, path: JsonPath): number | null {
  const value = object[field] ?? null;
  if (value !== null && !Number.isSafeInteger(value)) {
    throw new EnvelopeFieldError(
      [...path, field],
      `"${field}" must be a whole number or null, got ${describe(value)}`,
    );
  }
  return value as number | null;
}

/** int64 values travel as decimal strings: JSON numbers lose precision beyond 2^53. */
function nullableDecimal(
  object: JsonObject,
  field: string,
  pattern: RegExp,
  path: JsonPath = [],
): string | null {
  const value = object[field] ?? null;
  if (value !== null && !(typeof value === 'string' && pattern.test(value))) {
    throw new EnvelopeFieldError(
      [...path, field],
      `"${field}" must be a decimal string such as "42" (int64) or null, got ${describe(value)}`,
    );
  }
  return value;
}

function nullableTimestamp(object: JsonObject, field: string, path: JsonPath): string | null {
  const value = nullableString(object, field, path);
  if (value !== null && !(ISO_8601.test(value) && !Number.isNaN(Date.parse(value)))) {
    throw new EnvelopeFieldError(
      [...path, field],
      `"${field}" must be an ISO 8601 time such as "2025-01-31T12:00:00.000Z", got ${describe(value)}`,
    );
  }
  return value;
}

function checkKey(envelope: JsonObject): string | EncodedBytes | null {
  const key = envelope['key'] ?? null;
  if (key === null) return null;
  if (typeof key === 'string') return wellFormed(key, ['key']);
  if (isObject(key) && Object.keys(key).length === 1 && typeof key['base64'] === 'string') {
    return { base64: canonicalBase64(key['base64'], ['key', 'base64']) };
  }
  throw new EnvelopeFieldError(
    ['key'],
    `"key" must be a string, {"base64": "…"} or null, got ${describe(key)}`,
  );
}

function checkHeaders(envelope: JsonObject): Record<string, HeaderJson> {
  const headers = envelope['headers'] ?? {};
  if (!isObject(headers)) {
    throw new EnvelopeFieldError(
      ['headers'],
      `"headers" must be an object, got ${describe(headers)}`,
    );
  }
  for (const [name, value] of Object.entries(headers)) checkHeaderValue(value, ['headers', name]);
  return headers as Record<string, HeaderJson>;
}

function checkHeaderValue(value: unknown, path: JsonPath): void {
  if (typeof value === 'string') {
    wellFormed(value, path);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkHeaderValue(item, [...path, index]));
  } else if (isObject(value)) {
    if (Object.hasOwn(value, '!')) checkTypedHeader(value, path);
    else if (Object.keys(value).length === 1 && typeof value['base64'] === 'string') {
      canonicalBase64(value['base64'], [...path, 'base64']);
    } else {
      for (const [name, item] of Object.entries(value)) checkHeaderValue(item, [...path, name]);
    }
  }
  // Numbers, booleans and null are header values as they are.
}

function checkTypedHeader(value: JsonObject, path: JsonPath): void {
  checkKeys(value, path, ['!', 'value']);
  if (typeof value['!'] !== 'string') {
    throw new EnvelopeFieldError(
      [...path, '!'],
      `a typed header's "!" must name an AMQP type such as "int"`,
    );
  }
  if (!Object.hasOwn(value, 'value')) {
    throw new EnvelopeFieldError(path, `a typed header needs a "value" next to its "!"`);
  }
}

function checkProperties(envelope: JsonObject): Record<string, unknown> | null {
  const properties = envelope['properties'] ?? null;
  if (properties === null) return null;
  if (!isObject(properties)) {
    throw new EnvelopeFieldError(
      ['properties'],
      `"properties" must be an object or null, got ${describe(properties)}`,
    );
  }
  const names = Object.keys(PROPERTY_TYPES);
  checkKeys(properties, ['properties'], names);
  for (const [name, value] of Object.entries(properties)) {
    const expected = PROPERTY_TYPES[name as keyof typeof PROPERTY_TYPES];
    const valid =
      expected === 'string'
        ? typeof value === 'string'
        : Number.isSafeInteger(value) && (value as number) >= 0;
    if (!valid) {
      const wanted = expected === 'string' ? 'a string' : 'a whole number (0 or more)';
      throw new EnvelopeFieldError(
        ['properties', name],
        `"${name}" must be ${wanted}, got ${describe(value)}`,
      );
    }
  }
  return properties;
}

function checkBody(body: unknown, encoding: 'utf8' | 'base64'): string {
  if (typeof body !== 'string') {
    throw new EnvelopeFieldError(['body'], `"body" must be a string, got ${describe(body)}`);
  }
  return encoding === 'utf8' ? wellFormed(body, ['body']) : canonicalBase64(body, ['body']);
}

function checkDeath(envelope: JsonObject): DeathRecord | null {
  const death = envelope['death'] ?? null;
  if (death === null) return null;
  if (!isObject(death)) {
    throw new EnvelopeFieldError(
      ['death'],
      `"death" must be a death record object or null, got ${describe(death)}`,
    );
  }
  const path = ['death'];
  checkKeys(death, path, DEATH_FIELDS);
  const routingKeys = death['routingKeys'] ?? [];
  if (!Array.isArray(routingKeys) || !routingKeys.every((key) => typeof key === 'string')) {
    throw new EnvelopeFieldError(
      [...path, 'routingKeys'],
      `"routingKeys" must be an array of strings`,
    );
  }
  return {
    reason: nullableString(death, 'reason', path),
    count: nullableCount(death, 'count', path),
    queue: nullableString(death, 'queue', path),
    exchange: nullableString(death, 'exchange', path),
    routingKeys,
    time: nullableTimestamp(death, 'time', path),
    firstTime: nullableTimestamp(death, 'firstTime', path),
    originalTopic: nullableString(death, 'originalTopic', path),
    originalPartition: nullableInteger(death, 'originalPartition', path),
    originalOffset: nullableDecimal(death, 'originalOffset', DECIMAL_INTEGER, path),
    originalConsumerGroup: nullableString(death, 'originalConsumerGroup', path),
    exception: nullableString(death, 'exception', path),
    redriveCount: nullableCount(death, 'redriveCount', path) ?? 0,
  };
}

function wellFormed(text: string, path: JsonPath): string {
  if (!isWellFormedText(text)) {
    throw new EnvelopeFieldError(
      path,
      'text holds a lone surrogate (a \\ud800–\\udfff escape without its pair), which UTF-8 cannot carry: use base64',
    );
  }
  return text;
}

function canonicalBase64(text: string, path: JsonPath): string {
  if (!isCanonicalBase64(text)) {
    throw new EnvelopeFieldError(
      path,
      'invalid base64: use the standard alphabet (A–Z a–z 0–9 + /) with "=" padding, no spaces or line breaks',
    );
  }
  return text;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, terminal-safe picture of a wrong value for an error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? quote(value) : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function quote(text: string): string {
  return sanitizeLine(JSON.stringify(text));
}
