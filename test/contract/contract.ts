/**
 * The broker contract suite (STYLE.md §7): one set of tests, run against every adapter the way
 * BullMQ runs one suite against each backend. A test declares its own uniquely named topology
 * through `topology.apply`, exactly as DESIGN.md §3 wires a project file (a topic exchange, a quorum
 * queue bound with `order.*`, a direct `<exchange>.dlx` and a classic `<queue>.dlq`), so the same
 * test means the same thing on every broker.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  BrokerAdapter,
  Delivery,
  Headers,
  InboundMessage,
  OutboundMessage,
  Route,
} from '../../src/brokers/types.js';
import { requireCapability } from '../../src/brokers/types.js';
import type { QueueDecl } from '../../src/config/project-file.js';
import { desiredTopology, type Topology } from '../../src/config/topology.js';
import { NotFoundError, RefusedError } from '../../src/errors.js';
import { stepper, uniqueName } from '../helpers/brokers.js';

export interface ContractSetup {
  /** Deletes what one test declared (RabbitMQ: its queues and exchanges). */
  removeTopology?: (topology: Topology) => Promise<void>;
  /** Runs once after the suite (the local broker: removes its directory). */
  afterAll?: () => Promise<void>;
  /** release() counts a delivery on this broker (RabbitMQ quorum queues before 4.3). */
  releaseCounts?: boolean;
}

/** How long a test waits for messages it expects before it reports what it got. */
const WAIT_MS = 5_000;

/** How long figures may take to settle (RabbitMQ's management statistics: 5 s intervals). */
const SETTLE = { timeout: 15_000, interval: 250 };

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** The body DESIGN.md §4 names: re-serialising it would turn 1.0 into 1 and round the big number. */
const EXACT_JSON = utf8('{"a":1.0,"n":12345678901234567890}');
/** Not UTF-8: a lone continuation byte, an invalid lead byte, a NUL. */
const NOT_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]);

/** Header values every AMQP broker carries unchanged, typed ones included. */
const TYPED_HEADERS: Headers = {
  text: 'order.placed',
  count: 42,
  flag: true,
  bytes: Buffer.from([0x00, 0xff, 0x10]),
  stamp: { '!': 'timestamp', value: 1_700_000_000 },
  nested: { region: 'eu', attempt: 2 },
  list: ['a', 7],
};

export function brokerContract(
  name: string,
  open: () => Promise<BrokerAdapter>,
  setup: ContractSetup = {},
): void {
  describe(`${name}: broker contract`, () => {
    let broker: BrokerAdapter;
    const declared: Topology[] = [];

    beforeEach(async () => {
      broker = await open();
    });

    afterEach(async () => {
      await broker.close();
      for (const topology of declared.splice(0)) await setup.removeTopology?.(topology);
    });

    afterAll(async () => {
      await setup.afterAll?.();
    });

    interface Orders {
      exchange: string;
      queue: string;
      dlq: string;
      topology: Topology;
    }

    /** Names and topology for one test, as a project file would declare them. */
    function ordersTopology(
      options: { maxDeliveries?: number; queue?: string; exchange?: string } = {},
    ): Orders {
      const exchange = options.exchange ?? uniqueName('contract-ex');
      const queue = options.queue ?? uniqueName('contract-q');
      const dlq = `${queue}.dlq`;
      const queueDecl: QueueDecl = {
        name: queue,
        type: 'quorum',
        bindings: [{ exchange, pattern: 'order.*' }],
        deadLetterQueue: dlq,
        ...(options.maxDeliveries === undefined ? {} : { maxDeliveries: options.maxDeliveries }),
      };
      const topology = desiredTopology({
        path: 'contract',
        exchanges: [{ name: exchange, type: 'topic' }],
        queues: [queueDecl],
        topics: [],
        events: {},
      });
      return { exchange, queue, dlq, topology };
    }

    async function declareOrders(options: { maxDeliveries?: number } = {}): Promise<Orders> {
      const orders = ordersTopology(options);
      declared.push(orders.topology);
      await requireCapability(broker, 'topology').apply(orders.topology);
      return orders;
    }

    function message(body: Buffer, extra: Partial<OutboundMessage> = {}): OutboundMessage {
      return {
        body,
        ...extra,
        properties: { messageId: uniqueName('msg'), deliveryMode: 2, ...extra.properties },
      };
    }

    const placed = (orders: Orders): Route => ({
      kind: 'exchange',
      exchange: orders.exchange,
      routingKey: 'order.placed',
    });

    async function publishConfirmed(route: Route, messages: OutboundMessage[]): Promise<void> {
      const receipts = await broker.publish(route, messages);
      expect(receipts.map((r) => r.status)).toEqual(messages.map(() => 'confirmed'));
    }

    /**
     * Consumes until `count` deliveries were seen (or WAIT_MS passed), settling each with `settle`.
     * Returns what was delivered, in order.
     */
    async function take(
      queue: string,
      count: number,
      settle: (delivery: Delivery) => Promise<void>,
    ): Promise<InboundMessage[]> {
      const seen: InboundMessage[] = [];
      const signal = AbortSignal.timeout(WAIT_MS);
      for await (const delivery of broker.consume(queue, { signal, prefetch: 1 })) {
        seen.push(delivery.message);
        await settle(delivery);
        if (seen.length === count) break;
      }
      return seen;
    }

    const ack = (delivery: Delivery) => delivery.ack();

    async function depth(queue: string): Promise<{ ready: number | null; unacked: number | null }> {
      const info = await requireCapability(broker, 'inspection').describe(queue);
      return { ready: info.ready, unacked: info.unacked };
    }

    /**
     * Asserts a queue's depth, waiting for figures that settle late: sampled ones (RabbitMQ's
     * management API, a statistics interval behind) and a quorum queue's count just after a
     * return. Exact figures that are right pass at the first look.
     */
    async function expectDepth(
      queue: string,
      want: { ready: number; unacked: number },
    ): Promise<void> {
      await expect.poll(() => depth(queue), SETTLE).toEqual(want);
    }

    it('delivers published messages in order with exact bytes, headers and properties', async () => {
      const orders = await declareOrders();
      const sent = [
        message(EXACT_JSON, {
          headers: TYPED_HEADERS,
          properties: { contentType: 'application/json', correlationId: 'corr-1' },
        }),
        message(NOT_UTF8, { properties: { contentType: 'application/octet-stream' } }),
        message(utf8('third')),
      ];
      const receipts = await broker.publish(placed(orders), sent);
      expect(receipts.map((r) => [r.messageId, r.status])).toEqual(
        sent.map((m) => [m.properties!.messageId, 'confirmed']),
      );
      expect(receipts.every((r) => typeof r.confirmLatencyMs === 'number')).toBe(true);

      const received = await take(orders.queue, 3, ack);
      expect(received.map((m) => m.id)).toEqual(sent.map((m) => m.properties!.messageId));
      received.forEach((got, index) => {
        const want = sent[index]!;
        expect(Buffer.from(got.body).equals(want.body)).toBe(true);
        expect(got.properties).toMatchObject(want.properties!);
        expect(got).toMatchObject({
          source: orders.queue,
          exchange: orders.exchange,
          routingKey: 'order.placed',
          partition: null,
          offset: null,
          redelivered: false,
          deliveryCount: 0,
          death: null,
        });
      });
      expect(received[0]!.headers).toEqual(TYPED_HEADERS);
      expect(Buffer.from(received[0]!.headers!['bytes'] as Uint8Array)).toEqual(
        TYPED_HEADERS['bytes'],
      );
      await expectDepth(orders.queue, { ready: 0, unacked: 0 });
    });

    it('reports messages no queue takes as unroutable, and a missing exchange as not found', async () => {
      const orders = await declareOrders();
      const [noBinding] = await broker.publish(
        { kind: 'exchange', exchange: orders.exchange, routingKey: 'invoice.sent' },
        [message(utf8('nobody listens'))],
      );
      expect(noBinding?.status).toBe('unroutable');
      const [noQueue] = await broker.publish({ kind: 'queue', queue: uniqueName('missing') }, [
        message(utf8('no such queue')),
      ]);
      expect(noQueue?.status).toBe('unroutable');
      await expect(
        broker.publish({ kind: 'exchange', exchange: uniqueName('missing-ex'), routingKey: 'x' }, [
          message(utf8('no such exchange')),
        ]),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expectDepth(orders.queue, { ready: 0, unacked: 0 });
    });

    it('publishes straight to a queue through the default exchange', async () => {
      const orders = await declareOrders();
      await publishConfirmed({ kind: 'queue', queue: orders.queue }, [message(utf8('direct'))]);
      const [got] = await take(orders.queue, 1, ack);
      expect(got).toMatchObject({ exchange: '', routingKey: orders.queue });
    });

    it('retry() returns the message counting a delivery, marked redelivered', async () => {
      const orders = await declareOrders();
      await publishConfirmed(placed(orders), [message(utf8('try again'))]);
      const seen = await take(orders.queue, 2, async (delivery) => {
        if (delivery.message.redelivered) await delivery.ack();
        else await delivery.retry();
      });
      expect(seen.map((m) => [m.redelivered, m.deliveryCount])).toEqual([
        [false, 0],
        [true, 1],
      ]);
      expect(seen[1]!.id).toBe(seen[0]!.id);
    });

    it('release() returns the message without counting a delivery', async () => {
      const orders = await declareOrders();
      await publishConfirmed(placed(orders), [message(utf8('put back'))]);
      const seen = await take(orders.queue, 2, async (delivery) => {
        if (delivery.message.redelivered) await delivery.ack();
        else await delivery.release();
      });
      expect(seen.map((m) => [m.redelivered, m.deliveryCount])).toEqual([
        [false, 0],
        [true, setup.releaseCounts ? 1 : 0],
      ]);
    });

    it('deadLetter() moves the message to the dead-letter queue with a rejected death record', async () => {
      const orders = await declareOrders();
      const sent = message(NOT_UTF8, { headers: TYPED_HEADERS });
      await publishConfirmed(placed(orders), [sent]);
      await take(orders.queue, 1, (delivery) => delivery.deadLetter());

      const [dead] = await take(orders.dlq, 1, ack);
      expect(dead?.id).toBe(sent.properties!.messageId);
      expect(Buffer.from(dead!.body).equals(sent.body)).toBe(true);
      expect(dead?.death).toMatchObject({
        reason: 'rejected',
        count: 1,
        queue: orders.queue,
        exchange: orders.exchange,
        routingKeys: ['order.placed'],
      });
      expect(Date.parse(dead!.death!.time!)).not.toBeNaN();
      await expectDepth(orders.queue, { ready: 0, unacked: 0 });
    });

    it('dead-letters as delivery_limit after maxDeliveries deliveries, as RabbitMQ quorum queues do', async () => {
      const orders = await declareOrders({ maxDeliveries: 3 });
      await publishConfirmed(placed(orders), [message(utf8('poison'))]);
      const seen = await take(orders.queue, 3, (delivery) => delivery.retry());
      expect(seen.map((m) => m.deliveryCount)).toEqual([0, 1, 2]);

      const [dead] = await take(orders.dlq, 1, ack);
      expect(dead?.id).toBe(seen[0]!.id);
      expect(dead?.death).toMatchObject({
        reason: 'delivery_limit',
        count: 1,
        queue: orders.queue,
      });
      // Dead-lettered on the third return: there is no fourth delivery to come.
      await expectDepth(orders.queue, { ready: 0, unacked: 0 });
    });

    /** A browse may set `redelivered` (RabbitMQ does, DESIGN.md §4); nothing else may change. */
    const asBrowsed = (messages: InboundMessage[]) =>
      messages.map((m) => ({ ...m, redelivered: null }));

    it('peek() shows the same waiting messages of a classic queue twice and spends nothing', async () => {
      const orders = await declareOrders();
      // The dead-letter queue is the classic queue of the topology.
      await publishConfirmed({ kind: 'queue', queue: orders.dlq }, [
        message(EXACT_JSON, { headers: TYPED_HEADERS }),
        message(NOT_UTF8),
      ]);
      const inspection = requireCapability(broker, 'inspection');
      const first = await inspection.peek(orders.dlq, { limit: 10 });
      const second = await inspection.peek(orders.dlq, { limit: 10 });
      expect(first).toHaveLength(2);
      expect(first.map((m) => m.redelivered)).toEqual([false, false]);
      expect(asBrowsed(second)).toEqual(asBrowsed(first));
      expect(asBrowsed(await inspection.peek(orders.dlq, { limit: 1 }))).toEqual(
        asBrowsed(first.slice(0, 1)),
      );
      await expectDepth(orders.dlq, { ready: 2, unacked: 0 });

      const [next] = await take(orders.dlq, 1, ack);
      expect(next?.id).toBe(first[0]!.id);
      // Classic queues keep no count on RabbitMQ (null); the local broker counts (0).
      expect(next?.deliveryCount ?? 0).toBe(0);
    });

    it('peek() of a quorum queue refuses where a browse counts a delivery, unless forced', async () => {
      const orders = await declareOrders({ maxDeliveries: 3 });
      await publishConfirmed(placed(orders), [message(utf8('count me'))]);
      const inspection = requireCapability(broker, 'inspection');
      const unforced = await inspection.peek(orders.queue, { limit: 10 }).then(
        () => 'browsed',
        (error: unknown) => (error instanceof RefusedError ? `refused: ${error.message}` : error),
      );
      expect(unforced).toMatch(
        setup.releaseCounts ? /^refused: .*x-delivery-count \+ 1.*after 3 deliveries/ : /^browsed$/,
      );
      const spent = setup.releaseCounts ? 1 : 0;
      const [browsed] = await inspection.peek(orders.queue, { limit: 10, force: true });
      expect(browsed?.deliveryCount).toBe(0);
      await expectDepth(orders.queue, { ready: 1, unacked: 0 });

      const [next] = await take(orders.queue, 1, ack);
      expect(next).toMatchObject({ id: browsed!.id, deliveryCount: spent });
    });

    it('tail() sees a message published after onReady while the queue keeps it', async () => {
      const orders = await declareOrders();
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(), WAIT_MS);
      const sent = message(EXACT_JSON, { headers: TYPED_HEADERS });
      const seen: InboundMessage[] = [];
      let published: Promise<void> | undefined;
      const tail = requireCapability(broker, 'inspection').tail(orders.queue, {
        signal: controller.signal,
        onReady: () => {
          published = publishConfirmed(placed(orders), [sent]);
        },
      });
      for await (const copy of tail) {
        seen.push(copy);
        break;
      }
      clearTimeout(timeout);
      await published;
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ id: sent.properties!.messageId, source: orders.queue });
      expect(Buffer.from(seen[0]!.body).equals(sent.body)).toBe(true);
      expect(seen[0]!.headers).toEqual(TYPED_HEADERS);

      await expectDepth(orders.queue, { ready: 1, unacked: 0 });
      const [kept] = await take(orders.queue, 1, ack);
      expect(kept).toMatchObject({ id: sent.properties!.messageId, redelivered: false });
    });

    it('stops a consumer within 2 s of an abort and returns what it did not settle', async () => {
      const orders = await declareOrders();
      await publishConfirmed(placed(orders), [message(utf8('unsettled'))]);
      const controller = new AbortController();
      let held: Delivery | undefined;
      let gotOne: () => void = () => {};
      const first = new Promise<void>((resolve) => (gotOne = resolve));
      const loop = (async () => {
        for await (const delivery of broker.consume(orders.queue, {
          signal: controller.signal,
        })) {
          held = delivery;
          gotOne();
        }
      })();
      await Promise.race([first, new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
      expect(held).toBeDefined();

      const abortedAt = performance.now();
      controller.abort();
      await loop;
      expect(performance.now() - abortedAt).toBeLessThan(2_000);

      const [again] = await take(orders.queue, 1, ack);
      expect(again).toMatchObject({
        id: held!.message.id,
        redelivered: true,
        deliveryCount: setup.releaseCounts ? 1 : 0,
      });
    });

    it('returns unsettled messages when the caller breaks out of for-await', async () => {
      const orders = await declareOrders();
      await publishConfirmed(placed(orders), [message(utf8('one')), message(utf8('two'))]);
      const signal = AbortSignal.timeout(WAIT_MS);
      let firstId: string | undefined;
      for await (const delivery of broker.consume(orders.queue, { signal, prefetch: 5 })) {
        firstId = delivery.message.id;
        break;
      }
      await expectDepth(orders.queue, { ready: 2, unacked: 0 });
      const again = await take(orders.queue, 2, ack);
      // Where a returned message rejoins the line is the broker's affair (RabbitMQ 3 quorum
      // queues: at the back); what matters is that only the one handed out was touched.
      expect(again.map((m) => [m.id === firstId, m.redelivered]).sort()).toEqual([
        [false, false],
        [true, true],
      ]);
    });

    it('lets a delivery be released after its consumer ended, but no longer acked', async () => {
      const orders = await declareOrders();
      await publishConfirmed(placed(orders), [message(utf8('skipped')), message(utf8('acked'))]);
      const signal = AbortSignal.timeout(WAIT_MS);
      const held: Delivery[] = [];
      for await (const delivery of broker.consume(orders.queue, { signal, prefetch: 5 })) {
        held.push(delivery);
        if (held.length === 2) break;
      }
      await held[0]!.release();
      await expect(held[1]!.ack()).rejects.toThrow();
      const again = await take(orders.queue, 2, ack);
      expect(again.map((m) => [m.id, m.redelivered])).toEqual(
        held.map((d) => [d.message.id, true]),
      );
    });

    it('describes queues and lists them by pattern', async () => {
      const orders = await declareOrders({ maxDeliveries: 3 });
      await publishConfirmed(placed(orders), [
        message(utf8('1')),
        message(utf8('2')),
        message(utf8('3')),
      ]);
      const inspection = requireCapability(broker, 'inspection');
      const controller = new AbortController();
      const consumer = stepper(broker.consume(orders.queue, { signal: controller.signal }));
      const held = await consumer.next();
      expect(held.done).toBe(false);

      await expect
        .poll(() => inspection.describe(orders.queue), SETTLE)
        .toMatchObject({
          name: orders.queue,
          kind: 'queue',
          type: 'quorum',
          ready: 2,
          unacked: 1,
          consumers: 1,
          deadLetterExchange: `${orders.exchange}.dlx`,
          deadLetterQueue: orders.dlq,
          maxDeliveries: 3,
          messageTtlMs: null,
        });
      const info = await inspection.describe(orders.queue);
      expect(info.bindings).toContainEqual({ exchange: orders.exchange, routingKey: 'order.*' });

      await consumer.return?.();
      controller.abort();
      await expect
        .poll(() => inspection.list(`${orders.queue}*`), SETTLE)
        .toMatchObject([
          { name: orders.queue, ready: 3, unacked: 0, consumers: 0 },
          { name: orders.dlq, type: 'classic', ready: 0, maxDeliveries: null },
        ]);
    });

    it('reports a missing queue as not found, suggesting the near miss', async () => {
      const orders = await declareOrders();
      const typo = `${orders.queue}x`;
      const inspection = requireCapability(broker, 'inspection');
      await expect(inspection.describe(typo)).rejects.toThrow(
        new RegExp(`did you mean "${orders.queue}"`),
      );
      await expect(inspection.describe(typo)).rejects.toBeInstanceOf(NotFoundError);
      await expect(inspection.peek(typo, { limit: 1 })).rejects.toBeInstanceOf(NotFoundError);
      const consuming = (async () => {
        for await (const delivery of broker.consume(typo, { signal: AbortSignal.timeout(WAIT_MS) }))
          await delivery.release();
      })();
      await expect(consuming).rejects.toBeInstanceOf(NotFoundError);
    });

    it('plans and applies a topology idempotently, and refuses a conflicting one', async () => {
      const orders = ordersTopology({ maxDeliveries: 3 });
      declared.push(orders.topology);
      const topology = requireCapability(broker, 'topology');

      const planned = await topology.plan(orders.topology);
      expect(planned.length).toBeGreaterThan(0);
      expect(new Set(planned.map((c) => c.action))).toEqual(new Set(['create']));
      expect(await topology.apply(orders.topology)).toEqual(planned);
      const unchanged = planned.map((c) => ({ ...c, action: 'unchanged' }));
      expect(await topology.plan(orders.topology)).toEqual(unchanged);
      expect(await topology.apply(orders.topology)).toEqual(unchanged);

      const conflicting = ordersTopology({
        maxDeliveries: 5,
        queue: orders.queue,
        exchange: orders.exchange,
      });
      const replanned = await topology.plan(conflicting.topology);
      expect(replanned).toContainEqual({
        action: 'conflict',
        kind: 'queue',
        name: orders.queue,
        detail: 'x-delivery-limit: live 2, declared 4',
      });
      const refusal = topology.apply(conflicting.topology);
      await expect(refusal).rejects.toBeInstanceOf(RefusedError);
      await expect(refusal).rejects.toThrow(/x-delivery-limit: live 2, declared 4/);
      const info = await requireCapability(broker, 'inspection').describe(orders.queue);
      expect(info.maxDeliveries).toBe(3);
    });
  });
}
