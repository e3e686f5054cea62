import { createHash } from 'node:crypto';
import type { HeaderValue, Headers, OutboundMessage } from '../brokers/types.js';
import { headersToJson } from './headers.js';

/** Changes on every return to a quorum queue (RabbitMQ), so it is no part of a message's identity. */
const DELIVERY_COUNT_HEADER = 'x-delivery-count';

/**
 * The id of an AMQP message that has no `message_id` (DESIGN.md §4): `sha256:` and the first 16
 * hex digits of a SHA-256 over the properties, the headers and the body bytes. What changes while
 * a message waits is left out (redelivered and the delivery count are not properties;
 * `x-delivery-count` and the `time` of each `x-death` entry are dropped), so browsing the same
 * message twice gives the same id. Identical messages share an id: the caller appends `#2`, `#3`…
 * in the order it meets them. 64 bits keep ids short enough to type in `mq dlq show`.
 */
export function contentHashId(
  message: Pick<OutboundMessage, 'body' | 'headers' | 'properties'>,
): string {
  const meta = {
    properties: message.properties ?? {},
    headers: headersToJson(stableHeaders(message.headers ?? {}), 'rabbitmq'),
  };
  const hash = createHash('sha256');
  // JSON text never holds a raw NUL, so the separator cannot be confused with the metadata.
  hash.update(canonicalJson(meta)).update('\u0000').update(message.body);
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

function stableHeaders(headers: Headers): Headers {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([key]) => key !== DELIVERY_COUNT_HEADER)
      .map(([key, value]) => [
        key,
        key === 'x-death' && Array.isArray(value) ? value.map(withoutDeathTime) : value,
      ]),
  );
}

function withoutDeathTime(entry: HeaderValue): HeaderValue {
  if (
    typeof entry !== 'object' ||
    entry === null ||
    Array.isArray(entry) ||
    entry instanceof Uint8Array
  ) {
    return entry;
  }
  return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'time'));
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
