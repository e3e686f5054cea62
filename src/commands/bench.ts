import { Command } from 'commander';
import { parseDuration, parsePositiveInt, parseRate } from '../config/parse-args.js';
import { UsageError } from '../errors.js';
import type { Factory } from '../factory.js';
import { writeJson } from '../io/json.js';
import { printRows } from '../io/table.js';
import { binCounts, histogramLines, ratioEdges } from '../bench/histogram.js';

interface BenchFlags {
  orders: number;
  concurrency: number;
  rate?: number;
  timeScale: number;
  service: string[];
  down?: string;
  recoverAfter?: number;
  json: boolean;
}

const DEFAULT_TIME_SCALE = 0.1;
const HISTOGRAM_BINS = 12;

export function newBenchCommand(f: Factory): Command {
  return new Command('bench')
    .summary('sync versus async: the same orders through HTTP calls and through a queue')
    .description(
      'Runs the order story twice with real processes on loopback: an order service and three\n' +
        'services (email 2000 ms, sms 1000 ms, inventory 500 ms, times --time-scale). sync: the\n' +
        'order service calls the three one after another and answers after all of them; async: it\n' +
        'publishes order.placed with a confirm and answers, and each service consumes its own\n' +
        'queue: on a throwaway embedded broker, or with --broker on RabbitMQ, in an exchange and\n' +
        "queues of the run's own (mq-bench-<id>), deleted at the end. --down takes a service down\n" +
        'for --recover-after (wall clock): sync orders fail meanwhile, async ones wait in its queue.',
    )
    .option('--orders <n>', 'orders to send in each mode', parsePositiveInt, 100)
    .option(
      '--concurrency <n>',
      'clients sending orders at once (closed loop)',
      parsePositiveInt,
      10,
    )
    .option(
      '--rate <n/s>',
      'send orders on this schedule instead (open loop: latency counts from when each was due)',
      parseRate,
    )
    .option(
      '--time-scale <factor>',
      `multiply every service time by this (default ${DEFAULT_TIME_SCALE})`,
      parseTimeScale,
      DEFAULT_TIME_SCALE,
    )
    .option(
      '--service <name=ms>',
      'a service time in ms before scaling (repeatable): email, sms, inventory',
      collectService,
      [],
    )
    .option('--down <service>', 'this service is down from the start (see --recover-after)')
    .option('--recover-after <duration>', 'the downed service comes back after this', parseDuration)
    .option('--json', 'print the results as one JSON document (docs: README, "mq bench")', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mq bench
  $ mq bench --orders 100 --concurrency 10 --time-scale 0.01 --json
  $ mq bench --down sms --recover-after 2s
  $ mq bench --service email=300 --time-scale 1
  $ mq bench --broker amqp://guest:guest@localhost:5672/ --time-scale 0.01`,
    )
    .action(async (flags: BenchFlags) => {
      await bench(f, flags);
    });
}

async function bench(f: Factory, flags: BenchFlags): Promise<void> {
  const { DEFAULT_SERVICES, runMode } = await import('../bench/run.js');
  const services: Record<string, number> = { ...DEFAULT_SERVICES };
  for (const [name, ms] of flags.service.map(splitService)) {
    if (!(name in services)) throw unknownService(name, services);
    services[name] = ms;
  }
  if (flags.down !== undefined && !(flags.down in services)) {
    throw unknownService(flags.down, services);
  }
  if (flags.recoverAfter !== undefined && flags.down === undefined) {
    throw new UsageError('--recover-after needs --down <service>', {
      hint: 'mq bench --down sms --recover-after 2s',
    });
  }
  const { spec } = await f.brokerChoice();
  const options = {
    orders: flags.orders,
    concurrency: flags.concurrency,
    rate: flags.rate ?? null,
    timeScale: flags.timeScale,
    services,
    down: flags.down ?? null,
    recoverAfterMs: flags.recoverAfter ?? null,
    broker: spec,
    signal: f.signal,
  };
  // A server broker that does not answer fails here (exit 3), before the sync run.
  if (spec.kind !== 'local') await f.broker();
  const pace =
    flags.rate === undefined ? `${flags.concurrency} at a time` : `${flags.rate} a second`;
  f.io.notice(`sync: ${flags.orders} orders, ${pace}…`);
  const syncRun = await runMode('sync', options);
  f.io.notice(`async: ${flags.orders} orders, ${pace}…`);
  const asyncRun = await runMode('async', options);
  const [sync, async] = [syncRun.result, asyncRun.result];
  const result = {
    version: 1,
    broker: spec.kind,
    orders: flags.orders,
    concurrency: flags.concurrency,
    rate: flags.rate ?? null,
    timeScale: flags.timeScale,
    modes: { sync, async },
  };
  if (flags.json) {
    writeJson(f.io, result);
    return;
  }
  const figure = (value: number | null) => (value === null ? 'not all' : String(value));
  const row = (label: string, pick: (mode: typeof sync) => number | null) => [
    label,
    figure(pick(sync)),
    figure(pick(async)),
  ];
  await printRows(
    f.io,
    ['', 'SYNC', 'ASYNC'],
    [
      row('latency p50 ms', (m) => m.latencyMs.p50),
      row('latency p90 ms', (m) => m.latencyMs.p90),
      row('latency p99 ms', (m) => m.latencyMs.p99),
      row('latency p99.9 ms', (m) => m.latencyMs.p999),
      row('latency max ms', (m) => m.latencyMs.max),
      row('orders/s', (m) => m.throughputPerSec),
      row('completed', (m) => m.completed),
      row('errors', (m) => m.errors),
      row('all processed ms', (m) => m.allProcessedMs),
      ...Object.keys(services).map((name) =>
        row(`${name} processed`, (m) => m.processed[name] ?? 0),
      ),
    ],
  );
  if (f.io.isStdoutTTY()) {
    printHistograms(f, { sync: syncRun.latenciesMs, async: asyncRun.latenciesMs });
  }
}

/** Both modes' latencies as bars on one scale. */
function printHistograms(f: Factory, latencies: Record<'sync' | 'async', number[]>): void {
  const edges = ratioEdges([...latencies.sync, ...latencies.async], HISTOGRAM_BINS);
  const fullest = Math.max(
    0,
    ...binCounts(latencies.sync, edges),
    ...binCounts(latencies.async, edges),
  );
  for (const mode of ['sync', 'async'] as const) {
    f.io.out.write(`\n${f.io.colors.bold(`${mode} latency`)} (orders)\n`);
    f.io.out.write(`${histogramLines(latencies[mode], edges, fullest).join('\n')}\n`);
  }
}

function parseTimeScale(value: string): number {
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) {
    throw new UsageError(`--time-scale must be a number above 0 and at most 10, got "${value}"`);
  }
  return scale;
}

function collectService(value: string, previous: string[]): string[] {
  splitService(value);
  return [...previous, value];
}

function splitService(value: string): [string, number] {
  const match = /^([a-z]+)=(\d+)$/.exec(value);
  if (match === null) {
    throw new UsageError(`--service wants name=milliseconds, like sms=1000 (got "${value}")`);
  }
  return [match[1]!, Number(match[2])];
}

function unknownService(name: string, services: Record<string, number>): UsageError {
  return new UsageError(
    `no service "${name}" in the story (they are ${Object.keys(services).join(', ')})`,
  );
}
