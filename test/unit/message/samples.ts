import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InboundMessage } from '../../../src/brokers/types.js';
import type { Envelope } from '../../../src/message/envelope.js';
import { decodeEnvelopeLines } from '../../../src/message/ndjson.js';

export const FIXTURES_DIR = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'dlq');

export const ORDER_BODY =
  '{"eventType":"order.placed","orderId":"ord-789","userId":"usr-123",' +
  '"items":[{"productId":"prod-456","quantity":2,"price":49.99}],"totalAmount":99.98}';

/** A message as the RabbitMQ adapter hands it over, read from `email_service_queue`. */
export function amqpMessage(overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    id: 'msg-1',
    source: 'email_service_queue',
    exchange: 'order_events',
    routingKey: 'order.placed',
    partition: null,
    offset: null,
    timestamp: Date.parse('2025-11-27T09:41:07.000Z'),
    redelivered: false,
    deliveryCount: null,
    death: null,
    body: Buffer.from(ORDER_BODY),
    headers: { 'x-trace': 'abc' },
    properties: { contentType: 'application/json', messageId: 'msg-1', deliveryMode: 2 },
    ...overrides,
  };
}

/** A record as the Kafka adapter hands it over, read from `order-events`. */
export function kafkaMessage(overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    id: 'order-events/2/1234',
    source: 'order-events',
    exchange: null,
    routingKey: null,
    partition: 2,
    offset: '1234',
    timestamp: Date.parse('2025-11-27T09:41:07.512Z'),
    redelivered: false,
    deliveryCount: null,
    death: null,
    body: Buffer.from(ORDER_BODY),
    key: Buffer.from('ord-789'),
    headers: { 'event-type': Buffer.from('order.placed') },
    ...overrides,
  };
}

export function readFixtureText(name: string): string {
  return readFileSync(join(FIXTURES_DIR, name), 'utf8');
}

/** The one envelope a `fixtures/dlq/` file holds. */
export function readFixture(name: string): Envelope {
  const [envelope, ...rest] = decodeEnvelopeLines(readFixtureText(name), name);
  if (envelope === undefined || rest.length > 0)
    throw new Error(`${name} must hold exactly one envelope`);
  return envelope;
}

/** Code points a terminal acts on or that reorder text: what `sanitize.ts` escapes. */
function isTerminalControl(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    [0x061c, 0x200e, 0x200f].includes(code) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** The terminal controls left in a text, except the `allowed` ones; [] when it is safe to print. */
export function terminalControls(text: string, allowed: readonly string[] = []): string[] {
  return [...text].filter(
    (character) => !allowed.includes(character) && isTerminalControl(character.codePointAt(0) ?? 0),
  );
}

/** Removes colour sequences (SGR), so that any other escape left behind stands out. */
export function stripColours(text: string): string {
  // eslint-disable-next-line no-control-regex -- ESC starts the sequences being removed
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
