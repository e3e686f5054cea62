/**
 * One process of `mq bench`'s story (DESIGN.md §8), forked by the bench with an IPC channel:
 *
 * - a service: an HTTP server on loopback whose POST answers after the service's work time (503
 *   while it is down). In async mode it consumes its own queue instead, as `concurrency`
 *   instances each working on one message and acking it when the work is done; while down it
 *   does not consume, so its messages wait.
 * - the order service: an HTTP server whose POST /orders, in sync mode, calls the services one
 *   after another and answers when all have (502 if one failed); in async mode it publishes
 *   `order.placed` with a confirm and answers. Publishes that arrive together go in one call, which
 *   the embedded broker commits in one transaction.
 */
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { openBroker } from '../brokers/open.js';
import type { BrokerAdapter, OutboundMessage } from '../brokers/types.js';
import { closeConnections, post } from './http.js';
import type {
  OrderStart,
  ServiceStart,
  WorkerCommand,
  WorkerReport,
  WorkerStart,
} from './protocol.js';

const ORDER = Buffer.from('{"eventType":"order.placed","orderId":"bench"}');

function report(message: WorkerReport): void {
  process.send?.(message);
}

/** An HTTP server on loopback answering every request with the status `handle` resolves to. */
async function listen(
  handle: () => Promise<number>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    handle().then(
      (status) => response.writeHead(status).end(),
      () => response.writeHead(500).end(),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function openBenchBroker(start: WorkerStart): Promise<BrokerAdapter> {
  const broker = await openBroker(start.broker, { connectTimeoutMs: 10_000, project: null });
  await broker.connect();
  return broker;
}

async function runService(
  start: ServiceStart,
  begun: Promise<number | null>,
  stopped: AbortSignal,
): Promise<void> {
  let downUntil: number | null = null;
  void begun.then((until) => (downUntil = until));
  const isDown = () => downUntil !== null && Date.now() < downUntil;
  let processed = 0;
  const done = () => report({ kind: 'processed', count: (processed += 1) });
  const server = await listen(async () => {
    if (isDown()) return 503;
    await sleep(start.workMs);
    done();
    return 200;
  });
  let consuming: Promise<void> = Promise.resolve();
  let broker: BrokerAdapter | null = null;
  if (start.mode === 'async') {
    broker = await openBenchBroker(start);
    const { source, group } = start.topology.sources[start.name]!;
    consuming = begun.then((until) => consume(broker!, source, group, until, start, stopped, done));
  }
  report({ kind: 'ready', url: server.url });
  await consuming;
  await untilAborted(stopped);
  await server.close();
  await broker?.close();
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function consume(
  broker: BrokerAdapter,
  source: string,
  group: string | undefined,
  downUntil: number | null,
  start: ServiceStart,
  stopped: AbortSignal,
  done: () => void,
): Promise<void> {
  if (downUntil !== null) {
    await sleep(Math.max(0, downUntil - Date.now()), undefined, { signal: stopped }).catch(
      () => undefined,
    );
  }
  // `concurrency` consumers, each working on one message at a time and acking it before it takes
  // the next, as that many instances of the service would.
  const instance = async () => {
    for await (const delivery of broker.consume(source, { signal: stopped, prefetch: 1, group })) {
      await sleep(start.workMs);
      await delivery.ack();
      done();
    }
  };
  await Promise.all(Array.from({ length: start.concurrency }, instance));
}

async function runOrders(start: OrderStart, stopped: AbortSignal): Promise<void> {
  const broker = start.mode === 'async' ? await openBenchBroker(start) : null;
  const publish = broker === null ? null : batchedPublisher(broker, start);
  const server = await listen(async () => {
    if (publish !== null) return (await publish()) ? 202 : 502;
    for (const service of start.services) {
      if ((await post(service)) !== 200) return 502;
    }
    return 200;
  });
  report({ kind: 'ready', url: server.url });
  await untilAborted(stopped);
  await server.close();
  closeConnections();
  await broker?.close();
}

/**
 * Orders that come in together, or while a publish is under way, go together in one publish: one
 * confirm (one transaction on the embedded broker) for all of them (DESIGN.md §8: the order
 * service group-commits concurrent publishes).
 */
function batchedPublisher(broker: BrokerAdapter, start: OrderStart): () => Promise<boolean> {
  const { route } = start.topology;
  let waiting: ((confirmed: boolean) => void)[] = [];
  let publishing = false;
  const message: OutboundMessage = {
    body: ORDER,
    properties: { contentType: 'application/json', deliveryMode: 2 },
  };
  const drain = async () => {
    publishing = true;
    // The embedded broker publishes synchronously: without this turn of the event loop the first
    // order would go alone, before the orders that came in with it were even read.
    await setImmediate();
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const receipts = await broker.publish(
          route,
          batch.map(() => message),
        );
        batch.forEach((resolve, index) => resolve(receipts[index]?.status === 'confirmed'));
      } catch {
        for (const resolve of batch) resolve(false);
      }
    }
    publishing = false;
  };
  return () =>
    new Promise<boolean>((resolve) => {
      waiting.push(resolve);
      if (!publishing) void drain();
    });
}

process.once('message', (start: WorkerStart) => {
  const stop = new AbortController();
  // Every consumer of the service listens to it: `concurrency` of them, more than Node's default 10.
  setMaxListeners(0, stop.signal);
  let begin: (downUntil: number | null) => void = () => {};
  const begun = new Promise<number | null>((resolve) => (begin = resolve));
  process.on('message', (command: WorkerCommand) => {
    if (command.kind === 'begin') begin(command.downUntil);
    else stop.abort();
  });
  const running =
    start.role === 'service'
      ? runService(start, begun, stop.signal)
      : runOrders(start, stop.signal);
  running.then(
    () => process.disconnect(),
    (error: unknown) => {
      report({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
      process.exitCode = 1;
      process.disconnect();
    },
  );
});
