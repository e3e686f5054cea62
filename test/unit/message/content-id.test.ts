import { describe, expect, it } from 'vitest';
import type { Headers, OutboundMessage } from '../../../src/brokers/types.js';
import { contentHashId } from '../../../src/message/content-id.js';
import { ORDER_BODY } from './samples.js';

const deathEntry = (time: number, count = 1) => ({
  count,
  reason: 'rejected',
  queue: 'email_service_queue',
  time: { '!': 'timestamp', value: time },
  exchange: 'order_events',
  'routing-keys': ['order.placed'],
});

function message(headers: Headers = {}, body = ORDER_BODY): OutboundMessage {
  return {
    body: Buffer.from(body),
    headers,
    properties: { contentType: 'application/json', deliveryMode: 2 },
  };
}

describe('contentHashId', () => {
  it('is a short, stable hash', () => {
    const id = contentHashId(message({ 'x-trace': 'abc' }));
    expect(id).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(contentHashId(message({ 'x-trace': 'abc' }))).toBe(id);
  });

  it('changes with the body, the headers and the properties', () => {
    const id = contentHashId(message());
    expect(contentHashId(message({}, `${ORDER_BODY} `))).not.toBe(id);
    expect(contentHashId(message({ 'x-trace': 'abc' }))).not.toBe(id);
    expect(contentHashId({ ...message(), properties: { contentType: 'text/plain' } })).not.toBe(id);
    expect(contentHashId(message({ raw: Buffer.from([1]) }))).not.toBe(
      contentHashId(message({ raw: Buffer.from([2]) })),
    );
  });

  it('ignores what changes while a message waits: delivery count and death times', () => {
    const first = contentHashId(
      message({ 'x-death': [deathEntry(1764236469)], 'x-delivery-count': 1 }),
    );
    expect(
      contentHashId(message({ 'x-death': [deathEntry(1764237725)], 'x-delivery-count': 3 })),
    ).toBe(first);
    expect(contentHashId(message({ 'x-death': [deathEntry(1764236469, 2)] }))).not.toBe(first);
  });

  it('does not depend on the order of header or property keys', () => {
    expect(contentHashId(message({ a: 1, b: { c: 2, d: 3 } }))).toBe(
      contentHashId(message({ b: { d: 3, c: 2 }, a: 1 })),
    );
    const reordered: OutboundMessage = {
      ...message(),
      properties: { deliveryMode: 2, contentType: 'application/json' },
    };
    expect(contentHashId(reordered)).toBe(contentHashId(message()));
  });

  it('gives identical messages the same id (the caller adds #2, #3…)', () => {
    expect(contentHashId(message())).toBe(contentHashId(message()));
  });
});
