/**
 * The built CLI against the shared Kafka node (`npm run brokers:up`): the repository's topic
 * `order-events` (created by `mq topology apply` when missing, and left in place, so every record
 * here has a unique id), and topics of the tests' own, `mq-e2e-<uuid>`, deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq, type CliResult } from '../helpers/cli.js';
import {
  KAFKA_CA_CERT,
  KAFKA_SASL_PORT,
  KAFKA_SASL_USER,
  KAFKA_SCRAM_USER,
  KAFKA_SSL_PORT,
  KAFKA_URL,
  createTopic,
  deleteTopics,
  disconnectAdmin,
  kafkaAvailable,
  kcatProduce,
  listTopics,
  type KcatCodec,
} from '../helpers/kafka.js';

interface Envelope {
  id: string;
  broker: string;
  topic: string | null;
  queue: string | null;
  partition: number;
  offset: string;
  key: string | { base64: string } | null;
  headers: Record<string, unknown>;
  body: string;
  bodyEncoding: string;
}

const envelopes = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Envelope);

const { Partitioners } = kafkajs;
const ready = await kafkaAvailable();

describe.runIf(ready)('Kafka, through the CLI', () => {
  const env = isolatedEnv();
  const ownTopics: string[] = [];

  const mq = (...args: string[]): Promise<CliResult> =>
    runMq(['--broker', KAFKA_URL, ...args], { env });

  async function topic(partitions = 1): Promise<string> {
    const name = await createTopic('mq-e2e', partitions);
    ownTopics.push(name);
    return name;
  }

  /** `fixtures/order.placed.json` with a fresh orderId, as a file of its own. */
  function orderFixture(): { orderId: string; path: string } {
    const orderId = `ord-${randomUUID()}`;
    const order = JSON.parse(readFileSync('fixtures/order.placed.json', 'utf8')) as object;
    const path = join(tmpdir(), `${orderId}.json`);
    writeFileSync(path, JSON.stringify({ ...order, orderId }));
    return { orderId, path };
  }

  beforeAll(async () => {
    const applied = await mq('topology', 'apply', '--json');
    if (applied.code !== 0) throw new Error(`topology apply failed: ${applied.stderr}`);
  });

  afterAll(async () => {
    await deleteTopics(ownTopics);
    await disconnectAdmin();
  });

  it('publishes order.placed to order-events keyed by its orderId; tail --from beginning shows it, twice', async () => {
    const { orderId, path } = orderFixture();
    const published = await mq('publish', 'order.placed', path, '--header', 'source=e2e', '--json');
    expect(published).toMatchObject({ code: 0 });
    expect(JSON.parse(published.stdout)).toMatchObject({ confirmed: 1, total: 1 });

    const tailOnce = async () => {
      const tail = await mq(
        'tail',
        'order-events',
        '--from',
        'beginning',
        '--timeout',
        '30s',
        '--json',
        '--count',
        '1',
        '--filter',
        `json.orderId == "${orderId}"`,
      );
      expect(tail).toMatchObject({ code: 0 });
      expect(tail.stderr).toMatch(/^ready: tailing order-events on kafka$/m);
      return envelopes(tail.stdout);
    };
    const first = await tailOnce();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      broker: 'kafka',
      topic: 'order-events',
      queue: null,
      key: orderId,
      headers: { source: 'e2e' },
      bodyEncoding: 'utf8',
    });
    expect(first[0]!.partition).toBeGreaterThanOrEqual(0);
    expect(first[0]!.id).toBe(`order-events/${first[0]!.partition}/${first[0]!.offset}`);
    expect(JSON.parse(first[0]!.body)).toMatchObject({ orderId, eventType: 'order.placed' });
    // The log keeps it: a second read from the beginning prints the same line.
    expect(await tailOnce()).toEqual(first);
  });

  it.each<KcatCodec>(['gzip', 'snappy', 'lz4', 'zstd'])(
    'reads records kcat wrote compressed with %s, repeated headers as arrays',
    async (codec) => {
      const name = await topic();
      const lines = [1, 2, 3].map((n) => `${codec} record ${n} ${'x'.repeat(200)}`);
      await kcatProduce(name, lines, {
        codec,
        key: 'k-1',
        headers: [
          ['trace', 'one'],
          ['trace', 'two'],
        ],
      });
      const tail = await mq(
        'tail',
        name,
        '--from',
        'beginning',
        '--count',
        '3',
        '--timeout',
        '30s',
        '--json',
      );
      expect(tail).toMatchObject({ code: 0 });
      const read = envelopes(tail.stdout);
      expect(read.map((e) => e.body)).toEqual(lines);
      expect(read.map((e) => e.offset)).toEqual(['0', '1', '2']);
      for (const envelope of read) {
        expect(envelope).toMatchObject({ key: 'k-1', headers: { trace: ['one', 'two'] } });
      }
    },
  );

  it('tails new records after ready:, from an offset, and on one partition; peek shows the last N', async () => {
    const name = await topic(2);
    const watcher = startMq(
      ['--broker', KAFKA_URL, 'tail', name, '--count', '1', '--timeout', '20s', '--json'],
      { env },
    );
    await watcher.waitForStderr(/^ready: /m);
    const file = join(tmpdir(), `${randomUUID()}.json`);
    writeFileSync(file, '{"n":{{seq}}}');
    expect(
      await mq('publish', 'any.event', file, '--topic', name, '--partition', '1', '--repeat', '3'),
    ).toMatchObject({ code: 0 });
    const seen = await watcher.done;
    expect(seen).toMatchObject({ code: 0 });
    expect(envelopes(seen.stdout)).toMatchObject([{ partition: 1, offset: '0' }]);

    const fromOffset = await mq(
      'tail',
      name,
      '--partition',
      '1',
      '--from',
      '1',
      '--count',
      '2',
      '--timeout',
      '20s',
      '--json',
    );
    expect(envelopes(fromOffset.stdout).map((e) => e.offset)).toEqual(['1', '2']);

    const peek = await mq('peek', name, '-n', '2', '--json');
    expect(peek).toMatchObject({ code: 0 });
    expect(envelopes(peek.stdout).map((e) => [e.partition, e.offset])).toEqual([
      [1, '1'],
      [1, '2'],
    ]);
    const missingPartition = await mq('tail', name, '--partition', '5', '--timeout', '5s');
    expect(missingPartition.code).toBe(2);
    expect(missingPartition.stderr).toContain('no partition 5');
  });

  it('describes and lists topics with partitions and offsets; plan finds the catalog topics in place', async () => {
    const name = await topic(2);
    await kcatProduce(name, ['a', 'b']);
    const described = await mq('describe', name, '--json');
    expect(described).toMatchObject({ code: 0 });
    const info = JSON.parse(described.stdout) as { partitions: { endOffset: string }[] };
    expect(info).toMatchObject({ name, kind: 'topic', type: 'log', ready: 2 });
    expect(info.partitions).toHaveLength(2);
    const listed = await mq('ls', `${name}*`, '--json');
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name, ready: 2 }]);
    const human = await mq('describe', name);
    expect(human.stdout).toMatch(/^partitions\t2$/m);

    const plan = await mq('topology', 'plan', '--json');
    expect(plan).toMatchObject({ code: 0 });
    expect(JSON.parse(plan.stdout)).toEqual([
      { action: 'unchanged', kind: 'topic', name: 'order-events', detail: null },
      { action: 'unchanged', kind: 'topic', name: 'order-events-dlt', detail: null },
    ]);
  });

  it('exports its topics as a project file, the dead-letter topic folded in, that plan finds unchanged', async () => {
    const exported = await mq('topology', 'export');
    expect(exported.code).toBe(0);
    const project = JSON.parse(exported.stdout) as { exchanges: []; topics: { name: string }[] };
    expect(project.exchanges).toEqual([]);
    expect(project.topics.find((t) => t.name === 'order-events')).toEqual({
      name: 'order-events',
      partitions: 3,
      retention: '7d',
      deadLetterTopic: 'order-events-dlt',
    });
    expect(project.topics.map((t) => t.name)).not.toContain('order-events-dlt');
    expect(project.topics.map((t) => t.name)).not.toContain('__consumer_offsets');

    const file = join(mkdtempSync(join(tmpdir(), 'mq-export-')), 'exported.json');
    writeFileSync(file, exported.stdout);
    const plan = await mq('--config', file, 'topology', 'plan', '--json');
    expect(plan.code).toBe(0);
    const changes = JSON.parse(plan.stdout) as { action: string; name: string }[];
    // Other suites create and delete topics meanwhile: one deleted since is a create, never a conflict.
    expect(changes.filter((c) => c.action === 'conflict')).toEqual([]);
    expect(changes.filter((c) => c.name.startsWith('order-events'))).toEqual([
      { action: 'unchanged', kind: 'topic', name: 'order-events', detail: null },
      { action: 'unchanged', kind: 'topic', name: 'order-events-dlt', detail: null },
    ]);
  });

  it('publishes an NDJSON file of 130,000 lines, more than a call can take as arguments', async () => {
    const name = await topic();
    const file = join(mkdtempSync(join(tmpdir(), 'mq-e2e-')), 'many.ndjson');
    writeFileSync(file, Array.from({ length: 130_000 }, (_, n) => `{"n":${n}}\n`).join(''));
    const published = await mq('publish', 'bench', file, '--topic', name, '--json');
    expect(published.code).toBe(0);
    expect(JSON.parse(published.stdout)).toMatchObject({
      total: 130_000,
      confirmed: 130_000,
      notSent: 0,
    });
    const described = await mq('describe', name, '--json');
    expect(JSON.parse(described.stdout)).toMatchObject({ ready: 130_000 });
  });

  it('puts a keyed record on the partition the Java client would pick for its key', async () => {
    const name = await topic(3);
    const keys = ['ord-1', 'ord-2', 'ord-3', 'ord-789', 'usr-123', 'k'];
    for (const key of keys) {
      const published = await mq(
        'publish',
        'x',
        'fixtures/order.placed.json',
        '--topic',
        name,
        '--key',
        key,
      );
      expect(published.code).toBe(0);
    }
    const tail = await mq(
      'tail',
      name,
      '--from',
      'beginning',
      '--count',
      String(keys.length),
      '--timeout',
      '30s',
      '--json',
    );
    expect(tail.code).toBe(0);
    // kafkajs's default partitioner is murmur2 as in the Java client: the reference here.
    const partitioner = Partitioners.DefaultPartitioner();
    const layout = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }));
    const placed = envelopes(tail.stdout).map((envelope) => [
      Buffer.from((envelope.key as string | null) ?? '').toString(),
      envelope.partition,
    ]);
    expect(placed.sort()).toEqual(
      keys
        .map((key) => [
          key,
          partitioner({
            topic: name,
            partitionMetadata: layout,
            message: { key: Buffer.from(key), value: null },
          }),
        ])
        .sort(),
    );
    expect(new Set(placed.map(([, partition]) => partition)).size).toBeGreaterThan(1);
  });

  it('exits 1 on a missing topic and creates nothing', async () => {
    const missing = `mq-e2e-missing-${randomUUID()}`;
    const tail = await mq('tail', missing, '--timeout', '10s');
    expect(tail.code).toBe(1);
    expect(tail.stderr).toMatch(/^error: topic "mq-e2e-missing-.*" does not exist on Kafka/m);
    expect(tail.stderr).toMatch(/^hint: /m);
    expect(tail.stderr).not.toMatch(/ at .*\.js:\d+/);
    const publish = await mq('publish', 'x', 'fixtures/order.placed.json', '--topic', missing);
    expect(publish.code).toBe(1);
    expect(await listTopics()).not.toContain(missing);
  });

  it('exits 3 within the connect timeout when nothing listens', async () => {
    const started = performance.now();
    const result = await runMq(
      ['--broker', 'kafka://127.0.0.1:1', '--connect-timeout', '3s', 'tail', 'order-events'],
      { env },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: cannot connect to Kafka at kafka:\/\/127\.0\.0\.1:1/m);
    // The timeout plus Node's start-up.
    expect(performance.now() - started).toBeLessThan(3_000 + 2_000);
  });

  it('logs in with SASL, and a wrong password is exit 3 without the password in any output', async () => {
    const { name, password } = KAFKA_SASL_USER;
    const good = await runMq(
      ['--broker', `kafka://${name}:${password}@127.0.0.1:${KAFKA_SASL_PORT}`, 'ls', 'order-*'],
      { env },
    );
    expect(good).toMatchObject({ code: 0 });
    const secret = `wrong-${randomUUID()}`;
    for (const extra of [[], ['--json']]) {
      const bad = await runMq(
        ['--broker', `kafka://${name}:${secret}@127.0.0.1:${KAFKA_SASL_PORT}`, 'ls', ...extra],
        { env: { ...env, MQ_DEBUG: '1' } },
      );
      expect(bad.code).toBe(3);
      expect(bad.stderr + bad.stdout).not.toContain(secret);
      expect(bad.stderr).toContain('refused the login');
    }
  });

  it('speaks TLS to a broker whose CA the context trusts, and refuses one nobody trusts (exit 3)', async () => {
    const url = `kafka+ssl://127.0.0.1:${KAFKA_SSL_PORT}`;
    const untrusted = await runMq(['--broker', url, 'ls', 'order-*'], { env });
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/certificate/i);
    expect(untrusted.stderr).not.toMatch(/\n\s+at /);
    const insecure = await runMq(['--broker', url, '--insecure', 'ls', 'order-*'], { env });
    expect(insecure.code).toBe(0);
    const added = await runMq(['context', 'add', 'kafka-tls', url, '--ca', KAFKA_CA_CERT], { env });
    expect(added.code).toBe(0);
    const trusted = await runMq(['--context', 'kafka-tls', 'describe', 'order-events', '--json'], {
      env,
    });
    expect(trusted.code).toBe(0);
    expect(JSON.parse(trusted.stdout)).toMatchObject({ name: 'order-events', kind: 'topic' });
  });

  it('logs in with SCRAM-SHA-256 and -512 through a context whose password is in the environment', async () => {
    const { name, password } = KAFKA_SCRAM_USER;
    const published = await mq('publish', 'order.placed', 'fixtures/order.placed.json');
    expect(published.code).toBe(0);
    for (const mechanism of ['scram-sha-256', 'scram-sha-512']) {
      const context = `scram-${mechanism}`;
      const added = await runMq(
        [
          'context',
          'add',
          context,
          `kafka://${name}@127.0.0.1:${KAFKA_SASL_PORT}?sasl=${mechanism}`,
          '--password-env',
          'MQ_TEST_SCRAM_PASSWORD',
        ],
        { env },
      );
      expect(added.code).toBe(0);
      const read = await runMq(
        ['--context', context, 'peek', 'order-events', '-n', '1', '--json'],
        {
          env: { ...env, MQ_TEST_SCRAM_PASSWORD: password },
        },
      );
      expect(read.code).toBe(0);
      expect(envelopes(read.stdout)).toHaveLength(1);
      const secret = `wrong-${randomUUID()}`;
      const refused = await runMq(['--context', context, 'ls'], {
        env: { ...env, MQ_TEST_SCRAM_PASSWORD: secret },
      });
      expect(refused.code).toBe(3);
      expect(refused.stderr + refused.stdout).not.toContain(secret);
    }
  });
});
