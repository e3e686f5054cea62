/**
 * The built CLI against the shared RabbitMQ node, in a vhost of this file's own with the
 * repository's topology (mq.config.json) applied by `mq topology apply`. Each test starts from
 * empty queues.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq, type CliResult } from '../helpers/cli.js';
import {
  brokerUrl,
  createVhost,
  deleteVhost,
  management,
  rabbitMqAvailable,
} from '../helpers/rabbitmq.js';

const FIXTURE = 'fixtures/order.placed.json';
const SERVICE_QUEUES = ['email_service_queue', 'sms_service_queue', 'inventory_service_queue'];
const ALL_QUEUES = [...SERVICE_QUEUES, ...SERVICE_QUEUES.map((queue) => `${queue}.dlq`)];
/** A classic queue bound like the service queues, which peek may browse. */
const AUDIT_QUEUE = 'audit_queue';

interface Envelope {
  id: string;
  queue: string;
  exchange: string;
  routingKey: string;
  deliveryCount: number | null;
  redelivered: boolean;
  death: {
    reason: string;
    queue: string;
    count: number;
    exchange: string;
    routingKeys: string[];
  } | null;
  body: string;
}

const envelopes = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Envelope);

const ready = await rabbitMqAvailable();

describe.runIf(ready)('RabbitMQ, through the CLI', () => {
  let vhost: string;
  const env = isolatedEnv();

  const mq = (...args: string[]): Promise<CliResult> =>
    runMq(['--broker', brokerUrl(vhost), ...args], { env });

  const queuePath = (queue: string) =>
    `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;

  async function readyCount(queue: string): Promise<number> {
    const described = await mq('describe', queue, '--json');
    expect(described).toMatchObject({ code: 0 });
    return (JSON.parse(described.stdout) as { ready: number }).ready;
  }

  /** The dead-letter queue's messages, once RabbitMQ has moved them there (it does so asynchronously). */
  async function deadLetters(queue: string): Promise<Envelope[]> {
    const peek = () => mq('peek', `${queue}.dlq`, '--json').then((r) => envelopes(r.stdout));
    await expect.poll(peek, { timeout: 10_000, interval: 200 }).toHaveLength(1);
    return peek();
  }

  async function publishOnce(...flags: string[]): Promise<void> {
    const published = await mq('publish', 'order.placed', FIXTURE, ...flags);
    expect(published).toMatchObject({ code: 0 });
  }

  beforeAll(async () => {
    vhost = await createVhost();
    const applied = await mq('topology', 'apply');
    if (applied.code !== 0) throw new Error(`topology apply failed: ${applied.stderr}`);
    await management('PUT', queuePath(AUDIT_QUEUE), { durable: true });
    await management(
      'POST',
      `/api/bindings/${encodeURIComponent(vhost)}/e/order_events/q/${AUDIT_QUEUE}`,
      { routing_key: 'order.*' },
    );
  });

  beforeEach(async () => {
    for (const queue of [...ALL_QUEUES, AUDIT_QUEUE]) {
      await management('DELETE', `${queuePath(queue)}/contents`);
    }
  });

  afterAll(async () => {
    if (vhost !== undefined) await deleteVhost(vhost);
  });

  it('applies the topology idempotently, and one publish puts one message in each service queue', async () => {
    const again = await mq('topology', 'apply', '--json');
    expect(again.code).toBe(0);
    const changes = JSON.parse(again.stdout) as { action: string }[];
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((change) => change.action === 'unchanged')).toBe(true);

    await publishOnce();
    for (const queue of SERVICE_QUEUES) expect(await readyCount(queue)).toBe(1);
    for (const queue of SERVICE_QUEUES) expect(await readyCount(`${queue}.dlq`)).toBe(0);
  });

  it('exports the live topology as a project file that plan finds unchanged', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mq-export-')), 'exported.json');
    const exported = await mq('topology', 'export', '--output', file);
    expect(exported).toMatchObject({ code: 0, stdout: '' });
    expect(exported.stderr).toMatch(/^exported 1 exchange\(s\), 4 queue\(s\), 0 topic\(s\) to /m);
    const project = JSON.parse(readFileSync(file, 'utf8')) as {
      exchanges: unknown[];
      queues: { name: string }[];
    };
    expect(project.exchanges).toEqual([{ name: 'order_events', type: 'topic' }]);
    expect(project.queues.find((q) => q.name === 'email_service_queue')).toEqual({
      name: 'email_service_queue',
      type: 'quorum',
      bindings: [{ exchange: 'order_events', pattern: 'order.*' }],
      maxDeliveries: 3,
      deadLetterQueue: 'email_service_queue.dlq',
    });
    expect(project.queues.map((q) => q.name).sort()).toEqual(
      [AUDIT_QUEUE, ...SERVICE_QUEUES].sort(),
    );

    const plan = await mq('--config', file, 'topology', 'plan', '--json');
    expect(plan.code).toBe(0);
    const changes = JSON.parse(plan.stdout) as { action: string; kind: string; name: string }[];
    expect(changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
    // The dead-letter exchange, DLQs and their bindings come back from deadLetterQueue.
    expect(changes).toContainEqual(
      expect.objectContaining({ kind: 'exchange', name: 'order_events.dlx' }),
    );
    expect(changes.filter((c) => c.kind === 'queue')).toHaveLength(7);

    const again = await mq('topology', 'export', '--output', file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; nothing was written/);
    expect(await mq('topology', 'export', '--output', file, '--force')).toMatchObject({ code: 0 });
  });

  it('exports what a project file cannot say with a warning naming it, exit 0', async () => {
    const odd = await createVhost();
    try {
      const path = (kind: string, name: string) =>
        `/api/${kind}/${encodeURIComponent(odd)}/${encodeURIComponent(name)}`;
      await management('PUT', path('exchanges', 'in'), { type: 'topic', durable: true });
      await management('PUT', path('exchanges', 'copy'), { type: 'fanout', durable: true });
      await management('PUT', path('queues', 'bounded'), {
        durable: true,
        arguments: { 'x-max-length': 10, 'x-overflow': 'reject-publish' },
      });
      const bindings = `/api/bindings/${encodeURIComponent(odd)}`;
      await management('POST', `${bindings}/e/in/q/bounded`, { routing_key: 'a.*' });
      await management('POST', `${bindings}/e/in/e/copy`, { routing_key: '#' });

      const exported = await runMq(['--broker', brokerUrl(odd), 'topology', 'export'], { env });
      expect(exported.code).toBe(0);
      expect(JSON.parse(exported.stdout)).toEqual({
        exchanges: [
          { name: 'copy', type: 'fanout' },
          { name: 'in', type: 'topic' },
        ],
        queues: [
          { name: 'bounded', type: 'classic', bindings: [{ exchange: 'in', pattern: 'a.*' }] },
        ],
        topics: [],
        events: {},
      });
      expect(exported.stderr).toMatch(
        /^warning: binding in -> copy \(#\) binds an exchange to an exchange, which mq.config.json cannot declare; left out$/m,
      );
      expect(exported.stderr).toMatch(
        /^warning: queue "bounded": x-max-length, x-overflow cannot be declared in mq.config.json; left out \(topology plan will show the difference\)$/m,
      );
      expect(exported.stderr).toMatch(/\(2 warning\(s\) above\)$/m);

      const json = await runMq(
        ['--broker', brokerUrl(odd), 'topology', 'export', '--json', '--fields', 'warnings'],
        { env },
      );
      expect(json).toMatchObject({ code: 0, stderr: '' });
      expect((JSON.parse(json.stdout) as { warnings: string[] }).warnings).toHaveLength(2);
    } finally {
      await deleteVhost(odd);
    }
  });

  it('leaves a classic queue unchanged after five peeks', async () => {
    await publishOnce();
    const seen: Envelope[][] = [];
    for (let i = 0; i < 5; i += 1) {
      const peek = await mq('peek', AUDIT_QUEUE, '--json');
      expect(peek.code).toBe(0);
      seen.push(envelopes(peek.stdout));
    }
    const withoutRedelivered = (list: Envelope[]) =>
      list.map((envelope) => ({ ...envelope, redelivered: null }));
    for (const look of seen) expect(withoutRedelivered(look)).toEqual(withoutRedelivered(seen[0]!));
    expect(seen[0]).toHaveLength(1);
    expect(seen[0]![0]).toMatchObject({ queue: AUDIT_QUEUE, deliveryCount: null });
    expect(await readyCount(AUDIT_QUEUE)).toBe(1);
  });

  it('refuses to peek a quorum queue on RabbitMQ before 4.3 (exit 2), spending no delivery', async () => {
    await publishOnce();
    const peek = await mq('peek', 'email_service_queue');
    expect(peek.code).toBe(2);
    expect(peek.stderr).toContain('x-delivery-count + 1');
    expect(peek.stderr).toContain('--force');
    expect(await readyCount('email_service_queue')).toBe(1);
    const consumed = await mq('consume', 'email_service_queue', '--ack', '--count', '1', '--json');
    expect(envelopes(consumed.stdout)[0]).toMatchObject({ deliveryCount: 0, redelivered: false });
  });

  it('tails a quorum queue: receives the next publish after ready:, and the queue keeps it', async () => {
    const tail = startMq(
      [
        '--broker',
        brokerUrl(vhost),
        'tail',
        'email_service_queue',
        '--count',
        '1',
        '--timeout',
        '20s',
        '--json',
      ],
      { env },
    );
    await tail.waitForStderr(/^ready: /m);
    await publishOnce();
    const result = await tail.done;
    expect(result).toMatchObject({ code: 0 });
    const [copy] = envelopes(result.stdout);
    expect(copy).toMatchObject({
      queue: 'email_service_queue',
      exchange: 'order_events',
      routingKey: 'order.placed',
      deliveryCount: 0,
    });
    expect(JSON.parse(copy!.body)).toMatchObject({ orderId: 'ord-789' });
    expect(await readyCount('email_service_queue')).toBe(1);
  });

  it('reports an unroutable publish with exit 4, naming exchange and routing key', async () => {
    const result = await mq('publish', 'order.placed', FIXTURE, '--routing-key', 'nobody.listens');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('exchange order_events with routing key nobody.listens');
  });

  it('says "did you mean" for an unknown queue (exit 1)', async () => {
    const result = await mq('peek', 'email_service_queu');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('did you mean "email_service_queue"');
  });

  it('cannot log in with a wrong password: exit 3, the password nowhere', async () => {
    const password = 'Wr0ng-pa55word';
    for (const debug of [undefined, '1']) {
      const result = await runMq(['--broker', brokerUrl(vhost, password), 'ls'], {
        env: { ...env, MQ_DEBUG: debug },
      });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('login refused for user "guest"');
      expect(`${result.stdout}${result.stderr}`).not.toContain(password);
    }
  });

  it('cannot connect to a vhost that does not exist: exit 3, saying so', async () => {
    const result = await runMq(['--broker', brokerUrl('no-such-vhost'), 'ls'], { env });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('vhost "no-such-vhost" does not exist');
  });

  it('connects to the first cluster node that answers, and says which on stderr', async () => {
    // Port 1 on loopback refuses at once: a cluster node that is down.
    const downNode = brokerUrl(vhost).replace(':5672/', ':1/');
    const added = await runMq(['context', 'add', 'cluster', downNode, '--node', brokerUrl(vhost)], {
      env,
    });
    expect(added.code).toBe(0);
    const described = await runMq(['--context', 'cluster', 'describe', AUDIT_QUEUE, '--json'], {
      env,
    });
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({ name: AUDIT_QUEUE, ready: 0 });
    expect(described.stderr).toContain(
      'connected to amqp://127.0.0.1:5672 (amqp://127.0.0.1:1: connection refused)',
    );
    expect(described.stderr).not.toContain('guest:guest');
  });

  it('refuses an invalid URL with a password in it: exit 2, the password nowhere', async () => {
    const password = 'Pa55-in-a-bad-url';
    const result = await runMq(
      ['--broker', `amqp://guest:${password}@127.0.0.1:99999/${vhost}`, 'ls'],
      { env },
    );
    expect(result.code).toBe(2);
    expect(`${result.stdout}${result.stderr}`).not.toContain(password);
  });

  it('consume --ack removes the message', async () => {
    await publishOnce();
    const consumed = await mq('consume', 'email_service_queue', '--ack', '--count', '1', '--json');
    expect(consumed.code).toBe(0);
    expect(envelopes(consumed.stdout)).toHaveLength(1);
    expect(await readyCount('email_service_queue')).toBe(0);
  });

  it('consume --requeue returns it with deliveryCount + 1', async () => {
    await publishOnce();
    const requeued = await mq('consume', 'email_service_queue', '--requeue', '--count', '1');
    expect(requeued.code).toBe(0);
    const again = await mq('consume', 'email_service_queue', '--ack', '--count', '1', '--json');
    expect(envelopes(again.stdout)[0]).toMatchObject({ deliveryCount: 1, redelivered: true });
  });

  it('consume --reject moves it to the classic dead-letter queue with its x-death record', async () => {
    await publishOnce();
    expect((await mq('consume', 'email_service_queue', '--reject', '--count', '1')).code).toBe(0);
    expect(await readyCount('email_service_queue')).toBe(0);
    const [dead] = await deadLetters('email_service_queue');
    expect(dead).toMatchObject({ exchange: 'order_events.dlx', deliveryCount: null });
    expect(dead?.death).toMatchObject({
      reason: 'rejected',
      queue: 'email_service_queue',
      exchange: 'order_events',
      count: 1,
    });
  });

  it('dead-letters on the third requeue under maxDeliveries 3', async () => {
    await publishOnce();
    for (let delivery = 1; delivery <= 3; delivery += 1) {
      const result = await mq(
        'consume',
        'email_service_queue',
        '--requeue',
        '--count',
        '1',
        '--json',
      );
      expect(result.code).toBe(0);
      expect(envelopes(result.stdout)[0]?.deliveryCount).toBe(delivery - 1);
    }
    expect(await readyCount('email_service_queue')).toBe(0);
    const [dead] = await deadLetters('email_service_queue');
    expect(dead?.death).toMatchObject({ reason: 'delivery_limit', queue: 'email_service_queue' });
    const listed = await mq('dlq', 'ls', 'email_service_queue', '--json');
    expect(envelopes(listed.stdout).map((envelope) => envelope.death?.reason)).toEqual([
      'delivery_limit',
    ]);
  });

  it('dlq ls and dlq show decode a rejected message from sms_service_queue, and remove nothing', async () => {
    await publishOnce();
    expect((await mq('consume', 'sms_service_queue', '--reject', '--count', '1')).code).toBe(0);
    await deadLetters('sms_service_queue');

    const listed = await mq('dlq', 'ls', 'sms_service_queue', '--json');
    expect(listed.code).toBe(0);
    const [dead, ...more] = envelopes(listed.stdout);
    expect(more).toEqual([]);
    expect(dead?.death).toMatchObject({
      reason: 'rejected',
      queue: 'sms_service_queue',
      exchange: 'order_events',
      routingKeys: ['order.placed'],
      count: 1,
    });
    expect(listed.stderr).toBe(
      '1 dead letter(s) of 1 in sms_service_queue.dlq: 1 rejected from sms_service_queue; nothing was removed\n',
    );
    const rows = await mq('dlq', 'ls', 'sms_service_queue');
    expect(rows.stdout.split('\t').slice(2, 6)).toEqual([
      'rejected',
      '1',
      'sms_service_queue ← order_events order.placed',
      '0',
    ]);

    const shown = await mq('dlq', 'show', 'sms_service_queue', dead!.id.slice(0, 8), '--json');
    expect(shown.code).toBe(0);
    expect(envelopes(shown.stdout).map((envelope) => envelope.id)).toEqual([dead!.id]);
    expect(await readyCount('sms_service_queue.dlq')).toBe(1);

    // Replayed from the saved listing: back on sms_service_queue alone, the same bytes.
    const saved = join(mkdtempSync(join(tmpdir(), 'mq-replay-')), 'dead.ndjson');
    writeFileSync(saved, listed.stdout);
    const replayed = await mq('publish', '--from', saved, '--json');
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ confirmed: 1, unroutable: 0 });
    expect(await readyCount('sms_service_queue')).toBe(1);
    expect(await readyCount('email_service_queue')).toBe(1);
    expect(await readyCount('inventory_service_queue')).toBe(1);
    const consumed = await mq('consume', 'sms_service_queue', '--ack', '--count', '1', '--json');
    expect(envelopes(consumed.stdout)[0]).toMatchObject({ id: dead!.id, body: dead!.body });

    const none = await mq('dlq', 'ls', AUDIT_QUEUE);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: queue "audit_queue" has no dead-letter queue$/m);
  });
});
