/**
 * `mq bench`'s harness (DESIGN.md §8): per mode, the order service and the three services as
 * processes of their own (worker.ts), `orders` orders from `concurrency` clients (closed loop) or
 * on a schedule (open loop), latencies in an HdrHistogram (Node's `perf_hooks.createHistogram`,
 * the HdrHistogram C library), then, in async mode, the wait until every service has worked
 * through every order.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createHistogram } from 'node:perf_hooks';
import { benchBroker, withBroker } from './broker.js';
import type { BrokerSpec } from '../config/broker-url.js';
import { requireCapability } from '../brokers/types.js';
import type { Topology } from '../config/topology.js';
import { MqError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { closeConnections, post } from './http.js';
import type {
  BenchMode,
  BenchTopology,
  WorkerCommand,
  WorkerReport,
  WorkerStart,
} from './protocol.js';

/** The story's services and how long each takes, unscaled (DESIGN.md §8). */
export const DEFAULT_SERVICES: Readonly<Record<string, number>> = {
  email: 2000,
  sms: 1000,
  inventory: 500,
};

export interface BenchOptions {
  orders: number;
  /** Clients of the closed loop; also how many messages each service works on at once. */
  concurrency: number;
  /** Orders a second on a fixed schedule (open loop), or null for the closed loop. */
  rate: number | null;
  timeScale: number;
  /** Work time per service, unscaled, in calling order. */
  services: Record<string, number>;
  /** A service that is down from the start of the load for `recoverAfterMs` of wall-clock time. */
  down: string | null;
  recoverAfterMs: number | null;
  /** The broker to run async mode on: an embedded one means a throwaway one of the bench's own. */
  broker: BrokerSpec;
  signal: AbortSignal;
}

export interface ModeResult {
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  throughputPerSec: number;
  completed: number;
  errors: number;
  /** From the first order until every service had worked on every accepted order. */
  allProcessedMs: number | null;
  /** Pieces of work each service finished. */
  processed: Record<string, number>;
}

/** A mode's figures and every order's latency behind them (for histograms). */
export interface ModeRun {
  result: ModeResult;
  latenciesMs: number[];
}

const ORDER_PLACED = 'order.placed';
/** A server broker deletes a bench queue unused this long, should the bench die before it does. */
const QUEUE_EXPIRY_MS = 10 * 60_000;

/** How long to wait, after the load, for the services to work through what is queued. */
const DRAIN_TIMEOUT_MS = 120_000;

export async function runMode(mode: BenchMode, options: BenchOptions): Promise<ModeRun> {
  const { spec: broker, throwaway, discard } = benchBroker(options.broker);
  const { bench: topology, declared } = benchTopology(
    broker.kind,
    Object.keys(options.services),
    options.concurrency,
  );
  const workers: Worker[] = [];
  let applied = false;
  try {
    // Sync mode has no broker: the order service calls the services.
    if (mode === 'async') {
      await withBroker(broker, (adapter) => requireCapability(adapter, 'topology').apply(declared));
      applied = true;
    }
    for (const [name, ms] of Object.entries(options.services)) {
      workers.push(
        await Worker.start({
          role: 'service',
          name,
          mode,
          workMs: ms * options.timeScale,
          concurrency: options.concurrency,
          broker,
          topology,
        }),
      );
    }
    const services = workers.map((worker) => worker.url);
    const order = await Worker.start({ role: 'order', mode, services, broker, topology });
    workers.push(order);

    const started = performance.now();
    const downUntil = options.down === null ? null : Date.now() + (options.recoverAfterMs ?? 0);
    workers.forEach((worker, index) =>
      worker.send({
        kind: 'begin',
        downUntil: Object.keys(options.services)[index] === options.down ? downUntil : null,
      }),
    );
    const orders = `${order.url}orders`;
    const load = await (options.rate === null
      ? closedLoop(orders, options)
      : openLoop(orders, options.rate, options));
    const loadMs = performance.now() - started;
    const serviceWorkers = workers.slice(0, -1);
    const expected = mode === 'async' ? load.completed : null;
    const drained =
      expected === null
        ? true
        : await waitFor(
            () => serviceWorkers.every((worker) => worker.processed >= expected),
            DRAIN_TIMEOUT_MS + (options.recoverAfterMs ?? 0),
            options.signal,
          );
    const allProcessedMs = drained ? performance.now() - started : null;
    return {
      result: {
        latencyMs: load.latencyMs,
        throughputPerSec: round((load.completed / loadMs) * 1000),
        completed: load.completed,
        errors: load.errors,
        allProcessedMs: allProcessedMs === null ? null : round(allProcessedMs),
        processed: Object.fromEntries(
          Object.keys(options.services).map((name, index) => [name, workers[index]!.processed]),
        ),
      },
      latenciesMs: load.latenciesMs,
    };
  } finally {
    closeConnections();
    await Promise.all(workers.map((worker) => worker.stop()));
    if (throwaway) discard();
    else if (applied) await remove(broker, declared);
  }
}

/**
 * The run's own names, `mq-bench-<id>`: on a queue broker an exchange and a classic queue per
 * service bound with `order.placed`; on Kafka a topic with a partition per consumer, and a consumer
 * group per service.
 */
function benchTopology(
  kind: BrokerSpec['kind'],
  services: readonly string[],
  partitions: number,
): { bench: BenchTopology; declared: Topology } {
  const run = `mq-bench-${randomUUID().slice(0, 8)}`;
  if (kind === 'kafka') {
    return {
      bench: {
        route: { kind: 'topic', topic: run },
        sources: Object.fromEntries(
          services.map((name) => [name, { source: run, group: `${run}.${name}` }]),
        ),
      },
      declared: {
        exchanges: [],
        queues: [],
        bindings: [],
        topics: [{ name: run, partitions, retentionMs: null, deadLetterTopic: null }],
      },
    };
  }
  const queues = services.map((name) => `${run}.${name}`);
  return {
    bench: {
      route: { kind: 'exchange', exchange: run, routingKey: ORDER_PLACED },
      sources: Object.fromEntries(
        services.map((name, index) => [name, { source: queues[index]!, group: undefined }]),
      ),
    },
    declared: {
      exchanges: [{ name: run, type: 'topic', durable: false }],
      // On a server, expiring after QUEUE_EXPIRY_MS unused: nothing stays if the bench is killed.
      queues: queues.map((name) => ({
        name,
        arguments: {
          'x-queue-type': 'classic',
          ...(kind === 'local' ? {} : { 'x-expires': QUEUE_EXPIRY_MS }),
        },
      })),
      bindings: queues.map((queue) => ({ exchange: run, queue, routingKey: ORDER_PLACED })),
      topics: [],
    },
  };
}

async function remove(spec: BrokerSpec, declared: Topology): Promise<void> {
  await withBroker(spec, async (broker) => {
    await requireCapability(broker, 'topology').remove?.(declared);
  });
}

interface Load {
  latencyMs: ModeResult['latencyMs'];
  latenciesMs: number[];
  completed: number;
  errors: number;
}

/** Orders sent and answered, with each order's latency. */
class LoadRecorder {
  private readonly histogram = createHistogram();
  readonly latenciesMs: number[] = [];
  completed = 0;
  errors = 0;

  /** `since`: when the order was meant to go (open loop) or went (closed loop). */
  record(since: number, status: number): void {
    const ms = performance.now() - since;
    this.latenciesMs.push(ms);
    // Microseconds: the histogram records integers.
    this.histogram.record(Math.max(1, Math.round(ms * 1000)));
    if (status >= 200 && status < 300) this.completed += 1;
    else this.errors += 1;
  }

  load(): Load {
    const ms = (microseconds: number) => round(microseconds / 1000);
    const empty = this.latenciesMs.length === 0;
    const percentile = (p: number) => (empty ? 0 : ms(this.histogram.percentile(p)));
    return {
      latencyMs: {
        p50: percentile(50),
        p90: percentile(90),
        p99: percentile(99),
        p999: percentile(99.9),
        max: empty ? 0 : ms(this.histogram.max),
      },
      latenciesMs: this.latenciesMs,
      completed: this.completed,
      errors: this.errors,
    };
  }
}

/** `concurrency` clients, each sending its next order as soon as the last one was answered. */
async function closedLoop(url: string, options: BenchOptions): Promise<Load> {
  const recorder = new LoadRecorder();
  let issued = 0;
  const client = async () => {
    while (issued < options.orders && !options.signal.aborted) {
      issued += 1;
      const sent = performance.now();
      recorder.record(sent, await post(url));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return recorder.load();
}

/**
 * Orders on a fixed schedule, `rate` a second, whether or not the earlier ones were answered; each
 * order's latency counts from when it was due, so waiting to be sent is not hidden (coordinated
 * omission).
 */
async function openLoop(url: string, rate: number, options: BenchOptions): Promise<Load> {
  const recorder = new LoadRecorder();
  const started = performance.now();
  const answered: Promise<void>[] = [];
  for (let index = 0; index < options.orders && !options.signal.aborted; index += 1) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    answered.push(post(url).then((status) => recorder.record(due, status)));
  }
  await Promise.all(answered);
  return recorder.load();
}

async function waitFor(done: () => boolean, timeoutMs: number, signal: AbortSignal) {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline || signal.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** One worker process, and what it has said. */
class Worker {
  url = '';
  processed = 0;

  private constructor(private readonly child: ChildProcess) {}

  static start(start: WorkerStart): Promise<Worker> {
    const script = fileURLToPath(new URL('dist/bench-worker.cjs', PACKAGE_ROOT));
    const child = fork(script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const worker = new Worker(child);
    return new Promise((resolve, reject) => {
      const describe = start.role === 'service' ? `the ${start.name} service` : 'the order service';
      child.on('message', (report: WorkerReport) => {
        if (report.kind === 'ready') {
          worker.url = report.url;
          resolve(worker);
        } else if (report.kind === 'processed') {
          worker.processed = report.count;
        } else {
          reject(new MqError(`${describe} of the benchmark failed: ${report.message}`));
        }
      });
      child.on('exit', (code) =>
        reject(new MqError(`${describe} exited (${code}) before it was ready`)),
      );
      child.send(start);
    });
  }

  send(command: WorkerCommand): void {
    if (this.child.connected) this.child.send(command);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ kind: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
