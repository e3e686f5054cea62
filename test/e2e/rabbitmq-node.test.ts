/**
 * The built CLI against a RabbitMQ node of this file's own (test/helpers/rabbitmq-node.ts), never
 * the shared one: TLS, life without the management plugin, and the broker killed in the middle of
 * a publish. One boot serves the whole file; the topology comes from a project file of the test's
 * own, applied with `mq topology apply`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq, type CliOptions, type CliResult } from '../helpers/cli.js';
import { testNodeAvailable, useTestNode, type TestNode } from '../helpers/rabbitmq-node.js';

const PROJECT = {
  exchanges: [{ name: 'node_events', type: 'topic' }],
  queues: [
    {
      name: 'tls_queue',
      type: 'classic',
      bindings: [{ exchange: 'node_events', pattern: 'tls.#' }],
    },
    {
      name: 'counted_queue',
      type: 'classic',
      bindings: [{ exchange: 'node_events', pattern: 'counted.#' }],
    },
    {
      name: 'fault_queue',
      type: 'classic',
      bindings: [{ exchange: 'node_events', pattern: 'fault.#' }],
    },
  ],
  events: {
    'tls.checked': { exchange: 'node_events', routingKey: 'tls.checked' },
    'counted.once': { exchange: 'node_events', routingKey: 'counted.once' },
    'fault.injected': { exchange: 'node_events', routingKey: 'fault.injected' },
  },
};

/** `{{seq}}` counts from 1, so message `index` (0-based) carries n = index + 1. */
const SEQ_FIXTURE = '{"n":{{seq}}}';

interface Envelope {
  queue: string;
  routingKey: string;
  body: string;
}

interface JsonError {
  error: { code: string; message: string; hint?: string };
}

interface PublishSummary {
  total: number;
  confirmed: number;
  unconfirmed: number;
  unroutable: number;
  notSent: number;
  unconfirmedMessages: { index: number; messageId: string }[];
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

/** What every failure must look like: no stack trace. */
function expectNoStack(result: CliResult): void {
  expect(result.stderr).not.toMatch(/^\s+at .+\(?.+:\d+:\d+\)?$/m);
  expect(result.stderr).not.toContain('node:internal');
}

/** Every message `queue` holds now, consumed without acks (n and messageId); 20 s at most. */
async function drain(channel: Channel, queue: string): Promise<{ n: number; messageId: string }[]> {
  const { messageCount } = await channel.checkQueue(queue);
  const received: { n: number; messageId: string }[] = [];
  if (messageCount === 0) return received;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${received.length} of ${messageCount} messages in 20 s`)),
      20_000,
    );
    void channel
      .consume(
        queue,
        (message) => {
          if (message === null) return;
          const body = JSON.parse(message.content.toString('utf8')) as { n: number };
          received.push({ n: body.n, messageId: String(message.properties.messageId) });
          if (received.length === messageCount) {
            clearTimeout(timer);
            resolve();
          }
        },
        { noAck: true },
      )
      .catch(reject);
  });
  return received;
}

async function openChannel(url: string): Promise<{ connection: ChannelModel; channel: Channel }> {
  const connection = await connect(url, { noDelay: true });
  connection.on('error', () => {});
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  return { connection, channel };
}

const available = await testNodeAvailable();

describe.runIf(available)('mq against a RabbitMQ node of its own (mqfault@localhost)', () => {
  let env: Record<string, string>;
  let project: string;

  const node = useTestNode(async (started) => {
    env = isolatedEnv();
    project = mkdtempSync(join(tmpdir(), 'mq-node-project-'));
    writeFileSync(join(project, 'mq.config.json'), JSON.stringify(PROJECT, null, 2));
    const applied = await runMq([...direct(started), 'topology', 'apply'], { env, cwd: project });
    if (applied.code !== 0) throw new Error(`mq topology apply failed: ${applied.stderr}`);
  });

  afterAll(() => {
    if (project !== undefined) rmSync(project, { recursive: true, force: true });
    if (env !== undefined) rmSync(dirname(env.MQ_CONFIG!), { recursive: true, force: true });
  });

  /** The node's plain AMQP port, and where its management API would be (nothing answers). */
  function direct(on: TestNode = node()): string[] {
    return ['--broker', on.amqpUrl(), '--management-url', on.managementUrl];
  }

  function mq(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
    return runMq(args, { env, cwd: project, ...options });
  }

  /** Saves a context for the node's TLS port; `flags` are `mq context add`'s TLS flags. */
  async function tlsContext(name: string, ...flags: string[]): Promise<void> {
    const added = await mq([
      '--management-url',
      node().managementUrl,
      'context',
      'add',
      name,
      node().amqpsUrl(),
      ...flags,
    ]);
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout + added.stderr).not.toContain(node().password);
  }

  function expectNoPassword(result: CliResult): void {
    expect(result.stdout).not.toContain(node().password);
    expect(result.stderr).not.toContain(node().password);
  }

  describe('TLS: AMQPS on 5680, the server certificate signed by a CA of the run', () => {
    it('a context with --ca publishes and peeks over TLS', async () => {
      await tlsContext('tls-ca', '--ca', node().tls.ca);
      const published = await mq(
        ['--context', 'tls-ca', 'publish', 'tls.checked', '-', '--repeat', '2'],
        { stdin: SEQ_FIXTURE },
      );
      expect(published).toMatchObject({ code: 0 });
      expect(published.stderr).toContain('published 2/2');
      expect(published.stderr).toContain(`amqps://${node().user}:***@127.0.0.1:5680`);

      const peeked = await mq(['--context', 'tls-ca', 'peek', 'tls_queue', '--json']);
      expect(peeked).toMatchObject({ code: 0 });
      const envelopes = lines(peeked.stdout).map((line) => JSON.parse(line) as Envelope);
      expect(envelopes).toMatchObject([
        { queue: 'tls_queue', routingKey: 'tls.checked', body: '{"n":1}' },
        { queue: 'tls_queue', routingKey: 'tls.checked', body: '{"n":2}' },
      ]);
      expectNoPassword(published);
      expectNoPassword(peeked);
    });

    it('without the CA the self-signed chain is refused: exit 3, one line and a hint, no stack, no password', async () => {
      const refused = await mq(['--broker', node().amqpsUrl(), 'describe', 'tls_queue']);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toBe('');
      const [error, hint, ...rest] = lines(refused.stderr);
      expect(error).toMatch(
        /^error: cannot connect to RabbitMQ at amqps:\/\/127\.0\.0\.1:5680: TLS negotiation failed: self[- ]signed certificate in certificate chain$/,
      );
      expect(hint).toMatch(/^hint: .*--insecure/);
      expect(rest).toEqual([]);
      expectNoStack(refused);
      expectNoPassword(refused);

      const json = await mq(['--broker', node().amqpsUrl(), 'describe', 'tls_queue', '--json']);
      expect(json.code).toBe(3);
      const { error: jsonError } = JSON.parse(json.stderr) as JsonError;
      expect(jsonError.code).toBe('connect');
      expect(jsonError.message).toContain('TLS negotiation failed');
      expectNoPassword(json);
    });

    it('mq --insecure connects without the CA', async () => {
      const described = await mq([
        '--insecure',
        '--broker',
        node().amqpsUrl(),
        '--management-url',
        node().managementUrl,
        'describe',
        'tls_queue',
        '--json',
      ]);
      expect(described).toMatchObject({ code: 0 });
      expect(JSON.parse(described.stdout)).toMatchObject({ name: 'tls_queue', type: 'classic' });
    });

    it('a context saved with --insecure connects without the CA', async () => {
      await tlsContext('tls-insecure', '--insecure');
      const described = await mq(['--context', 'tls-insecure', 'describe', 'tls_queue', '--json']);
      expect(described.stderr).toBe('');
      expect(described).toMatchObject({ code: 0 });
      expect(JSON.parse(described.stdout)).toMatchObject({ name: 'tls_queue', type: 'classic' });
    });

    it('a client certificate signed by the CA is accepted (context --cert and --key)', async () => {
      const { ca, clientCert, clientKey } = node().tls;
      await tlsContext('tls-client', '--ca', ca, '--cert', clientCert, '--key', clientKey);
      const described = await mq(['--context', 'tls-client', 'describe', 'tls_queue', '--json']);
      expect(described).toMatchObject({ code: 0 });
      expect(JSON.parse(described.stdout)).toMatchObject({ name: 'tls_queue', type: 'classic' });
    });

    it('a client certificate the node does not trust is refused: exit 3, one line and a hint, no stack', async () => {
      const { ca, untrustedCert, untrustedKey } = node().tls;
      await tlsContext('tls-stranger', '--ca', ca, '--cert', untrustedCert, '--key', untrustedKey);
      const refused = await mq(['--context', 'tls-stranger', 'describe', 'tls_queue']);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toBe('');
      const stderr = refused.stderr.trimEnd().split('\n');
      expect(stderr).toHaveLength(2);
      expect(stderr[0]).toMatch(
        /^error: cannot connect to RabbitMQ at amqps:\/\/127\.0\.0\.1:5680: TLS/,
      );
      expect(stderr[0]).toMatch(/certificate/i);
      expect(stderr[1]).toMatch(/^hint: /);
      expectNoStack(refused);
      expectNoPassword(refused);
    });
  });

  describe('without the management plugin', () => {
    it('describe gives the exact depth from a passive declare (exit 0)', async () => {
      const published = await mq([...direct(), 'publish', 'counted.once', '-', '--repeat', '3'], {
        stdin: SEQ_FIXTURE,
      });
      expect(published).toMatchObject({ code: 0 });

      const json = await mq([...direct(), 'describe', 'counted_queue', '--json']);
      expect(json).toMatchObject({ code: 0 });
      expect(JSON.parse(json.stdout)).toMatchObject({
        name: 'counted_queue',
        type: 'classic', // from the project file: nothing else can tell
        ready: 3,
        consumers: 0,
        sampled: false,
      });
      const human = await mq([...direct(), 'describe', 'counted_queue']);
      expect(human).toMatchObject({ code: 0 });
      expect(human.stdout).toMatch(/^ready\s+3$/m);
      // Bindings and dead-letter settings come only from the management API: unknown, not "none".
      expect(human.stdout).toMatch(/^bindings\s+unknown without the management API$/m);
      expect(human.stdout).toMatch(/^dead letters\s+unknown without the management API$/m);
      expect(JSON.parse(json.stdout)).toMatchObject({ bindings: null });
      expectNoPassword(human);
    });

    it.each([
      { command: ['ls'], needs: 'listing queues' },
      { command: ['tail', 'counted_queue', '--timeout', '5s'], needs: 'mq tail counted_queue' },
    ])('$command.0 exits 1 and says how to enable the plugin', async ({ command, needs }) => {
      const failed = await mq([...direct(), ...command]);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('');
      const [error, hint, ...rest] = lines(failed.stderr);
      expect(error).toMatch(
        new RegExp(
          `^error: ${needs}.* needs the RabbitMQ management API, and nothing answers at ${node().managementUrl}`,
        ),
      );
      expect(hint).toContain('rabbitmq-plugins enable rabbitmq_management');
      expect(rest).toEqual([]);
      expectNoStack(failed);
      expectNoPassword(failed);

      const json = await mq([...direct(), ...command, '--json']);
      expect(json.code).toBe(1);
      expect(json.stdout).toBe('');
      const { error: jsonError } = JSON.parse(json.stderr) as JsonError;
      expect(jsonError.hint).toContain('rabbitmq-plugins enable rabbitmq_management');
      expect(jsonError.code).toBe('unsupported');
    });

    it('topology export exits 1 and says how to enable the plugin', async () => {
      const failed = await mq([...direct(), 'topology', 'export']);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('');
      expect(lines(failed.stderr)).toEqual([
        `error: mq topology export needs the RabbitMQ management API, and nothing answers at ${node().managementUrl} (ECONNREFUSED)`,
        expect.stringContaining('rabbitmq-plugins enable rabbitmq_management'),
      ]);
      expectNoPassword(failed);
      const json = await mq([...direct(), 'topology', 'export', '--json']);
      expect(json.code).toBe(1);
      expect((JSON.parse(json.stderr) as JsonError).error.code).toBe('unsupported');
    });

    it('peek refuses a queue whose type nothing tells (exit 2) and spends no delivery', async () => {
      const { connection, channel } = await openChannel(node().amqpUrl());
      try {
        await channel.assertQueue('undeclared_queue', { durable: true });
        channel.sendToQueue('undeclared_queue', Buffer.from('{"n":1}'));
        await channel.checkQueue('undeclared_queue');
      } finally {
        await connection.close();
      }
      const refused = await mq([...direct(), 'peek', 'undeclared_queue']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        'neither the management API nor mq.config.json tells the type of "undeclared_queue"',
      );
      expectNoStack(refused);

      const consumed = await mq([
        ...direct(),
        'consume',
        'undeclared_queue',
        '--ack',
        '--count',
        '1',
        '--json',
      ]);
      expect(consumed).toMatchObject({ code: 0 });
      expect(JSON.parse(consumed.stdout)).toMatchObject({ body: '{"n":1}', redelivered: false });
    });
  });

  describe('fault injection: the broker killed in the middle of a publish', () => {
    const TOTAL = 10_000;
    /**
     * Kill once this many messages are in the queue. mq keeps at most 1,000 unconfirmed (the
     * confirm window in src/brokers/rabbitmq/publisher.ts), so by then ~2,000 are confirmed, and
     * most of the run is not yet sent: all three outcomes occur.
     */
    const KILL_AT_DEPTH = 3000;

    it('exits 4 with a JSON summary of what was confirmed, and after a restart every confirmed message is in the queue', async () => {
      const watcher = await openChannel(node().amqpUrl());
      const publishing = startMq(
        [...direct(), 'publish', 'fault.injected', '-', '--repeat', String(TOTAL), '--json'],
        { env, cwd: project, stdin: SEQ_FIXTURE },
      );
      let finished = false;
      void publishing.done.then(() => {
        finished = true;
      });
      try {
        let depth = 0;
        const deadline = Date.now() + 30_000;
        while (depth < KILL_AT_DEPTH) {
          if (finished) throw new Error(`the publish ended before the kill, at depth ${depth}`);
          if (Date.now() > deadline) throw new Error(`the queue reached only ${depth} in 30 s`);
          depth = (await watcher.channel.checkQueue('fault_queue')).messageCount;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await node().kill();
      } finally {
        await watcher.connection.close().catch(() => {});
      }
      const result = await publishing.done;

      expect(result.code).toBe(4);
      expectNoStack(result);
      expectNoPassword(result);
      const errors = lines(result.stderr).filter((line) => line.startsWith('{'));
      expect(errors.map((line) => JSON.parse(line) as unknown)).toMatchObject([
        { error: { code: 'partial' } },
      ]);
      const stdout = lines(result.stdout);
      expect(stdout).toHaveLength(1);
      const summary = JSON.parse(stdout[0]!) as PublishSummary;
      expect(summary).toMatchObject({ total: TOTAL, unroutable: 0 });
      expect(summary.confirmed).toBeGreaterThan(0);
      expect(summary.notSent).toBeGreaterThan(0);
      expect(summary.confirmed + summary.unconfirmed + summary.notSent).toBe(TOTAL);
      const sent = TOTAL - summary.notSent;
      expect(summary.unconfirmedMessages).toHaveLength(summary.unconfirmed);
      const unconfirmed = new Map(
        summary.unconfirmedMessages.map(({ index, messageId }) => [index, messageId]),
      );
      expect(unconfirmed.size).toBe(summary.unconfirmed);
      for (const [index, messageId] of unconfirmed) {
        expect(Number.isInteger(index) && index >= 0 && index < sent).toBe(true);
        expect(messageId).toMatch(/\S/);
      }

      await node().start();
      const reader = await openChannel(node().amqpUrl());
      let queued: { n: number; messageId: string }[];
      try {
        queued = await drain(reader.channel, 'fault_queue');
      } finally {
        await reader.connection.close();
      }
      const indices = new Set(queued.map(({ n }) => n - 1));
      expect(indices.size).toBe(queued.length); // nothing twice
      const missing: number[] = [];
      for (let index = 0; index < sent; index += 1) {
        if (!unconfirmed.has(index) && !indices.has(index)) missing.push(index);
      }
      expect(missing, 'confirmed messages lost in the crash').toEqual([]);
      expect([...indices].filter((index) => index >= sent)).toEqual([]);
      // An unconfirmed message that did arrive is the one the summary names.
      const misnamed = queued.filter(
        ({ n, messageId }) => unconfirmed.has(n - 1) && unconfirmed.get(n - 1) !== messageId,
      );
      expect(misnamed).toEqual([]);
    }, 120_000);
  });
});
