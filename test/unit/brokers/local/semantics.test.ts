import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBroker as openAnyBroker } from '../../../../src/brokers/open.js';
import type {
  BrokerAdapter,
  Delivery,
  Headers,
  InboundMessage,
} from '../../../../src/brokers/types.js';
import type { Topology } from '../../../../src/config/topology.js';
import {
  ConnectError,
  MqError,
  NotFoundError,
  RefusedError,
  UnsupportedError,
} from '../../../../src/errors.js';
import { stepper } from '../../../helpers/brokers.js';
import { openBroker, project, temporaryDirectory } from './helpers.js';

/** Local broker behaviour the contract suite cannot show: time, files, and the database itself. */
describe('local broker', () => {
  let scratch: ReturnType<typeof temporaryDirectory>;
  let dataDir: string;
  const opened: BrokerAdapter[] = [];

  beforeEach(() => {
    scratch = temporaryDirectory('mq-local-');
    dataDir = join(scratch.path, 'data');
  });

  afterEach(async () => {
    for (const broker of opened.splice(0)) await broker.close();
    scratch.remove();
  });

  async function open(projectFile = project([])): Promise<BrokerAdapter> {
    const broker = await openBroker(dataDir, projectFile);
    opened.push(broker);
    return broker;
  }

  async function take(
    broker: BrokerAdapter,
    queue: string,
    count: number,
    settle: (delivery: Delivery) => Promise<void> = (delivery) => delivery.ack(),
    timeoutMs = 5_000,
  ): Promise<InboundMessage[]> {
    const seen: InboundMessage[] = [];
    const signal = AbortSignal.timeout(timeoutMs);
    for await (const delivery of broker.consume(queue, { signal })) {
      seen.push(delivery.message);
      await settle(delivery);
      if (seen.length === count) break;
    }
    return seen;
  }

  const send = (broker: BrokerAdapter, queue: string, id: string, headers?: Headers) =>
    broker.publish({ kind: 'queue', queue }, [
      { body: Buffer.from(id), headers, properties: { messageId: id } },
    ]);

  describe('opening', () => {
    it('creates its directory private to the user, and applies the project topology', async () => {
      const broker = await open(
        project(
          [
            {
              name: 'email_service_queue',
              type: 'quorum',
              bindings: [{ exchange: 'order_events', pattern: 'order.*' }],
              maxDeliveries: 3,
              deadLetterQueue: 'email_service_queue.dlq',
            },
          ],
          [{ name: 'order_events', type: 'topic' }],
        ),
      );
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      const queues = await broker.inspection!.list();
      expect(queues.map((q) => [q.name, q.type, q.maxDeliveries, q.deadLetterQueue])).toEqual([
        ['email_service_queue', 'quorum', 3, 'email_service_queue.dlq'],
        ['email_service_queue.dlq', 'classic', null, null],
      ]);
    });

    it('cannot connect where no directory can be made', async () => {
      writeFileSync(join(scratch.path, 'a-file'), '');
      await expect(openBroker(join(scratch.path, 'a-file', 'data'))).rejects.toBeInstanceOf(
        ConnectError,
      );
    });

    it('is what openBroker returns for a local spec', async () => {
      const broker = await openAnyBroker(
        { kind: 'local', dataDir, display: 'local' },
        { connectTimeoutMs: 1000, project: null },
      );
      opened.push(broker);
      expect(broker.kind).toBe('local');
      await broker.connect();
      expect(await broker.inspection!.list()).toEqual([]);
    });

    it('has the built-in exchanges', async () => {
      const broker = await open(
        project([{ name: 'q', bindings: [{ exchange: 'amq.topic', pattern: '#' }] }]),
      );
      const route = (exchange: string) => ({
        kind: 'exchange' as const,
        exchange,
        routingKey: 'q',
      });
      const body = { body: Buffer.from('x') };
      expect((await broker.publish(route('amq.topic'), [body]))[0]?.status).toBe('confirmed');
      expect((await broker.publish(route('amq.direct'), [body]))[0]?.status).toBe('unroutable');
      expect((await broker.publish(route('amq.fanout'), [body]))[0]?.status).toBe('unroutable');
      expect((await broker.publish(route(''), [body]))[0]?.status).toBe('confirmed');
      await expect(broker.publish(route('amq.topc'), [body])).rejects.toThrow(
        'exchange "amq.topc" does not exist on the local broker (did you mean "amq.topic"?)',
      );
    });

    it('refuses a redeclared queue whose arguments differ, naming each one', async () => {
      await open(project([{ name: 'jobs', maxDeliveries: 3 }]));
      const conflicting = openBroker(
        dataDir,
        project([{ name: 'jobs', type: 'classic', messageTtl: 500 }]),
      );
      await expect(conflicting).rejects.toBeInstanceOf(RefusedError);
      await expect(conflicting).rejects.toThrow(
        'cannot declare the topology: queue "jobs" already exists with different settings: ' +
          'x-delivery-limit: live 2, declared none; x-message-ttl: live none, declared 500; ' +
          'x-queue-type: live quorum, declared classic',
      );
    });

    it('refuses an exchange redeclared with another type', async () => {
      await open(project([], [{ name: 'events', type: 'topic' }]));
      await expect(
        openBroker(dataDir, project([], [{ name: 'events', type: 'fanout' }])),
      ).rejects.toThrow(
        'exchange "events" already exists with different settings: type: live topic, declared fanout',
      );
    });

    it('rejects headers exchanges clearly', async () => {
      const opening = openBroker(dataDir, project([], [{ name: 'by-header', type: 'headers' }]));
      await expect(opening).rejects.toBeInstanceOf(UnsupportedError);
      await expect(opening).rejects.toThrow(
        'the local broker has no headers exchanges ("by-header" is one)',
      );
    });

    it('refuses bindings to exchanges or queues that do not exist', async () => {
      const broker = await open();
      const topology: Topology = {
        exchanges: [],
        queues: [],
        bindings: [{ exchange: 'nowhere', queue: 'nobody', routingKey: '#' }],
        topics: [],
      };
      expect(await broker.topology!.plan(topology)).toEqual([
        {
          action: 'conflict',
          kind: 'binding',
          name: 'nowhere -> nobody (#)',
          detail: 'exchange "nowhere" does not exist; queue "nobody" does not exist',
        },
      ]);
      await expect(broker.topology!.apply(topology)).rejects.toBeInstanceOf(RefusedError);
    });
  });

  describe('message TTL', () => {
    it('dead-letters an expired message as expired, at the latest when it would be seen', async () => {
      const broker = await open(
        project([{ name: 'short', messageTtl: 50, deadLetterQueue: 'short.dlq' }]),
      );
      await send(broker, 'short', 'stale');
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(await broker.inspection!.peek('short', { limit: 10 })).toEqual([]);
      expect(await broker.inspection!.describe('short')).toMatchObject({
        ready: 0,
        messageTtlMs: 50,
      });
      const [dead] = await broker.inspection!.peek('short.dlq', { limit: 10 });
      expect(dead).toMatchObject({
        id: 'stale',
        death: { reason: 'expired', queue: 'short', count: 1 },
      });
    });

    it('shows an expiring message to a tail of the dead-letter queue with nobody consuming', async () => {
      const broker = await open(
        project([{ name: 'short', messageTtl: 20, deadLetterQueue: 'short.dlq' }]),
      );
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(), 5_000);
      let published: Promise<unknown> | undefined;
      const seen: InboundMessage[] = [];
      for await (const copy of broker.inspection!.tail('short.dlq', {
        signal: controller.signal,
        onReady: () => {
          published = send(broker, 'short', 'expiring');
        },
      })) {
        seen.push(copy);
        break;
      }
      clearTimeout(timeout);
      await published;
      expect(seen[0]).toMatchObject({ id: 'expiring', death: { reason: 'expired' } });
    });

    it('drops an expired message when the queue has no dead-letter exchange, as RabbitMQ does', async () => {
      const broker = await open(project([{ name: 'short', messageTtl: 1 }]));
      await send(broker, 'short', 'gone');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await broker.inspection!.describe('short')).toMatchObject({ ready: 0, unacked: 0 });
    });
  });

  it('counts a second death in the same queue for the same reason, as x-death does', async () => {
    // The delayed-retry pattern: rejected work waits in a TTL queue that dead-letters it back.
    const broker = await open();
    await broker.topology!.apply({
      exchanges: [
        { name: 'work', type: 'direct', durable: true },
        { name: 'retry', type: 'direct', durable: true },
      ],
      queues: [
        {
          name: 'jobs',
          arguments: {
            'x-queue-type': 'classic',
            'x-dead-letter-exchange': 'retry',
            'x-dead-letter-routing-key': 'wait',
          },
        },
        {
          name: 'waiting',
          arguments: {
            'x-queue-type': 'classic',
            'x-message-ttl': 200,
            'x-dead-letter-exchange': 'work',
            'x-dead-letter-routing-key': 'job',
          },
        },
      ],
      bindings: [
        { exchange: 'work', queue: 'jobs', routingKey: 'job' },
        { exchange: 'retry', queue: 'waiting', routingKey: 'wait' },
      ],
      topics: [],
    });
    await broker.publish({ kind: 'exchange', exchange: 'work', routingKey: 'job' }, [
      { body: Buffer.from('job'), properties: { messageId: 'job-1' } },
    ]);
    const reject = (delivery: Delivery) => delivery.deadLetter();
    const [fresh] = await take(broker, 'jobs', 1, reject);
    const [retried] = await take(broker, 'jobs', 1, reject);
    expect(fresh?.death).toBeNull();
    expect(retried).toMatchObject({
      id: 'job-1',
      exchange: 'work',
      routingKey: 'job',
      death: {
        reason: 'expired',
        queue: 'waiting',
        count: 1,
        exchange: 'retry',
        routingKeys: ['wait'],
      },
    });
    const [waiting] = await broker.inspection!.peek('waiting', { limit: 1 });
    expect(waiting?.death).toMatchObject({
      reason: 'rejected',
      queue: 'jobs',
      count: 2,
      exchange: 'work',
      routingKeys: ['job'],
    });
    expect(Date.parse(waiting!.death!.firstTime!)).toBeLessThan(Date.parse(waiting!.death!.time!));
  });

  describe('delivery counts', () => {
    it('keeps the count when a message is dead-lettered, not marked redelivered', async () => {
      const broker = await open(project([{ name: 'work', deadLetterQueue: 'work.dlq' }]));
      await send(broker, 'work', 'tried');
      await take(broker, 'work', 2, (delivery) =>
        delivery.message.redelivered ? delivery.deadLetter() : delivery.retry(),
      );
      const [dead] = await broker.inspection!.peek('work.dlq', { limit: 1 });
      expect(dead).toMatchObject({ id: 'tried', deliveryCount: 1, redelivered: false });
    });

    it('gives each queue its own delivery limit, counting only deliveries there', async () => {
      const broker = await open(
        project([
          { name: 'first', type: 'quorum', maxDeliveries: 2, deadLetterQueue: 'second' },
          { name: 'second', type: 'quorum', maxDeliveries: 2 },
        ]),
      );
      await send(broker, 'first', 'budget');
      const retry = (delivery: Delivery) => delivery.retry();
      expect((await take(broker, 'first', 2, retry)).map((m) => m.deliveryCount)).toEqual([0, 1]);
      // In `second` it has two deliveries again, whatever it spent in `first`.
      expect((await take(broker, 'second', 2, retry)).map((m) => m.deliveryCount)).toEqual([2, 3]);
      expect(await broker.inspection!.list()).toMatchObject([
        { name: 'first', ready: 0, unacked: 0 },
        { name: 'second', ready: 0, unacked: 0 },
      ]);
    });
  });

  describe('leases', () => {
    it('returns a message whose lease expired, counting a delivery; the old holder can no longer settle it', async () => {
      const broker = await open(project([{ name: 'work' }]));
      await send(broker, 'work', 'slow');
      const holder = stepper(broker.consume('work', { signal: new AbortController().signal }));
      const held = (await holder.next()).value as Delivery;
      // The lease runs 60 s: age it instead of waiting.
      const db = new Database(join(dataDir, 'mq.db'));
      db.prepare('UPDATE messages SET lease_expires_at = 0 WHERE lease_owner IS NOT NULL').run();
      db.close();

      const other = await open();
      const [again] = await take(other, 'work', 1, () => Promise.resolve());
      expect(again).toMatchObject({ id: 'slow', redelivered: true, deliveryCount: 1 });
      await expect(held.ack()).rejects.toThrow('message slow is no longer held by this consumer');
      await expect(held.deadLetter()).rejects.toThrow('no longer held');
      // Letting go of what is no longer held changes nothing and is no error.
      await held.release();
      await holder.return?.();
    });

    it('refuses to settle a delivery twice', async () => {
      const broker = await open(project([{ name: 'work' }]));
      await send(broker, 'work', 'once');
      await take(broker, 'work', 1, async (delivery) => {
        await delivery.ack();
        await expect(delivery.ack()).rejects.toThrow('message once was already settled');
        await expect(delivery.release()).rejects.toBeInstanceOf(MqError);
      });
    });

    it('holds at most prefetch unsettled deliveries', async () => {
      const broker = await open(project([{ name: 'work' }]));
      for (const id of ['a', 'b', 'c']) await send(broker, 'work', id);
      const controller = new AbortController();
      const deliveries = stepper(
        broker.consume('work', { signal: controller.signal, prefetch: 2 }),
      );
      const first = (await deliveries.next()).value as Delivery;
      await deliveries.next();
      const third = deliveries.next();
      const waited = await Promise.race([
        third.then(() => 'delivered'),
        new Promise((resolve) => setTimeout(() => resolve('held back'), 200)),
      ]);
      expect(waited).toBe('held back');
      await first.ack();
      expect(((await third).value as Delivery).message.id).toBe('c');
      await deliveries.return?.();
    });

    it('returns what a closed adapter held, uncounted', async () => {
      const broker = await open(project([{ name: 'work' }]));
      await send(broker, 'work', 'held');
      const deliveries = stepper(broker.consume('work', { signal: new AbortController().signal }));
      await deliveries.next();
      await broker.close();
      await broker.close();
      const other = await open();
      const [again] = await take(other, 'work', 1);
      expect(again).toMatchObject({ id: 'held', redelivered: true, deliveryCount: 0 });
      await expect(broker.inspection!.list()).rejects.toThrow(
        'the local broker connection is closed',
      );
    });
  });

  it('keeps header values exactly, including those JSON cannot say', async () => {
    const broker = await open(project([{ name: 'work' }]));
    const headers: Headers = {
      ['__proto__']: 'a header, not a prototype',
      lookalike: { base64: 'AAE=' },
      typed: { '!': 'decimal', value: { places: 2, digits: 12345 } },
      notANumber: Number.NaN,
      negativeZero: -0,
      infinite: Number.POSITIVE_INFINITY,
      empty: Buffer.alloc(0),
      deep: [[Buffer.from([1, 2])], { inner: { '!': 'timestamp', value: 1 } }],
    };
    await broker.publish({ kind: 'queue', queue: 'work' }, [{ body: Buffer.alloc(0), headers }]);
    const [got] = await take(broker, 'work', 1);
    expect(got?.headers).toEqual(headers);
    expect(Object.is(got?.headers?.['negativeZero'], -0)).toBe(true);
    expect(Object.getPrototypeOf(got?.headers)).toBe(Object.prototype);
    expect(got?.body).toHaveLength(0);
    // Published without a message id: the broker gives it one, which survives moves.
    expect(got?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says which queue it cannot find, and that topics are not there yet', async () => {
    const broker = await open(project([{ name: 'email_service_queue' }]));
    await expect(broker.inspection!.describe('email_service_queu')).rejects.toThrow(
      'queue "email_service_queu" does not exist on the local broker (did you mean "email_service_queue"?)',
    );
    await expect(broker.inspection!.describe('x')).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      broker.publish({ kind: 'topic', topic: 'order-events' }, []),
    ).rejects.toBeInstanceOf(UnsupportedError);
  });
});
