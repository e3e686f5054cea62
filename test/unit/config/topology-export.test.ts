import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectFile, type ProjectFile } from '../../../src/config/project-file.js';
import {
  exportTopology,
  retentionText,
  type LiveBinding,
  type LiveExchange,
  type LiveQueue,
  type TopologySnapshot,
} from '../../../src/config/topology-export.js';
import { desiredTopology, retentionToMs, type Topology } from '../../../src/config/topology.js';

const exchange = (
  name: string,
  type = 'topic',
  more: Partial<LiveExchange> = {},
): LiveExchange => ({
  name,
  type,
  durable: true,
  autoDelete: false,
  internal: false,
  arguments: {},
  ...more,
});

const queue = (
  name: string,
  args: Record<string, unknown> = {},
  more: Partial<LiveQueue> = {},
) => ({
  name,
  arguments: args,
  durable: true,
  exclusive: false,
  autoDelete: false,
  policy: {},
  ...more,
});

const binding = (exchange: string, destination: string, routingKey: string): LiveBinding => ({
  exchange,
  destination,
  destinationType: 'queue',
  routingKey,
  arguments: {},
});

/** What a broker holds after applying `topology`, as export reads it back (RabbitMQ's built-ins included). */
function applied(topology: Topology): TopologySnapshot {
  return {
    exchanges: [
      exchange('', 'direct'),
      exchange('amq.topic'),
      ...topology.exchanges.map((e) => exchange(e.name, e.type, { durable: e.durable })),
    ],
    queues: topology.queues.map((q) => queue(q.name, { ...q.arguments })),
    bindings: [
      ...topology.queues.map((q) => binding('', q.name, q.name)),
      ...topology.bindings.map((b) => binding(b.exchange, b.queue, b.routingKey)),
    ],
    topics: topology.topics,
  };
}

const project = (declared: Partial<ProjectFile>): ProjectFile => ({
  path: '/tmp/mq.config.json',
  exchanges: [],
  queues: [],
  topics: [],
  events: {},
  ...declared,
});

/** The exported file read back as a project file. */
const reloaded = (snapshot: TopologySnapshot) =>
  project({ ...exportTopology(snapshot).project, events: {} });

const REPOSITORY_PROJECT = project({
  exchanges: [{ name: 'order_events', type: 'topic' }],
  queues: ['email', 'sms'].map((service) => ({
    name: `${service}_service_queue`,
    type: 'quorum' as const,
    bindings: [{ exchange: 'order_events', pattern: 'order.*' }],
    maxDeliveries: 3,
    deadLetterQueue: `${service}_service_queue.dlq`,
  })),
  topics: [
    { name: 'order-events', partitions: 3, retention: '7d', deadLetterTopic: 'order-events-dlt' },
  ],
});

describe('exportTopology', () => {
  it('gives back the project file a topology came from, dead-letter wiring folded in', () => {
    const { project: exported, warnings } = exportTopology(
      applied(desiredTopology(REPOSITORY_PROJECT)),
    );
    expect(warnings).toEqual([]);
    expect(exported).toEqual({
      exchanges: REPOSITORY_PROJECT.exchanges,
      queues: REPOSITORY_PROJECT.queues,
      topics: REPOSITORY_PROJECT.topics,
      events: {},
    });
  });

  it('round-trips: the exported file declares exactly what is live', () => {
    const declared = project({
      exchanges: [
        { name: 'billing', type: 'direct', durable: false },
        { name: 'audit', type: 'fanout' },
      ],
      queues: [
        {
          name: 'invoices',
          bindings: [
            { exchange: 'audit' },
            { exchange: 'billing', pattern: 'invoice' },
            { exchange: 'amq.topic', pattern: 'invoice.#' },
          ],
          messageTtl: 60_000,
          deadLetterQueue: 'invoices.dlq',
        },
        // Unbound: its dead-letter exchange is named after the queue itself.
        { name: 'lonely', type: 'quorum', maxDeliveries: 1, deadLetterQueue: 'lonely.dlq' },
        // A DLQ with settings of its own is declared, not derived.
        { name: 'invoices.dlq', messageTtl: 86_400_000, deadLetterQueue: 'invoices.parked' },
      ],
      topics: [
        { name: 'payments', partitions: 6, deadLetterTopic: 'payments.DLT' },
        { name: 'payments.DLT', partitions: 1, retention: '1500ms' },
      ],
    });
    const live = desiredTopology(declared);
    const snapshot = applied(live);
    const again = desiredTopology(reloaded(snapshot));
    expect(exportTopology(snapshot).warnings).toEqual([]);
    const sorted = (t: Topology) => ({
      exchanges: [...t.exchanges].sort((a, b) => a.name.localeCompare(b.name)),
      queues: [...t.queues].sort((a, b) => a.name.localeCompare(b.name)),
      bindings: [...t.bindings].sort((a, b) =>
        `${a.exchange}${a.queue}${a.routingKey}`.localeCompare(
          `${b.exchange}${b.queue}${b.routingKey}`,
        ),
      ),
      topics: [...t.topics].sort((a, b) => a.name.localeCompare(b.name)),
    });
    expect(sorted(again)).toEqual(sorted(live));
    // Listed in another order, the binding the dead-letter exchange is named after still comes
    // first, since desiredTopology names it after the first binding.
    const reversed = { ...snapshot, bindings: [...snapshot.bindings].reverse() };
    const invoices = exportTopology(reversed).project.queues.find((q) => q.name === 'invoices');
    expect(invoices?.bindings?.[0]).toEqual({ exchange: 'audit' });
    expect(sorted(desiredTopology(reloaded(reversed)))).toEqual(sorted(live));
  });
});

describe('exportTopology, on what a project file cannot say', () => {
  const snapshot: TopologySnapshot = {
    exchanges: [
      exchange('', 'direct'),
      exchange('orders'),
      exchange('delayed', 'x-delayed-message'),
      exchange('custom-dlx', 'fanout'),
      exchange('mirror', 'fanout', { internal: true, arguments: { 'alternate-exchange': 'x' } }),
    ],
    queues: [
      queue('work', {
        'x-queue-type': 'classic',
        'x-max-length': 100,
        'x-max-retries': 5,
        'x-dead-letter-exchange': 'custom-dlx',
      }),
      queue('parked', { 'x-queue-type': 'classic' }, { policy: { 'message-ttl': 1000 } }),
      queue('mq-tail-1', {}, { exclusive: true }),
      queue('events', { 'x-queue-type': 'stream' }),
    ],
    bindings: [
      binding('orders', 'work', 'order.*'),
      binding('delayed', 'work', 'later'),
      binding('custom-dlx', 'parked', ''),
      binding('orders', 'mq-tail-1', 'order.*'),
      { ...binding('orders', 'mirror', '#'), destinationType: 'exchange' },
      { ...binding('orders', 'parked', ''), arguments: { 'x-match': 'all' } },
    ],
    topics: [{ name: 'audit', partitions: 1, retentionMs: -1, deadLetterTopic: null }],
  };

  it('leaves each out with a warning that names it, and writes a file that loads', async () => {
    const { project: exported, warnings } = exportTopology(snapshot);
    expect(exported.exchanges.map((e) => e.name)).toEqual(['orders', 'custom-dlx', 'mirror']);
    expect(exported.queues).toEqual([
      { name: 'work', type: 'classic', bindings: [{ exchange: 'orders', pattern: 'order.*' }] },
      { name: 'parked', type: 'classic', bindings: [{ exchange: 'custom-dlx' }] },
    ]);
    expect(exported.topics).toEqual([{ name: 'audit', partitions: 1 }]);
    const expected = [
      /exclusive queue\(s\) .*: mq-tail-1$/,
      /queue "events" is a stream queue/,
      /exchange "delayed" is of type x-delayed-message/,
      /binding orders -> mirror \(#\) binds an exchange to an exchange/,
      /binding orders -> parked \(\) has arguments \(x-match\)/,
      /queue "work" dead-letters to exchange "custom-dlx" with routing key null/,
      /exchange "mirror": internal, alternate-exchange cannot be declared/,
      /queue "work": x-max-length cannot be declared/,
      /queue "parked": a policy sets message-ttl/,
      /topic "audit" keeps records forever/,
    ];
    expect(warnings).toHaveLength(expected.length);
    for (const pattern of expected) expect(warnings.some((w) => pattern.test(w))).toBe(true);
    expect(warnings.join('\n')).not.toContain('x-max-retries');

    const file = join(mkdtempSync(join(tmpdir(), 'mq-export-')), 'mq.config.json');
    writeFileSync(file, JSON.stringify(exported));
    await expect(loadProjectFile(file)).resolves.toMatchObject({ queues: exported.queues });
  });
});

describe('exportTopology, on a queue that dead-letters into itself', () => {
  it('leaves its dead-letter wiring out with a warning, and writes a file that loads', async () => {
    const snapshot: TopologySnapshot = {
      exchanges: [exchange('orders'), exchange('orders.dlx', 'direct')],
      queues: [
        queue('loop', {
          'x-queue-type': 'classic',
          'x-dead-letter-exchange': 'orders.dlx',
          'x-dead-letter-routing-key': 'loop',
        }),
      ],
      bindings: [binding('orders', 'loop', '#'), binding('orders.dlx', 'loop', 'loop')],
      topics: [],
    };
    const { project: exported, warnings } = exportTopology(snapshot);
    expect(exported.queues[0]).not.toHaveProperty('deadLetterQueue');
    expect(warnings).toEqual([expect.stringMatching(/^queue "loop" dead-letters to exchange/)]);
    const file = join(mkdtempSync(join(tmpdir(), 'mq-export-')), 'mq.config.json');
    writeFileSync(file, JSON.stringify(exported));
    await expect(loadProjectFile(file)).resolves.toMatchObject({ queues: exported.queues });
  });
});

describe('retentionText', () => {
  it('says milliseconds in the largest exact unit, as retentionToMs reads it', () => {
    for (const [ms, text] of [
      [604_800_000, '7d'],
      [7_200_000, '2h'],
      [90_000, '90s'],
      [1500, '1500ms'],
      [0, '0ms'],
    ] as const) {
      expect(retentionText(ms)).toBe(text);
      expect(retentionToMs(text)).toBe(ms);
    }
  });
});
