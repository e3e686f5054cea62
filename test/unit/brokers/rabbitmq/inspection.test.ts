import { describe, expect, it } from 'vitest';
import {
  deadLetterQueueOf,
  globToManagementRegex,
  queueSettings,
} from '../../../../src/brokers/rabbitmq/inspection.js';
import type {
  ManagedBinding,
  ManagedExchange,
  ManagedQueue,
} from '../../../../src/brokers/rabbitmq/management.js';
import { parseServerVersion } from '../../../../src/brokers/rabbitmq/version.js';

const V3 = parseServerVersion('3.10.8');
const V4 = parseServerVersion('4.1.0');

function queue(overrides: Partial<ManagedQueue> = {}): ManagedQueue {
  return {
    name: 'q',
    type: 'quorum',
    durable: true,
    exclusive: false,
    autoDelete: false,
    arguments: {},
    policy: {},
    messagesReady: null,
    messagesUnacknowledged: null,
    consumers: null,
    ...overrides,
  };
}

function binding(source: string, destination: string, routingKey: string): ManagedBinding {
  return { source, destination, destinationType: 'queue', routingKey, arguments: {} };
}

describe('a queue settings from its arguments and policy', () => {
  it('reads x-delivery-limit as maxDeliveries = limit + 1', () => {
    const settings = queueSettings(queue({ arguments: { 'x-delivery-limit': 2 } }), V3);
    expect(settings.maxDeliveries).toBe(3);
  });

  it('takes the lower of argument and policy limits, and the argument for names', () => {
    const settings = queueSettings(
      queue({
        arguments: { 'x-delivery-limit': 5, 'x-dead-letter-exchange': 'by-argument' },
        policy: {
          'delivery-limit': 2,
          'dead-letter-exchange': 'by-policy',
          'dead-letter-routing-key': 'q.dlq',
          'message-ttl': 60_000,
        },
      }),
      V3,
    );
    expect(settings).toEqual({
      deadLetterExchange: 'by-argument',
      deadLetterRoutingKey: 'q.dlq',
      maxDeliveries: 3,
      messageTtlMs: 60_000,
    });
  });

  it('counts deliveries only on quorum queues, with RabbitMQ 4 default of 20', () => {
    expect(
      queueSettings(queue({ type: 'classic', arguments: { 'x-delivery-limit': 2 } }), V3)
        .maxDeliveries,
    ).toBeNull();
    expect(queueSettings(queue(), V3).maxDeliveries).toBeNull();
    expect(queueSettings(queue(), V4).maxDeliveries).toBe(21);
    expect(
      queueSettings(queue({ arguments: { 'x-delivery-limit': -1 } }), V4).maxDeliveries,
    ).toBeNull();
  });
});

describe('the dead-letter queue of a queue', () => {
  const exchanges: ManagedExchange[] = [
    {
      name: 'orders.dlx',
      type: 'direct',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: {},
    },
    {
      name: 'all.dlx',
      type: 'fanout',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: {},
    },
    {
      name: 'topic.dlx',
      type: 'topic',
      durable: true,
      autoDelete: false,
      internal: false,
      arguments: {},
    },
  ];
  const settings = (exchange: string | null, key: string | null) => ({
    deadLetterExchange: exchange,
    deadLetterRoutingKey: key,
    maxDeliveries: null,
    messageTtlMs: null,
  });

  it('is the one queue the exchange routes the dead-letter routing key to', () => {
    const bindings = [
      binding('orders.dlx', 'q.dlq', 'q.dlq'),
      binding('orders.dlx', 'other.dlq', 'other.dlq'),
    ];
    expect(deadLetterQueueOf(settings('orders.dlx', 'q.dlq'), exchanges, bindings)).toBe('q.dlq');
    expect(
      deadLetterQueueOf(settings('topic.dlx', 'q.dead'), exchanges, [
        binding('topic.dlx', 'dead', '*.dead'),
      ]),
    ).toBe('dead');
  });

  it('is the one queue bound to a fanout dead-letter exchange, with or without a key', () => {
    const fanout = [binding('all.dlx', 'q.dlq', '')];
    expect(deadLetterQueueOf(settings('all.dlx', null), exchanges, fanout)).toBe('q.dlq');
    expect(deadLetterQueueOf(settings('all.dlx', 'k'), exchanges, fanout)).toBe('q.dlq');
  });

  it('is unknown when the exchange routes to several queues or follows each message key', () => {
    const fanout = [binding('all.dlx', 'a', ''), binding('all.dlx', 'b', '')];
    expect(deadLetterQueueOf(settings('all.dlx', 'k'), exchanges, fanout)).toBeNull();
    expect(deadLetterQueueOf(settings('orders.dlx', null), exchanges, [])).toBeNull();
    expect(deadLetterQueueOf(settings('missing.dlx', 'k'), exchanges, [])).toBeNull();
  });

  it('is the queue named by the key when the dead-letter exchange is the default one', () => {
    expect(
      deadLetterQueueOf(settings('', 'q.dlq'), exchanges, [binding('', 'q.dlq', 'q.dlq')]),
    ).toBe('q.dlq');
    expect(deadLetterQueueOf(settings('', 'gone'), exchanges, [])).toBeNull();
  });
});

describe('mq ls patterns for the management API', () => {
  it('anchors the glob and escapes the rest', () => {
    expect(globToManagementRegex('orders.*')).toBe('^orders\\..*$');
    expect(globToManagementRegex('q?')).toBe('^q.$');
  });
});
