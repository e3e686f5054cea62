import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { arch, availableParallelism, platform } from 'node:os';
import { Command } from 'commander';
import { parseDuration, parsePositiveInt, parseRate } from '../config/parse-args.js';
import { InterruptedError, UsageError } from '../errors.js';
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
  report?: string;
  json: boolean;
}

const DEFAULT_TIME_SCALE = 0.1;
const HISTOGRAM_BINS = 12;

export function newBenchCommand(f: Factory): Command {
  return newBenchStoryCommand(f).addCommand(newBenchThroughputCommand(f));
}

interface ThroughputFlags {
  size: number;
  window: number;
  duration: number;
  json: boolean;
}

function newBenchThroughputCommand(f: Factory): Command {
  return new Command('throughput')
    .summary('publish and consume rate and latency for a message size, on any broker')
    .description(
      'For --duration, publishes windows of --window messages of --size bytes (one publish and\n' +
        'one wait for confirms each) while a consumer takes and acks them, then drains the rest.\n' +
        'Through a queue (or topic) of its own, deleted at the end; on the embedded broker a\n' +
        'throwaway one. Reports messages a second and latency percentiles: confirm latency per\n' +
        'window, and publish-to-consume latency per message.',
    )
    .option('--size <bytes>', 'message body size', parsePositiveInt, 256)
    .option('--window <n>', 'messages per publish (confirm window)', parsePositiveInt, 100)
    .option('--duration <duration>', 'how long to publish', parseDuration, 5_000)
    .option('--json', 'print the results as one JSON document', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mq bench throughput
  $ mq bench throughput --size 1024 --window 500 --duration 10s --json
  $ mq --broker amqp://guest:guest@localhost:5672/ bench throughput`,
    )
    .action(async (own: ThroughputFlags, command: Command) => {
      // Commander gives an option the story also has (--json) to the story, wherever it stands.
      const flags = { ...own, json: own.json || command.parent?.opts<BenchFlags>().json === true };
      const { runThroughput } = await import('../bench/throughput.js');
      const { spec } = await f.brokerChoice();
      f.io.notice(
        `publishing ${flags.size}-byte messages in windows of ${flags.window} for ${flags.duration / 1000} s on ${spec.kind}…`,
      );
      const result = await runThroughput({
        broker: spec,
        sizeBytes: flags.size,
        window: flags.window,
        durationMs: flags.duration,
        signal: f.signal,
      });
      if (flags.json) {
        writeJson(f.io, result);
        return;
      }
      const { publish, consume } = result;
      const row = (
        label: string,
        side: { messages: number; perSec: number },
        latency: { p50: number; p90: number; p99: number; max: number },
      ) =>
        [label, side.messages, side.perSec, latency.p50, latency.p90, latency.p99, latency.max].map(
          String,
        );
      await printRows(
        f.io,
        ['', 'MESSAGES', 'PER SECOND', 'P50 MS', 'P90 MS', 'P99 MS', 'MAX MS'],
        [
          row('publish (confirm per window)', publish, publish.confirmMs),
          row('consume (publish to consume)', consume, consume.latencyMs),
        ],
      );
    });
}

function newBenchStoryCommand(f: Factory): Command {
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
    .option(
      '--report <file.html>',
      'also write the run as a self-contained page with a latency chart per mode',
    )
    .option('--json', 'print the results as one JSON document (docs: README, "mq bench")', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mq bench
  $ mq bench --orders 100 --concurrency 10 --time-scale 0.01 --json
  $ mq bench --down sms --recover-after 2s
  $ mq bench --time-scale 0.01 --report bench.html
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
  if (flags.report !== undefined) await requireWritableDirectory(flags.report);
  // A server broker that does not answer fails here (exit 3), before the sync run.
  if (spec.kind !== 'local') await f.broker();
  const pace =
    flags.rate === undefined ? `${flags.concurrency} at a time` : `${flags.rate} a second`;
  f.io.notice(`sync: ${flags.orders} orders, ${pace}…`);
  const stopIfInterrupted = () => {
    if (f.signal.aborted) throw new InterruptedError('interrupted: the benchmark stopped');
  };
  const syncRun = await runMode('sync', options);
  stopIfInterrupted();
  f.io.notice(`async: ${flags.orders} orders, ${pace}…`);
  const asyncRun = await runMode('async', options);
  stopIfInterrupted();
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
  if (flags.report !== undefined) {
    const { renderReport } = await import('../bench/report.js');
    const page = renderReport({
      result,
      latenciesMs: { sync: syncRun.latenciesMs, async: asyncRun.latenciesMs },
      generatedAt: new Date().toISOString(),
      machine: `Node ${process.version}, ${platform()} ${arch()}, ${availableParallelism()} CPUs`,
    });
    await writeFile(flags.report, page);
    f.io.notice(`report written to ${flags.report}`);
  }
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

/** The report's directory must take a file: said before the run, not after it. */
async function requireWritableDirectory(file: string): Promise<void> {
  const directory = dirname(resolve(file));
  try {
    await access(directory, constants.W_OK);
  } catch {
    throw new UsageError(
      `cannot write the report to ${file}: ${directory} is not a writable directory`,
      {
        hint: 'name a file in a directory that exists, e.g. --report bench.html',
      },
    );
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
