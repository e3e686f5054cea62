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
  HeaderValue,
  Headers,
  Holding,
  InboundMessage,
  OutboundMessage,
  PublishReceipt,
  Route,
  TailOptions,
} from '../../src/brokers/types.js';
import { requireCapability } from '../../src/brokers/types.js';
import type { QueueDecl } from '../../src/config/project-file.js';
import { desiredTopology, type Topology } from '../../src/config/topology.js';
import {
  MqError,
  NotFoundError,
  RefusedError,
  UnsupportedError,
  UsageError,
} from '../../src/errors.js';
import { decodeDeath } from '../../src/message/death.js';
import { stepper, uniqueName } from '../helpers/brokers.js';

export interface ContractSetup {
  /**
   * What of `deadLetters` the broker has, stated so that its absence is asserted rather than
   * skipped: `hold` (RabbitMQ: a move is a publish, then an ack), `holdAndMove` (local: moves in
   * one transaction), `none` (Kafka, until its dead-letter issue).
   */
  deadLetters: 'none' | 'hold' | 'holdAndMove';
  /** Deletes what one test declared (RabbitMQ: its queues and exchanges). */
  removeTopology?: (topology: Topology) => Promise<void>;
  /** Runs once after the suite (the local broker: removes its directory). */
  afterAll?: () => Promise<void>;
  /** release() counts a delivery on this broker (RabbitMQ quorum queues before 4.3). */
  releaseCounts?: boolean;
  /**
   * `queue` (default): RabbitMQ's model, every test below. `log` (Kafka): the tests that name a
   * reason in NOT_ON_A_LOG are skipped with that reason in their title, and the log tests run.
   */
  model?: 'queue' | 'log';
}

/**
 * What a log does not have, test by test: the queue-model tests that cannot mean anything on
 * Kafka, with the reason shown in the skipped test's title. Everything else runs on both models.
 */
const NOT_ON_A_LOG: Record<string, string> = {
  delivers: 'no exchanges, routing keys or AMQP properties; see "publishes records …"',
  unroutable: 'a record goes to a topic, never routed by key',
  direct: 'no default exchange or queues',
  retry: 'no per-message redelivery; consuming with a group is not built yet',
  release: 'no per-message redelivery; consuming with a group is not built yet',
  deadLetter: 'dead-lettering to a DLT needs a consuming group (not built yet)',
  deliveryLimit: 'Kafka keeps no delivery count',
  peekClassic: 'no browse rule on a log; see "peek() shows the last N records …"',
  peekQuorum: 'no browse rule on a log',
  tail: 'no tap queue; see "tail() from the end …"',
  stops: 'consuming with a group is not built yet; see "stops a tail …"',
  returns: 'no unsettled deliveries without a consuming group',
  releasedAfterEnd: 'no unsettled deliveries without a consuming group',
  describes: 'no ready/unacked/consumers; see "describes topics …"',
  missing: 'see "reports a missing topic …"',
  topology: 'no queue arguments; see "plans and applies topics …"',
};

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
  setup: ContractSetup,
): void {
  describe(`${name}: broker contract`, () => {
    let broker: BrokerAdapter;
    const declared: Topology[] = [];

    const model = setup.model ?? 'queue';
    /** A queue-model test: on a log, skipped with its reason from NOT_ON_A_LOG in the title. */
    const queueIt = (key: keyof typeof NOT_ON_A_LOG, title: string, test: () => Promise<void>) => {
      // A wrapper: each caller's test asserts, and a skip names its reason in the title.
      /* eslint-disable vitest/expect-expect, vitest/valid-title, vitest/no-disabled-tests */
      if (model === 'queue') it(title, test);
      else it.skip(`${title} [not on a log: ${NOT_ON_A_LOG[key]}]`, test);
      /* eslint-enable vitest/expect-expect, vitest/valid-title, vitest/no-disabled-tests */
    };

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

    async function publishConfirmed(
      route: Route,
      messages: OutboundMessage[],
    ): Promise<PublishReceipt[]> {
      const receipts = await broker.publish(route, messages);
      expect(receipts.map((r) => r.status)).toEqual(messages.map(() => 'confirmed'));
      return receipts;
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

    queueIt(
      'delivers',
      'delivers published messages in order with exact bytes, headers and properties',
      async () => {
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
      },
    );

    queueIt(
      'unroutable',
      'reports messages no queue takes as unroutable, and a missing exchange as not found',
      async () => {
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
          broker.publish(
            { kind: 'exchange', exchange: uniqueName('missing-ex'), routingKey: 'x' },
            [message(utf8('no such exchange'))],
          ),
        ).rejects.toBeInstanceOf(NotFoundError);
        await expectDepth(orders.queue, { ready: 0, unacked: 0 });
      },
    );

    queueIt('direct', 'publishes straight to a queue through the default exchange', async () => {
      const orders = await declareOrders();
      await publishConfirmed({ kind: 'queue', queue: orders.queue }, [message(utf8('direct'))]);
      const [got] = await take(orders.queue, 1, ack);
      expect(got).toMatchObject({ exchange: '', routingKey: orders.queue });
    });

    queueIt(
      'retry',
      'retry() returns the message counting a delivery, marked redelivered',
      async () => {
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
      },
    );

    queueIt('release', 'release() returns the message without counting a delivery', async () => {
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

    queueIt(
      'deadLetter',
      'deadLetter() moves the message to the dead-letter queue with a rejected death record',
      async () => {
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
      },
    );

    queueIt(
      'deliveryLimit',
      'dead-letters as delivery_limit after maxDeliveries deliveries, as RabbitMQ quorum queues do',
      async () => {
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
      },
    );

    /** A browse may set `redelivered` (RabbitMQ does, DESIGN.md §4); nothing else may change. */
    const asBrowsed = (messages: InboundMessage[]) =>
      messages.map((m) => ({ ...m, redelivered: null }));

    queueIt(
      'peekClassic',
      'peek() shows the same waiting messages of a classic queue twice and spends nothing',
      async () => {
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
      },
    );

    queueIt(
      'peekQuorum',
      'peek() of a quorum queue refuses where a browse counts a delivery, unless forced',
      async () => {
        const orders = await declareOrders({ maxDeliveries: 3 });
        await publishConfirmed(placed(orders), [message(utf8('count me'))]);
        const inspection = requireCapability(broker, 'inspection');
        const unforced = await inspection.peek(orders.queue, { limit: 10 }).then(
          () => 'browsed',
          (error: unknown) => (error instanceof RefusedError ? `refused: ${error.message}` : error),
        );
        expect(unforced).toMatch(
          setup.releaseCounts
            ? /^refused: .*x-delivery-count \+ 1.*after 3 deliveries/
            : /^browsed$/,
        );
        const spent = setup.releaseCounts ? 1 : 0;
        const [browsed] = await inspection.peek(orders.queue, { limit: 10, force: true });
        expect(browsed?.deliveryCount).toBe(0);
        await expectDepth(orders.queue, { ready: 1, unacked: 0 });

        const [next] = await take(orders.queue, 1, ack);
        expect(next).toMatchObject({ id: browsed!.id, deliveryCount: spent });
      },
    );

    queueIt(
      'tail',
      'tail() sees a message published after onReady while the queue keeps it',
      async () => {
        const orders = await declareOrders();
        const controller = new AbortController();
        const timeout = setTimeout(() => controller.abort(), WAIT_MS);
        const sent = message(EXACT_JSON, { headers: TYPED_HEADERS });
        const seen: InboundMessage[] = [];
        let published: Promise<unknown> | undefined;
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
      },
    );

    queueIt(
      'stops',
      'stops a consumer within 2 s of an abort and returns what it did not settle',
      async () => {
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
      },
    );

    queueIt(
      'returns',
      'returns unsettled messages when the caller breaks out of for-await',
      async () => {
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
      },
    );

    queueIt(
      'releasedAfterEnd',
      'lets a delivery be released after its consumer ended, but no longer acked',
      async () => {
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
      },
    );

    queueIt('describes', 'describes queues and lists them by pattern', async () => {
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

    queueIt(
      'missing',
      'reports a missing queue as not found, suggesting the near miss',
      async () => {
        const orders = await declareOrders();
        const typo = `${orders.queue}x`;
        const inspection = requireCapability(broker, 'inspection');
        await expect(inspection.describe(typo)).rejects.toThrow(
          new RegExp(`did you mean "${orders.queue}"`),
        );
        await expect(inspection.describe(typo)).rejects.toBeInstanceOf(NotFoundError);
        await expect(inspection.peek(typo, { limit: 1 })).rejects.toBeInstanceOf(NotFoundError);
        const consuming = (async () => {
          for await (const delivery of broker.consume(typo, {
            signal: AbortSignal.timeout(WAIT_MS),
          }))
            await delivery.release();
        })();
        await expect(consuming).rejects.toBeInstanceOf(NotFoundError);
      },
    );

    queueIt(
      'topology',
      'plans and applies a topology idempotently, and refuses a conflicting one',
      async () => {
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
      },
    );

    // Dead letters in bulk (DESIGN.md §7): what `mq dlq redrive` and `mq dlq purge` stand on.
    if (setup.deadLetters === 'none') {
      it('has no dead-letter handling, and says so when asked for it', () => {
        expect(broker.deadLetters).toBeUndefined();
        expect(() => requireCapability(broker, 'deadLetters')).toThrow(UnsupportedError);
      });
    } else {
      describe('dead letters', () => {
        const canMove = setup.deadLetters === 'holdAndMove';
        const bodyOf = (m: InboundMessage) => Buffer.from(m.body).toString();
        const idsOf = (messages: readonly OutboundMessage[]) =>
          messages.map((m) => m.properties!.messageId);

        /** The topology's classic dead-letter queue with `count` messages, `dead 0`, `dead 1`… */
        async function deadLetterQueue(
          count: number,
        ): Promise<Orders & { sent: OutboundMessage[] }> {
          const orders = await declareOrders();
          const sent = Array.from({ length: count }, (_, n) => message(utf8(`dead ${n}`)));
          if (count > 0) await publishConfirmed({ kind: 'queue', queue: orders.dlq }, sent);
          return { ...orders, sent };
        }

        /** A hold whose signal gives up after WAIT_MS, so that a stall fails instead of hanging. */
        function holdOf(queue: string, limit: number, window = 10) {
          const signal = AbortSignal.timeout(WAIT_MS);
          const holding = requireCapability(broker, 'deadLetters').hold(queue, {
            signal,
            limit,
            window,
          });
          return { holding, signal };
        }

        /** Everything the hold yields, in order, each passed to `each` as it comes; no stall. */
        async function drain(
          hold: { holding: Holding; signal: AbortSignal },
          each: (delivery: Delivery) => Promise<void> = () => Promise.resolve(),
        ): Promise<Delivery[]> {
          const held: Delivery[] = [];
          for await (const delivery of hold.holding) {
            held.push(delivery);
            await each(delivery);
          }
          expect(hold.signal.aborted, 'the hold stalled until its signal gave up').toBe(false);
          return held;
        }

        const heldIds = (held: readonly Delivery[]) => held.map((d) => d.message.id);

        it(`has hold()${canMove ? ' and move()' : ', and no move() (a move is a publish, then an ack)'}`, () => {
          const handling = requireCapability(broker, 'deadLetters');
          expect(typeof handling.hold).toBe('function');
          expect(typeof handling.move).toBe(canMove ? 'function' : 'undefined');
        });

        it('hold() yields the first `limit` messages in order, none published after it started', async () => {
          const dlq = await deadLetterQueue(4);
          const late = [message(utf8('late 0')), message(utf8('late 1'))];
          const hold = holdOf(dlq.dlq, 4, 2);
          const held = await drain(hold, async (delivery) => {
            if (delivery.message.id === dlq.sent[0]!.properties!.messageId) {
              await publishConfirmed({ kind: 'queue', queue: dlq.dlq }, late);
            }
          });
          expect(heldIds(held)).toEqual(idsOf(dlq.sent));
          expect(held.map((d) => bodyOf(d.message))).toEqual([
            'dead 0',
            'dead 1',
            'dead 2',
            'dead 3',
          ]);
          await hold.holding.close();
          await expectDepth(dlq.dlq, { ready: 6, unacked: 0 });

          const fewer = holdOf(dlq.dlq, 2);
          expect(heldIds(await drain(fewer))).toEqual(idsOf(dlq.sent.slice(0, 2)));
          await fewer.holding.close();
          const everything = await take(dlq.dlq, 6, ack);
          expect(everything.map((m) => m.id)).toEqual(idsOf([...dlq.sent, ...late]));
        });

        it('ack() removes a held message, release() returns it in place, once each', async () => {
          // The fourth stays in the queue: a released message goes back before it, not behind.
          const dlq = await deadLetterQueue(4);
          const hold = holdOf(dlq.dlq, 3);
          const [acked, released, kept] = await drain(hold);
          await acked!.ack();
          await released!.release();
          await expect(acked!.ack()).rejects.toBeInstanceOf(MqError);
          await expect(released!.ack()).rejects.toBeInstanceOf(MqError);
          await hold.holding.close();
          // Given back by close(): releasing it is a no-op, removing it no longer possible.
          await expect(kept!.release()).resolves.toBeUndefined();
          await expect(kept!.ack()).rejects.toBeInstanceOf(MqError);
          await expectDepth(dlq.dlq, { ready: 3, unacked: 0 });
          const left = await take(dlq.dlq, 3, ack);
          expect(left.map((m) => m.id)).toEqual(idsOf(dlq.sent.slice(1)));
        });

        // A quorum queue too: RabbitMQ refuses it a channel-wide prefetch.
        it.each(['classic', 'quorum'] as const)(
          'does not stall on messages held unsettled far beyond the window (%s queue)',
          async (type) => {
            const window = 4;
            const orders = await declareOrders();
            const queue = type === 'classic' ? orders.dlq : orders.queue;
            const sent = Array.from({ length: 3 * window }, (_, n) => message(utf8(`held ${n}`)));
            await publishConfirmed({ kind: 'queue', queue }, sent);
            const hold = holdOf(queue, sent.length, window);
            const held = await drain(hold);
            expect(heldIds(held)).toEqual(idsOf(sent));
            // The iteration is over, the hold is not: settling still works until close().
            await Promise.all(held.map((delivery) => delivery.ack()));
            await hold.holding.close();
            await expectDepth(queue, { ready: 0, unacked: 0 });
          },
        );

        it('returns every unsettled message, in place and intact, when the loop ends early', async () => {
          const dlq = await deadLetterQueue(0);
          const sent = [
            message(EXACT_JSON, { headers: TYPED_HEADERS }),
            message(NOT_UTF8),
            message(utf8('third')),
            message(utf8('fourth')),
            message(utf8('fifth')),
          ];
          await publishConfirmed({ kind: 'queue', queue: dlq.dlq }, sent);
          const hold = holdOf(dlq.dlq, sent.length, 2);
          const taken: Delivery[] = [];
          for await (const delivery of hold.holding) {
            taken.push(delivery);
            if (taken.length === 3) break;
          }
          expect(heldIds(taken)).toEqual(idsOf(sent.slice(0, 3)));
          await hold.holding.close();
          await expectDepth(dlq.dlq, { ready: 5, unacked: 0 });
          const back = await take(dlq.dlq, 5, ack);
          expect(back.map((m) => m.id)).toEqual(idsOf(sent));
          back.forEach((got, index) => {
            expect(Buffer.from(got.body).equals(sent[index]!.body)).toBe(true);
          });
          expect(back[0]!.headers).toEqual(TYPED_HEADERS);
        });

        it('stops taking within 2 s of an abort', async () => {
          const dlq = await deadLetterQueue(3);
          const controller = new AbortController();
          const holding = requireCapability(broker, 'deadLetters').hold(dlq.dlq, {
            signal: controller.signal,
            limit: 3,
            window: 1,
          });
          const held: Delivery[] = [];
          let abortedAt = 0;
          for await (const delivery of holding) {
            held.push(delivery);
            abortedAt = performance.now();
            controller.abort();
          }
          expect(performance.now() - abortedAt).toBeLessThan(2_000);
          expect(heldIds(held)).toEqual(idsOf(dlq.sent.slice(0, 1)));
          await holding.close();
          await expectDepth(dlq.dlq, { ready: 3, unacked: 0 });
        });

        it('ends at once when the queue runs out before `limit`, and reports a missing queue', async () => {
          const dlq = await deadLetterQueue(2);
          const started = performance.now();
          const hold = holdOf(dlq.dlq, 10);
          expect(heldIds(await drain(hold))).toEqual(idsOf(dlq.sent));
          await hold.holding.close();
          const empty = holdOf(dlq.queue, 10);
          expect(await drain(empty)).toEqual([]);
          await empty.holding.close();
          expect(performance.now() - started).toBeLessThan(2_000);

          const missing = holdOf(`${dlq.dlq}x`, 1);
          await expect(drain(missing)).rejects.toBeInstanceOf(NotFoundError);
          await missing.holding.close();
        });

        it.runIf(canMove)(
          'move() publishes each held message to its route and removes it together; an unroutable one stays',
          async () => {
            const dlq = await deadLetterQueue(3);
            const hold = holdOf(dlq.dlq, 3);
            const held = await drain(hold);
            const moved = (delivery: Delivery): OutboundMessage => ({
              body: delivery.message.body,
              headers: { 'mq-redrive-count': 1 },
              properties: { messageId: delivery.message.id },
            });
            const routes: Route[] = [
              { kind: 'queue', queue: dlq.queue },
              placed(dlq),
              { kind: 'queue', queue: uniqueName('missing') },
            ];
            const receipts = await requireCapability(broker, 'deadLetters').move!(
              held.map((delivery, index) => ({
                delivery,
                route: routes[index]!,
                message: moved(delivery),
              })),
            );
            expect(receipts.map((r) => [r.messageId, r.status])).toEqual([
              [held[0]!.message.id, 'confirmed'],
              [held[1]!.message.id, 'confirmed'],
              [held[2]!.message.id, 'unroutable'],
            ]);
            await hold.holding.close();
            await expectDepth(dlq.dlq, { ready: 1, unacked: 0 });
            const arrived = await take(dlq.queue, 2, ack);
            expect(arrived.map((m) => [m.id, bodyOf(m), m.headers?.['mq-redrive-count']])).toEqual([
              [held[0]!.message.id, 'dead 0', 1],
              [held[1]!.message.id, 'dead 1', 1],
            ]);
            const [stayed] = await take(dlq.dlq, 1, ack);
            expect(stayed?.id).toBe(held[2]!.message.id);
          },
        );

        it.runIf(canMove)(
          'move() of a message no longer held fails the whole batch and changes nothing',
          async () => {
            const dlq = await deadLetterQueue(2);
            const hold = holdOf(dlq.dlq, 2);
            const [first, second] = await drain(hold);
            await second!.ack();
            const moving = requireCapability(broker, 'deadLetters').move!(
              [first!, second!].map((delivery) => ({
                delivery,
                route: { kind: 'queue', queue: dlq.queue },
                message: { body: delivery.message.body },
              })),
            );
            await expect(moving).rejects.toBeInstanceOf(MqError);
            await expect(moving).rejects.not.toBeInstanceOf(NotFoundError);
            await hold.holding.close();
            await expectDepth(dlq.queue, { ready: 0, unacked: 0 });
            await expectDepth(dlq.dlq, { ready: 1, unacked: 0 });
            const [back] = await take(dlq.dlq, 1, ack);
            expect(back?.id).toBe(first!.message.id);
          },
        );
      });
    }

    // The log model (Kafka): the same promises, in a log's terms.
    if (model !== 'log') return;

    /** A uniquely named topic (and its dead-letter topic), declared through topology.apply. */
    async function declareTopic(partitions = 1): Promise<string> {
      const name = uniqueName('contract-topic');
      const topology = topicTopology(name, partitions);
      declared.push(topology);
      await requireCapability(broker, 'topology').apply(topology);
      return name;
    }

    function topicTopology(name: string, partitions: number): Topology {
      return desiredTopology({
        path: 'contract',
        exchanges: [],
        queues: [],
        topics: [{ name, partitions, deadLetterTopic: `${name}-dlt` }],
        events: {},
      });
    }

    const toTopic = (topic: string, partition?: number): Route =>
      partition === undefined ? { kind: 'topic', topic } : { kind: 'topic', topic, partition };

    /** Reads `count` records with tail() from `from`, or what came within WAIT_MS. */
    async function read(
      topic: string,
      count: number,
      options: Partial<TailOptions> = {},
    ): Promise<InboundMessage[]> {
      const seen: InboundMessage[] = [];
      const signal = AbortSignal.timeout(WAIT_MS);
      const records = requireCapability(broker, 'inspection').tail(topic, {
        from: { kind: 'beginning' },
        ...options,
        signal,
      });
      for await (const record of records) {
        seen.push(record);
        if (seen.length === count) break;
      }
      return seen;
    }

    /** Kafka headers are bytes: what was sent, as the bytes a reader gets (arrays for repeated keys). */
    const LOG_HEADERS: Headers = {
      text: 'order.placed',
      bytes: Buffer.from([0x00, 0xff, 0x10]),
      repeated: ['first', 'second'],
    };
    const hex = (value: HeaderValue): unknown =>
      Array.isArray(value)
        ? value.map(hex)
        : typeof value === 'string' || value instanceof Uint8Array
          ? Buffer.from(value).toString('hex')
          : value;
    const asBytes = (headers: Headers | undefined) =>
      Object.fromEntries(Object.entries(headers ?? {}).map(([key, value]) => [key, hex(value)]));

    it('publishes records with exact bytes, keys and headers, each receipt naming its position', async () => {
      const topic = await declareTopic(3);
      const sent = [
        message(EXACT_JSON, { key: utf8('ord-1'), headers: LOG_HEADERS }),
        message(NOT_UTF8, { key: Buffer.from([0xff, 0x00]) }),
        message(utf8('third')),
      ];
      const receipts = await broker.publish(toTopic(topic), sent);
      expect(receipts.map((r) => r.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
      for (const receipt of receipts) {
        expect(receipt.messageId).toBe(`${topic}/${receipt.partition}/${receipt.offset}`);
        expect(typeof receipt.confirmLatencyMs).toBe('number');
      }

      const received = await read(topic, 3);
      const byId = new Map(received.map((m) => [m.id, m]));
      receipts.forEach((receipt, index) => {
        const got = byId.get(receipt.messageId);
        const want = sent[index]!;
        expect(got).toMatchObject({
          source: topic,
          exchange: null,
          routingKey: null,
          partition: receipt.partition,
          offset: receipt.offset,
          redelivered: false,
          deliveryCount: null,
          death: null,
        });
        expect(Buffer.from(got!.body).equals(want.body)).toBe(true);
        expect(got!.key === undefined ? undefined : Buffer.from(got!.key)).toEqual(
          want.key === undefined ? undefined : Buffer.from(want.key),
        );
        expect(asBytes(got!.headers)).toEqual(asBytes(want.headers ?? {}));
      });
    });

    it('sends records of one key to one partition in order, and --partition where it says', async () => {
      const topic = await declareTopic(3);
      const keyed = [1, 2, 3, 4].map((n) => message(utf8(`n${n}`), { key: utf8('same-key') }));
      const receipts = await broker.publish(toTopic(topic), keyed);
      expect(new Set(receipts.map((r) => r.partition)).size).toBe(1);
      const offsets = receipts.map((r) => BigInt(r.offset!));
      expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + BigInt(i)));
      const [pinned] = await broker.publish(toTopic(topic, 2), [message(utf8('pinned'))]);
      expect(pinned).toMatchObject({ status: 'confirmed', partition: 2 });
      await expect(broker.publish(toTopic(topic, 7), [message(utf8('nowhere'))])).rejects.toThrow(
        /no partition 7/,
      );
    });

    it('peek() shows the last N records, the same ones twice, and an empty topic as none', async () => {
      const topic = await declareTopic(1);
      const inspection = requireCapability(broker, 'inspection');
      expect(await inspection.peek(topic, { limit: 5 })).toEqual([]);
      await publishConfirmed(
        toTopic(topic),
        [1, 2, 3, 4, 5].map((n) => message(utf8(`record ${n}`))),
      );
      const first = await inspection.peek(topic, { limit: 3 });
      expect(first.map((m) => Buffer.from(m.body).toString())).toEqual([
        'record 3',
        'record 4',
        'record 5',
      ]);
      expect(await inspection.peek(topic, { limit: 3 })).toEqual(first);
      expect(await inspection.peek(topic, { limit: 50 })).toHaveLength(5);
    });

    it('tail() from the end sees only records written after onReady, and the log keeps them', async () => {
      const topic = await declareTopic(2);
      await publishConfirmed(toTopic(topic), [message(utf8('before'))]);
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(), WAIT_MS);
      let published: Promise<unknown> | undefined;
      const seen: InboundMessage[] = [];
      const tail = requireCapability(broker, 'inspection').tail(topic, {
        signal: controller.signal,
        onReady: () => {
          published = publishConfirmed(toTopic(topic), [message(utf8('after'))]);
        },
      });
      for await (const record of tail) {
        seen.push(record);
        break;
      }
      clearTimeout(timeout);
      await published;
      expect(seen.map((m) => Buffer.from(m.body).toString())).toEqual(['after']);
      const kept = await requireCapability(broker, 'inspection').peek(topic, { limit: 10 });
      expect(kept.map((m) => Buffer.from(m.body).toString()).sort()).toEqual(['after', 'before']);
    });

    it('tail() replays from the beginning, an offset or a time, on one partition or all', async () => {
      const topic = await declareTopic(2);
      const t0 = Date.now() - 60_000;
      await publishConfirmed(
        toTopic(topic, 0),
        [0, 1, 2].map((n) =>
          message(utf8(`p0-${n}`), { properties: { timestamp: t0 + n * 10_000 } }),
        ),
      );
      await publishConfirmed(toTopic(topic, 1), [message(utf8('p1-0'))]);
      const bodies = (records: InboundMessage[]) =>
        records.map((m) => Buffer.from(m.body).toString());

      expect(bodies(await read(topic, 4)).sort()).toEqual(['p0-0', 'p0-1', 'p0-2', 'p1-0']);
      expect(bodies(await read(topic, 3, { partition: 0 }))).toEqual(['p0-0', 'p0-1', 'p0-2']);
      expect(
        bodies(await read(topic, 2, { partition: 0, from: { kind: 'offset', offset: '1' } })),
      ).toEqual(['p0-1', 'p0-2']);
      const byTime = await read(topic, 1, {
        partition: 0,
        from: { kind: 'time', timestamp: t0 + 15_000 },
      });
      expect(bodies(byTime)).toEqual(['p0-2']);
      expect(byTime[0]!.timestamp).toBe(t0 + 20_000);
    });

    it('stops a tail within 2 s of an abort', async () => {
      const topic = await declareTopic(1);
      const controller = new AbortController();
      let ready: () => void = () => {};
      const subscribed = new Promise<void>((resolve) => (ready = resolve));
      const loop = (async () => {
        const tail = requireCapability(broker, 'inspection').tail(topic, {
          signal: controller.signal,
          onReady: ready,
        });
        for await (const record of tail) void record;
      })();
      await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
      const abortedAt = performance.now();
      controller.abort();
      await loop;
      expect(performance.now() - abortedAt).toBeLessThan(2_000);
    });

    it('reports a missing topic as not found, suggesting the near miss, and creates nothing', async () => {
      const topic = await declareTopic(1);
      const typo = `${topic}x`;
      const inspection = requireCapability(broker, 'inspection');
      await expect(inspection.describe(typo)).rejects.toThrow(
        new RegExp(`did you mean "${topic}"`),
      );
      await expect(inspection.describe(typo)).rejects.toBeInstanceOf(NotFoundError);
      await expect(inspection.peek(typo, { limit: 1 })).rejects.toBeInstanceOf(NotFoundError);
      const tailing = (async () => {
        const signal = AbortSignal.timeout(WAIT_MS);
        for await (const record of inspection.tail(typo, { signal })) void record;
      })();
      await expect(tailing).rejects.toBeInstanceOf(NotFoundError);
      await expect(broker.publish(toTopic(typo), [message(utf8('x'))])).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await inspection.list(`${typo}*`)).toEqual([]);
    });

    it('plans and applies topics idempotently, and refuses a conflicting one', async () => {
      const name = uniqueName('contract-topic');
      const wanted = topicTopology(name, 2);
      declared.push(wanted);
      const topology = requireCapability(broker, 'topology');
      const planned = await topology.plan(wanted);
      expect(planned).toEqual([
        { action: 'create', kind: 'topic', name, detail: null },
        { action: 'create', kind: 'topic', name: `${name}-dlt`, detail: null },
      ]);
      expect(await topology.apply(wanted)).toEqual(planned);
      const unchanged = planned.map((c) => ({ ...c, action: 'unchanged' }));
      expect(await topology.plan(wanted)).toEqual(unchanged);
      expect(await topology.apply(wanted)).toEqual(unchanged);

      const conflicting = topicTopology(name, 3);
      expect(await topology.plan(conflicting)).toContainEqual({
        action: 'conflict',
        kind: 'topic',
        name,
        detail: 'partitions: live 2, declared 3',
      });
      const refusal = topology.apply(conflicting);
      await expect(refusal).rejects.toBeInstanceOf(RefusedError);
      await expect(refusal).rejects.toThrow(/partitions: live 2, declared 3/);
    });

    it('describes topics with their partitions and offsets, and lists them by pattern', async () => {
      const topic = await declareTopic(2);
      await publishConfirmed(toTopic(topic, 1), [message(utf8('a')), message(utf8('b'))]);
      const inspection = requireCapability(broker, 'inspection');
      const info = await inspection.describe(topic);
      expect(info).toMatchObject({
        name: topic,
        kind: 'topic',
        type: 'log',
        ready: 2,
        unacked: null,
        deadLetterQueue: `${topic}-dlt`,
        maxDeliveries: null,
        sampled: false,
        partitions: [
          { partition: 0, earliestOffset: '0', endOffset: '0' },
          { partition: 1, earliestOffset: '0', endOffset: '2' },
        ],
      });
      expect(await inspection.list(`${topic}*`)).toMatchObject([
        { name: topic, ready: 2 },
        { name: `${topic}-dlt`, ready: 0, deadLetterQueue: null },
      ]);
    });

    /** Takes `count` records through `group`, settling each with `settle` (null: leave it). */
    async function consumeGroup(
      topic: string,
      group: string,
      count: number,
      settle: (delivery: Delivery, index: number) => Promise<void> | null,
    ): Promise<InboundMessage[]> {
      const taken: InboundMessage[] = [];
      const signal = AbortSignal.timeout(WAIT_MS * 2);
      for await (const delivery of broker.consume(topic, { signal, group, prefetch: 10 })) {
        taken.push(delivery.message);
        await settle(delivery, taken.length - 1);
        if (taken.length === count) break;
      }
      return taken;
    }
    const bodies = (records: InboundMessage[]) =>
      records.map((m) => Buffer.from(m.body).toString());

    it('commits only past records settled in order: with the second acked, the first comes again', async () => {
      const topic = await declareTopic(1);
      const group = uniqueName('contract-group');
      await publishConfirmed(toTopic(topic), [message(utf8('first')), message(utf8('second'))]);
      // Two received, only the second acked, then the consumer is gone (as after a crash).
      const taken = await consumeGroup(topic, group, 2, (delivery, index) =>
        index === 1 ? delivery.ack() : null,
      );
      expect(bodies(taken)).toEqual(['first', 'second']);
      const again = await consumeGroup(topic, group, 2, (delivery) => delivery.ack());
      expect(bodies(again)).toEqual(['first', 'second']);
      await publishConfirmed(toTopic(topic), [message(utf8('third'))]);
      expect(bodies(await consumeGroup(topic, group, 1, (d) => d.ack()))).toEqual(['third']);
    });

    it('a group that never committed starts at the earliest record; retry() reads it again', async () => {
      const topic = await declareTopic(1);
      const group = uniqueName('contract-group');
      await publishConfirmed(toTopic(topic), [message(utf8('a')), message(utf8('b'))]);
      const taken = await consumeGroup(topic, group, 3, (delivery, index) =>
        index === 0 ? delivery.retry() : delivery.ack(),
      );
      expect(bodies(taken)).toEqual(['a', 'a', 'b']);
    });

    it('deadLetter() writes the record to the dead-letter topic with Spring headers, then settles it', async () => {
      const topic = await declareTopic(1);
      const group = uniqueName('contract-group');
      const [receipt] = await publishConfirmed(toTopic(topic), [
        message(utf8('poison'), { key: utf8('k1'), headers: { trace: utf8('t-1') } }),
      ]);
      await consumeGroup(topic, group, 1, (delivery) => delivery.deadLetter());
      const [dead] = await read(`${topic}-dlt`, 1);
      expect(Buffer.from(dead!.body).toString()).toBe('poison');
      expect(Buffer.from(dead!.key!).toString()).toBe('k1');
      expect(Buffer.from(dead!.headers!.trace as Uint8Array).toString()).toBe('t-1');
      expect(decodeDeath(dead!.headers!)).toMatchObject({
        originalTopic: topic,
        originalPartition: receipt!.partition,
        originalOffset: receipt!.offset,
        originalConsumerGroup: group,
        exception: 'mq.Rejected: rejected with mq consume',
      });
      // Settled: the group has moved past it.
      await publishConfirmed(toTopic(topic), [message(utf8('next'))]);
      expect(bodies(await consumeGroup(topic, group, 1, (d) => d.ack()))).toEqual(['next']);
    });

    it('refuses to consume without a consumer group', async () => {
      const topic = await declareTopic(1);
      const consuming = (async () => {
        for await (const delivery of broker.consume(topic, {
          signal: AbortSignal.timeout(WAIT_MS),
        }))
          await delivery.release();
      })();
      await expect(consuming).rejects.toBeInstanceOf(UsageError);
    });
  });
}
