/**
 * `mq bench` through the built CLI (DESIGN.md §8): the --json shape, every order accounted for,
 * and an outage that sync orders meet and async ones wait out. Speeds are not asserted here:
 * `npm run bench` and the command itself measure them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq } from '../helpers/cli.js';
import {
  brokerUrl,
  createVhost,
  deleteVhost,
  management,
  rabbitMqAvailable,
} from '../helpers/rabbitmq.js';

interface ModeResult {
  latencyMs: Record<'p50' | 'p90' | 'p99' | 'p999' | 'max', number>;
  throughputPerSec: number;
  completed: number;
  errors: number;
  allProcessedMs: number | null;
  processed: Record<string, number>;
}

interface BenchResult {
  version: number;
  broker: string;
  orders: number;
  concurrency: number;
  rate: null;
  timeScale: number;
  modes: { sync: ModeResult; async: ModeResult };
}

interface Throughput {
  version: number;
  broker: string;
  sizeBytes: number;
  window: number;
  publish: { messages: number; perSec: number; confirmMs: Record<string, number> };
  consume: { messages: number; perSec: number; latencyMs: Record<string, number> };
}

const bench = async (...args: string[]) => {
  const result = await runMq(['bench', '--time-scale', '0.01', '--json', ...args], {
    env: isolatedEnv(),
  });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as BenchResult;
};

describe('mq bench on the embedded broker', () => {
  it('runs the same orders sync and async and reports them in the documented shape', async () => {
    const result = await bench('--orders', '100', '--concurrency', '10');
    expect(result).toMatchObject({
      version: 1,
      broker: 'local',
      orders: 100,
      concurrency: 10,
      rate: null,
      timeScale: 0.01,
    });
    for (const mode of [result.modes.sync, result.modes.async]) {
      expect(mode).toMatchObject({ completed: 100, errors: 0 });
      expect(mode.processed).toEqual({ email: 100, sms: 100, inventory: 100 });
      const { p50, p90, p99, p999, max } = mode.latencyMs;
      expect([p50, p90, p99, p999, max]).toEqual([p50, p90, p99, p999, max].sort((a, b) => a - b));
      expect(mode.throughputPerSec).toBeGreaterThan(0);
      expect(mode.allProcessedMs).toBeGreaterThan(0);
    }
  });

  it('fails the sync orders that meet an outage; async ones wait, and every one is processed', async () => {
    const result = await bench('--orders', '40', '--down', 'sms', '--recover-after', '2s');
    const { sync, async } = result.modes;
    expect(sync.errors).toBeGreaterThan(0);
    expect(sync.completed + sync.errors).toBe(40);
    expect(sync.processed.sms).toBe(sync.completed);
    expect(async).toMatchObject({ completed: 40, errors: 0 });
    expect(async.processed).toEqual({ email: 40, sms: 40, inventory: 40 });
  });

  it('--rate sends orders on a schedule (open loop) and says so', async () => {
    const result = await bench('--orders', '50', '--rate', '200/s');
    expect(result.rate).toBe(200);
    for (const mode of [result.modes.sync, result.modes.async]) {
      expect(mode).toMatchObject({ completed: 50, errors: 0 });
    }
  });

  it('shows a table and both histograms on a terminal, tab-separated rows in a pipe', async () => {
    const args = ['bench', '--orders', '20', '--time-scale', '0.01'];
    const terminal = await runMq(args, { env: { ...isolatedEnv(), MQ_FORCE_TTY: '1' } });
    expect(terminal.code).toBe(0);
    expect(terminal.stdout).toMatch(/SYNC\s+ASYNC/);
    expect(terminal.stdout).toMatch(/sync latency/);
    expect(terminal.stdout).toMatch(/async latency/);
    expect(terminal.stdout).toMatch(/ms │█+ \d+/);
    const piped = await runMq(args, { env: isolatedEnv() });
    expect(piped.stdout).toMatch(/^latency p50 ms\t[\d.]+\t[\d.]+$/m);
    expect(piped.stdout).toMatch(/^completed\t20\t20$/m);
    expect(piped.stdout).not.toMatch(/│/);
  });

  it('--report writes a self-contained page with one chart per mode', async () => {
    const env = isolatedEnv();
    const file = join(env.MQ_HOME, '..', 'bench.html');
    const run = await runMq(['bench', '--orders', '20', '--time-scale', '0.01', '--report', file], {
      env,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`report written to ${file}`);
    const page = readFileSync(file, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/i);
    expect(page.match(/<svg\b/g)).toHaveLength(2);
    expect(page).toMatch(/<svg[^>]*data-mode="sync"/);
    expect(page).toMatch(/<svg[^>]*data-mode="async"/);
    expect(page).not.toMatch(/<script/i);
    const missing = await runMq(['bench', '--report', '/nonexistent/dir/bench.html'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot write the report to .*not a writable directory/);
  });

  it('bench throughput publishes and consumes every message, and reports rates and latencies', async () => {
    const run = await runMq(['bench', 'throughput', '--duration', '200ms', '--json'], {
      env: isolatedEnv(),
    });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Throughput;
    expect(result).toMatchObject({ version: 1, broker: 'local', sizeBytes: 256, window: 100 });
    expect(result.publish.messages).toBeGreaterThan(0);
    expect(result.consume.messages).toBe(result.publish.messages);
    expect(result.publish.perSec).toBeGreaterThan(0);
    expect(Object.keys(result.consume.latencyMs)).toEqual(['p50', 'p90', 'p99', 'max']);
  });

  it('stops at Ctrl-C with exit 130, its processes gone', async () => {
    const run = startMq(['bench', '--time-scale', '1', '--orders', '100'], { env: isolatedEnv() });
    await run.waitForStderr(/sync: 100 orders/);
    process.kill(run.pid, 'SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/interrupted: the benchmark stopped/);
  });

  it('refuses bad input with one line and exit 2', async () => {
    const env = isolatedEnv();
    const cases: [string[], RegExp][] = [
      [['--down', 'fax'], /no service "fax" in the story \(they are email, sms, inventory\)/],
      [['--recover-after', '2s'], /--recover-after needs --down/],
      [['--service', 'sms'], /--service wants name=milliseconds/],
      [['--time-scale', '0'], /--time-scale must be a number above 0/],
    ];
    for (const [args, message] of cases) {
      const result = await runMq(['bench', ...args], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

const rabbitReady = await rabbitMqAvailable();
describe.runIf(rabbitReady)('mq bench on RabbitMQ', () => {
  const vhosts: string[] = [];
  afterAll(async () => {
    for (const vhost of vhosts) await deleteVhost(vhost);
  });

  it('runs async through queues of its own, deletes them, and never touches the project queues', async () => {
    const vhost = await createVhost();
    vhosts.push(vhost);
    const env = isolatedEnv();
    const mq = (...args: string[]) => runMq(['--broker', brokerUrl(vhost), ...args], { env });
    expect((await mq('topology', 'apply')).code).toBe(0);
    expect((await mq('publish', 'order.placed', 'fixtures/order.placed.json')).code).toBe(0);
    const run = await mq(
      'bench',
      '--orders',
      '40',
      '--time-scale',
      '0.01',
      '--down',
      'sms',
      '--recover-after',
      '2s',
      '--json',
    );
    expect(run.code).toBe(0);
    const { broker, modes } = JSON.parse(run.stdout) as BenchResult;
    expect(broker).toBe('rabbitmq');
    expect(modes.sync.errors).toBeGreaterThan(0);
    expect(modes.async).toMatchObject({ completed: 40, errors: 0 });
    expect(modes.async.processed).toEqual({ email: 40, sms: 40, inventory: 40 });
    const names = async (kind: 'queues' | 'exchanges') =>
      (
        (await (await management('GET', `/api/${kind}/${encodeURIComponent(vhost)}`)).json()) as {
          name: string;
        }[]
      ).map((entry) => entry.name);
    for (const kind of ['queues', 'exchanges'] as const) {
      expect((await names(kind)).filter((name) => name.startsWith('mq-bench'))).toEqual([]);
    }
    const throughput = await mq('bench', 'throughput', '--duration', '500ms', '--json');
    expect(throughput.code).toBe(0);
    const measured = JSON.parse(throughput.stdout) as Throughput;
    expect(measured.consume.messages).toBe(measured.publish.messages);
    expect((await names('queues')).filter((name) => name.startsWith('mq-bench'))).toEqual([]);
    const described = await mq('describe', 'email_service_queue', '--json');
    expect(JSON.parse(described.stdout)).toMatchObject({ ready: 1 });
  });
});
