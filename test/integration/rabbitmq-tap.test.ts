/**
 * The RabbitMQ adapter's tail tap when its reader falls behind: past the tap's 10,000 copies the
 * oldest are dropped and counted, and the target queue keeps every message.
 */
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRabbitMq } from '../../src/brokers/rabbitmq/index.js';
import { requireCapability, type BrokerAdapter } from '../../src/brokers/types.js';
import { uniqueName } from '../helpers/brokers.js';
import {
  brokerUrl,
  createVhost,
  deleteVhost,
  rabbitMqAvailable,
  rabbitMqSpec,
} from '../helpers/rabbitmq.js';

const TAP_MAX_LENGTH = 10_000;
const OVERFLOW = 300;

const ready = await rabbitMqAvailable();

describe.runIf(ready)('the RabbitMQ tail tap', () => {
  let vhost: string;
  let broker: BrokerAdapter;

  beforeAll(async () => {
    vhost = await createVhost();
    broker = openRabbitMq(rabbitMqSpec(vhost), { connectTimeoutMs: 5_000, project: null });
    await broker.connect();
  });

  afterAll(async () => {
    await broker.close();
    await deleteVhost(vhost);
  });

  it('counts the copies it drops when the reader falls behind, and the queue keeps them all', async () => {
    const exchange = uniqueName('tap-test');
    const queue = uniqueName('tap-test-queue');
    const setup = await amqplib.connect(brokerUrl(vhost));
    const channel = await setup.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    await channel.assertQueue(queue, { durable: false, arguments: { 'x-queue-type': 'classic' } });
    await channel.bindQueue(queue, exchange, 'order.#');
    await setup.close();

    const stop = new AbortController();
    let dropped = 0;
    let announceReady: () => void = () => {};
    const subscribed = new Promise<void>((resolve) => (announceReady = resolve));
    const tail = requireCapability(broker, 'inspection').tail(queue, {
      signal: stop.signal,
      onReady: announceReady,
      onDropped: (total) => (dropped = total),
    });
    const reader = tail[Symbol.asyncIterator]();
    const first = reader.next();
    await subscribed;

    const total = TAP_MAX_LENGTH + OVERFLOW;
    const messages = Array.from({ length: total }, (_, n) => ({
      body: Buffer.from(`{"n":${n}}`),
      headers: {},
    }));
    const route = { kind: 'exchange', exchange, routingKey: 'order.placed' } as const;
    const receipts = await broker.publish(route, messages);
    expect(receipts.every((receipt) => receipt.status === 'confirmed')).toBe(true);
    expect((await first).value).toMatchObject({ body: Buffer.from('{"n":0}') });

    // The reader took one and holds at most a prefetch of 100 more: the tap overflows by at
    // least OVERFLOW - 101 copies, and never by more than OVERFLOW.
    await expect.poll(() => dropped, { timeout: 10_000 }).toBeGreaterThanOrEqual(OVERFLOW - 101);
    expect(dropped).toBeLessThanOrEqual(OVERFLOW);
    const described = await requireCapability(broker, 'inspection').describe(queue);
    expect(described.ready).toBe(total);

    stop.abort();
    await reader.return?.(undefined);
  });
});
