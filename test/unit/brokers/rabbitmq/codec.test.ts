import type { Message, MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  ContentIds,
  publishOptions,
  toInbound,
  type ReadContext,
} from '../../../../src/brokers/rabbitmq/codec.js';

const NO_PROPERTIES: MessageProperties = {
  contentType: undefined,
  contentEncoding: undefined,
  headers: undefined,
  deliveryMode: undefined,
  priority: undefined,
  correlationId: undefined,
  replyTo: undefined,
  expiration: undefined,
  messageId: undefined,
  timestamp: undefined,
  type: undefined,
  userId: undefined,
  appId: undefined,
  clusterId: undefined,
};

/** A message as amqplib hands it over: every property key present, unset ones undefined. */
function delivered(body: string, properties: Partial<MessageProperties> = {}): Message {
  return {
    content: Buffer.from(body),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: 'order_events',
      routingKey: 'order.placed',
    },
    properties: { ...NO_PROPERTIES, ...properties },
  };
}

function context(queueType: ReadContext['queueType']): ReadContext {
  return { source: 'email_service_queue', queueType, ids: new ContentIds() };
}

describe('reading RabbitMQ messages', () => {
  it('uses message_id as the id, and the content hash with #n for identical messages without one', () => {
    const read = context('classic');
    const withId = toInbound(delivered('a', { messageId: 'm-1' }), read);
    const first = toInbound(delivered('same'), read);
    const second = toInbound(delivered('same'), read);
    const third = toInbound(delivered('same'), read);
    const other = toInbound(delivered('other'), read);
    expect(withId.id).toBe('m-1');
    expect(first.id).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect([second.id, third.id]).toEqual([`${first.id}#2`, `${first.id}#3`]);
    expect(other.id).not.toBe(first.id);
    // A new read starts counting again: the same message gets the same id.
    expect(toInbound(delivered('same'), context('classic')).id).toBe(first.id);
  });

  it('moves x-delivery-count to deliveryCount on a quorum queue, 0 when RabbitMQ leaves it out', () => {
    const counted = toInbound(
      delivered('x', { headers: { 'x-delivery-count': 2, tenant: 'eu' } }),
      context('quorum'),
    );
    expect(counted.deliveryCount).toBe(2);
    expect(counted.headers).toEqual({ tenant: 'eu' });
    expect(toInbound(delivered('x'), context('quorum')).deliveryCount).toBe(0);
  });

  it('keeps no count on a classic queue, where x-delivery-count is an ordinary header', () => {
    const message = toInbound(
      delivered('x', { headers: { 'x-delivery-count': 2 } }),
      context('classic'),
    );
    expect(message.deliveryCount).toBeNull();
    expect(message.headers).toEqual({ 'x-delivery-count': 2 });
  });

  it('reads a count where the queue type is unknown, and claims none without one', () => {
    const unknown = context(null);
    expect(
      toInbound(delivered('x', { headers: { 'x-delivery-count': 1 } }), unknown).deliveryCount,
    ).toBe(1);
    expect(toInbound(delivered('x'), unknown).deliveryCount).toBeNull();
  });

  it('turns the timestamp property from seconds into milliseconds and keeps only set properties', () => {
    const message = toInbound(
      delivered('x', {
        timestamp: 1_700_000_000,
        contentType: 'application/json',
        deliveryMode: 2,
      }),
      context('classic'),
    );
    expect(message.timestamp).toBe(1_700_000_000_000);
    expect(message.properties).toEqual({
      contentType: 'application/json',
      deliveryMode: 2,
      timestamp: 1_700_000_000_000,
    });
  });

  it('decodes the x-death record', () => {
    const message = toInbound(
      delivered('x', {
        headers: {
          'x-death': [
            {
              count: 1,
              reason: 'rejected',
              queue: 'email_service_queue',
              time: { '!': 'timestamp', value: 1_700_000_000 },
              exchange: 'order_events',
              'routing-keys': ['order.placed'],
            },
          ],
        },
      }),
      context('classic'),
    );
    expect(message.death).toMatchObject({
      reason: 'rejected',
      count: 1,
      queue: 'email_service_queue',
      time: '2023-11-14T22:13:20.000Z',
    });
  });
});

describe('publishing to RabbitMQ', () => {
  it('is mandatory and persistent unless told otherwise, with the timestamp in seconds', () => {
    const options = publishOptions(
      {
        body: Buffer.from('x'),
        properties: { timestamp: 1_700_000_000_999, contentType: 'text/plain' },
      },
      'm-1',
    );
    expect(options).toMatchObject({
      mandatory: true,
      deliveryMode: 2,
      messageId: 'm-1',
      contentType: 'text/plain',
      timestamp: 1_700_000_000,
    });
    expect(
      publishOptions({ body: Buffer.from('x'), properties: { deliveryMode: 1 } }, 'm-2')
        .deliveryMode,
    ).toBe(1);
  });

  it('hands amqplib byte arrays as Buffers at any depth, and typed values as they are', () => {
    const bytes = new Uint8Array([0, 255]);
    const headers = publishOptions(
      {
        body: Buffer.from('x'),
        headers: {
          raw: bytes,
          list: [bytes, 'a'],
          nested: { inner: bytes },
          stamp: { '!': 'timestamp', value: 1_700_000_000 },
        },
      },
      'm-1',
    ).headers as Record<string, unknown>;
    expect(Buffer.isBuffer(headers['raw'])).toBe(true);
    expect(Buffer.isBuffer((headers['list'] as unknown[])[0])).toBe(true);
    expect(Buffer.isBuffer((headers['nested'] as Record<string, unknown>)['inner'])).toBe(true);
    expect(headers['stamp']).toEqual({ '!': 'timestamp', value: 1_700_000_000 });
  });
});
