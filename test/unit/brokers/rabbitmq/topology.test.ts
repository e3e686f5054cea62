import { describe, expect, it } from 'vitest';
import type { ManagedQueue } from '../../../../src/brokers/rabbitmq/management.js';
import { queueDifferences } from '../../../../src/brokers/rabbitmq/topology.js';
import type { QueueArguments } from '../../../../src/config/topology.js';

function live(overrides: Partial<ManagedQueue> = {}): ManagedQueue {
  return {
    name: 'email_service_queue',
    type: 'quorum',
    durable: true,
    exclusive: false,
    autoDelete: false,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': 2,
      'x-dead-letter-exchange': 'order_events.dlx',
      'x-dead-letter-routing-key': 'email_service_queue.dlq',
    },
    policy: {},
    messagesReady: null,
    messagesUnacknowledged: null,
    consumers: null,
    ...overrides,
  };
}

const declared: QueueArguments = {
  'x-queue-type': 'quorum',
  'x-delivery-limit': 2,
  'x-dead-letter-exchange': 'order_events.dlx',
  'x-dead-letter-routing-key': 'email_service_queue.dlq',
};

describe('comparing a live queue with its declaration', () => {
  it('finds nothing when they agree', () => {
    expect(queueDifferences(live(), declared)).toEqual([]);
  });

  it('names the type from the live queue itself, even when its arguments do not say', () => {
    const classic = live({ type: 'classic', arguments: {} });
    expect(queueDifferences(classic, declared)).toEqual([
      'x-dead-letter-exchange: live none, declared order_events.dlx',
      'x-dead-letter-routing-key: live none, declared email_service_queue.dlq',
      'x-delivery-limit: live none, declared 2',
      'x-queue-type: live classic, declared quorum',
    ]);
    expect(queueDifferences(classic, { 'x-queue-type': 'classic' })).toEqual([]);
  });

  it('names each argument that differs', () => {
    expect(queueDifferences(live(), { ...declared, 'x-delivery-limit': 4 })).toEqual([
      'x-delivery-limit: live 2, declared 4',
    ]);
  });

  it('counts a live argument RabbitMQ compares on redeclare, and ignores one it does not', () => {
    const extra = live({
      arguments: { ...live().arguments, 'x-overflow': 'reject-publish', 'x-max-retries': 5 },
    });
    expect(queueDifferences(extra, declared)).toEqual([
      'x-overflow: live reject-publish, declared none',
    ]);
  });

  it('reports a transient queue, as mq declares every queue durable', () => {
    expect(queueDifferences(live({ durable: false }), declared)).toEqual([
      'durable: live false, declared true',
    ]);
  });
});
