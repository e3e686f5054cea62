import { appendFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../../src/brokers/types.js';
import { journalKey, RedriveJournal } from '../../../src/commands/dlq/journal.js';
import { queuesReached } from '../../../src/commands/dlq/routes.js';
import type { TopologySnapshot } from '../../../src/config/topology-export.js';
import type { DeathRecord } from '../../../src/message/envelope.js';
import { redrivenHeaders } from '../../../src/message/redrive-headers.js';

const death: DeathRecord = {
  reason: 'rejected',
  count: 1,
  queue: 'sms_service_queue',
  exchange: 'order_events',
  routingKeys: ['order.placed', 'audit'],
  time: '2026-11-28T05:00:00.000Z',
  firstTime: '2026-11-28T05:00:00.000Z',
  originalTopic: null,
  originalPartition: null,
  originalOffset: null,
  originalConsumerGroup: null,
  exception: null,
  redriveCount: 0,
};

describe('redriven headers', () => {
  const at = new Date('2026-11-28T06:00:00.000Z');

  it('drops the broker death headers, keeps the rest, and stamps the move', () => {
    const headers = redrivenHeaders(
      {
        'x-death': [{ reason: 'rejected' }],
        'x-first-death-queue': 'sms_service_queue',
        'x-last-death-reason': 'rejected',
        CC: ['audit'],
        BCC: ['hidden'],
        'trace-id': 'abc',
      },
      death,
      { from: 'sms_service_queue.dlq', at },
    );
    expect(headers).toEqual({
      'trace-id': 'abc',
      'mq-death-history': JSON.stringify([death]),
      'mq-redrive-count': 1,
      'mq-redriven-at': '2026-11-28T06:00:00.000Z',
      'mq-redriven-from': 'sms_service_queue.dlq',
      'mq-original-exchange': 'order_events',
      'mq-original-routing-key': 'order.placed',
    });
  });

  it('appends to the history of an earlier redrive and counts on', () => {
    const earlier = { ...death, reason: 'expired' };
    const headers = redrivenHeaders(
      { 'mq-death-history': JSON.stringify([earlier]), 'mq-redrive-count': 1 },
      { ...death, redriveCount: 1 },
      { from: 'q.dlq', at },
    );
    expect(JSON.parse(headers['mq-death-history'] as string)).toEqual([
      earlier,
      { ...death, redriveCount: 1 },
    ]);
    expect(headers['mq-redrive-count']).toBe(2);
  });

  it('keeps a history it cannot read as one entry, and sets no origin it does not know', () => {
    const headers = redrivenHeaders({ 'mq-death-history': 'not json' }, null, {
      from: 'q.dlq',
      at,
    });
    expect(JSON.parse(headers['mq-death-history'] as string)).toEqual(['not json']);
    expect(headers).not.toHaveProperty('mq-original-exchange');
    expect(headers).not.toHaveProperty('mq-original-routing-key');
    expect(headers['mq-redrive-count']).toBe(1);
  });
});

function deadLetter(id: string, redriveCount = 0): InboundMessage {
  return {
    id,
    source: 'q.dlq',
    body: Buffer.from('{}'),
    exchange: '',
    routingKey: 'q',
    partition: null,
    offset: null,
    timestamp: null,
    redelivered: false,
    deliveryCount: null,
    death: { ...death, redriveCount },
  };
}

describe('the redrive journal', () => {
  const broker = 'amqp://guest:***@127.0.0.1:5672/';

  it('keys a message by id, redrive count and death count', () => {
    expect(journalKey(deadLetter('m1'))).toBe('m1 0 1');
    expect(journalKey(deadLetter('m1', 1))).not.toBe(journalKey(deadLetter('m1')));
  });

  it('hands a crashed run over: confirmed ones to remove, intents as possible duplicates', () => {
    const directory = mkdtempSync(join(tmpdir(), 'mq-journal-'));
    const crashed = RedriveJournal.open(directory, broker, 'q.dlq');
    crashed.record('intent', ['a', 'b', 'c', 'd']);
    crashed.sync();
    crashed.record('confirmed', ['a', 'b', 'c']);
    crashed.sync();
    crashed.record('removed', ['a']);
    crashed.close();
    // A crash while writing leaves half a line.
    appendFileSync(crashed.file, '{"type":"remo');

    const other = RedriveJournal.open(directory, broker, 'other.dlq');
    expect(other.takenOver).toBe(0);
    other.finish();
    other.close();

    const rerun = RedriveJournal.open(directory, broker, 'q.dlq');
    expect(rerun.takenOver).toBe(1);
    expect(rerun.leftovers.takeConfirmed('a')).toBe(false);
    expect(rerun.leftovers.takeConfirmed('b')).toBe(true);
    expect(rerun.leftovers.takeConfirmed('b')).toBe(false);
    expect(rerun.leftovers.takeConfirmed('c')).toBe(true);
    expect(rerun.leftovers.takeIntent('d')).toBe(true);
    expect(rerun.leftovers.takeIntent('a')).toBe(false);
    rerun.finish();
    rerun.close();

    expect(readFileSync(crashed.file, 'utf8')).toContain(`"by":"${rerun.run}"`);
    const after = RedriveJournal.open(directory, broker, 'q.dlq');
    expect(after.takenOver).toBe(0);
    after.close();
    expect(readdirSync(directory)).toHaveLength(4);
  });

  it('counts identical copies one by one', () => {
    const directory = mkdtempSync(join(tmpdir(), 'mq-journal-'));
    const crashed = RedriveJournal.open(directory, broker, 'q.dlq');
    crashed.record('intent', ['same', 'same']);
    crashed.record('confirmed', ['same', 'same']);
    crashed.record('removed', ['same']);
    crashed.sync();
    crashed.close();
    const rerun = RedriveJournal.open(directory, broker, 'q.dlq');
    expect(rerun.leftovers.takeConfirmed('same')).toBe(true);
    expect(rerun.leftovers.takeConfirmed('same')).toBe(false);
    rerun.close();
  });
});

describe('queues an exchange route reaches', () => {
  const snapshot: TopologySnapshot = {
    exchanges: [
      {
        name: 'order_events',
        type: 'topic',
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'fan',
        type: 'fanout',
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'direct',
        type: 'direct',
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'hdr',
        type: 'headers',
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: {},
      },
    ],
    queues: ['email', 'sms', 'inventory'].map((name) => ({
      name,
      arguments: {},
      durable: true,
      exclusive: false,
      autoDelete: false,
      policy: {},
    })),
    bindings: [
      {
        exchange: 'order_events',
        destination: 'sms',
        destinationType: 'queue',
        routingKey: 'order.*',
        arguments: {},
      },
      {
        exchange: 'order_events',
        destination: 'email',
        destinationType: 'queue',
        routingKey: 'order.#',
        arguments: {},
      },
      {
        exchange: 'order_events',
        destination: 'inventory',
        destinationType: 'queue',
        routingKey: 'stock.*',
        arguments: {},
      },
      {
        exchange: 'fan',
        destination: 'sms',
        destinationType: 'queue',
        routingKey: '',
        arguments: {},
      },
      {
        exchange: 'direct',
        destination: 'email',
        destinationType: 'queue',
        routingKey: 'a.*',
        arguments: {},
      },
    ],
    topics: [],
  };

  it('follows topic, direct and fanout bindings, and the default exchange', () => {
    expect(queuesReached(snapshot, 'order_events', 'order.placed')).toEqual(['email', 'sms']);
    expect(queuesReached(snapshot, 'fan', 'anything')).toEqual(['sms']);
    expect(queuesReached(snapshot, 'direct', 'a.b')).toEqual([]);
    expect(queuesReached(snapshot, 'direct', 'a.*')).toEqual(['email']);
    expect(queuesReached(snapshot, '', 'inventory')).toEqual(['inventory']);
    expect(queuesReached(snapshot, '', 'missing')).toEqual([]);
  });

  it('cannot tell for a headers exchange or one it does not know', () => {
    expect(queuesReached(snapshot, 'hdr', 'x')).toBeNull();
    expect(queuesReached(snapshot, 'nope', 'x')).toBeNull();
  });
});
