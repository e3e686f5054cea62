import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq } from '../helpers/cli.js';

const FIXTURE = 'fixtures/order.placed.json';
const SERVICE_QUEUES = ['email_service_queue', 'sms_service_queue', 'inventory_service_queue'];

interface Envelope {
  id: string;
  queue: string;
  deliveryCount: number | null;
  redelivered: boolean;
  death: { reason: string; queue: string; count: number } | null;
  body: string;
}

const envelopes = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Envelope);

async function publishedOnce(): Promise<ReturnType<typeof isolatedEnv>> {
  const env = isolatedEnv();
  const result = await runMq(['publish', 'order.placed', FIXTURE], { env });
  expect(result.code).toBe(0);
  return env;
}

describe('the embedded local broker, through the CLI', () => {
  it('puts one published event in each service queue, and peek shows it identically twice', async () => {
    const env = isolatedEnv();
    const published = await runMq(['publish', 'order.placed', FIXTURE], { env });
    expect(published.code).toBe(0);
    expect(published.stderr).toMatch(
      /published 1\/1 to exchange order_events with routing key order\.placed/,
    );
    expect(published.stderr).toContain('local');
    for (const queue of SERVICE_QUEUES) {
      const first = await runMq(['peek', queue, '--json'], { env });
      const second = await runMq(['peek', queue, '--json'], { env });
      expect(first.code).toBe(0);
      expect(envelopes(first.stdout)).toHaveLength(1);
      expect(second.stdout).toBe(first.stdout);
      expect(envelopes(first.stdout)[0]).toMatchObject({ queue, deliveryCount: 0 });
    }
  });

  it('consume --ack removes the message', async () => {
    const env = await publishedOnce();
    const consumed = await runMq(
      ['consume', 'email_service_queue', '--ack', '--count', '1', '--json'],
      { env },
    );
    expect(consumed.code).toBe(0);
    expect(envelopes(consumed.stdout)).toHaveLength(1);
    expect((await runMq(['peek', 'email_service_queue', '--json'], { env })).stdout).toBe('');
    expect(
      (await runMq(['expect', 'email_service_queue', '--depth', '0', '--timeout', '2s'], { env }))
        .code,
    ).toBe(0);
  });

  it('consume --requeue returns it with deliveryCount + 1', async () => {
    const env = await publishedOnce();
    const requeued = await runMq(['consume', 'email_service_queue', '--requeue', '--count', '1'], {
      env,
    });
    expect(requeued.code).toBe(0);
    const [after] = envelopes(
      (await runMq(['peek', 'email_service_queue', '--json'], { env })).stdout,
    );
    expect(after).toMatchObject({ deliveryCount: 1, redelivered: true });
  });

  it('consume --reject moves it to the dead-letter queue with a death record', async () => {
    const env = await publishedOnce();
    expect(
      (await runMq(['consume', 'email_service_queue', '--reject', '--count', '1'], { env })).code,
    ).toBe(0);
    expect((await runMq(['peek', 'email_service_queue', '--json'], { env })).stdout).toBe('');
    const [dead] = envelopes(
      (await runMq(['peek', 'email_service_queue.dlq', '--json'], { env })).stdout,
    );
    expect(dead?.death).toMatchObject({
      reason: 'rejected',
      queue: 'email_service_queue',
      count: 1,
    });
  });

  it('dlq ls and dlq show decode a rejected message, and remove nothing', async () => {
    const env = await publishedOnce();
    const mq = (...args: string[]) => runMq(args, { env });
    expect((await mq('consume', 'sms_service_queue', '--reject', '--count', '1')).code).toBe(0);

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
    const [id, age, reason, count, origin, redrives, body] = rows.stdout.trimEnd().split('\t');
    expect(id).toBe(dead!.id.slice(0, 8));
    expect(age).toMatch(/^\d+(ms|s)$/);
    expect([reason, count, origin, redrives]).toEqual([
      'rejected',
      '1',
      'sms_service_queue ← order_events order.placed',
      '0',
    ]);
    expect(body).toMatch(/^\{ "eventType": "order\.placed".*…$/);

    const shown = await mq('dlq', 'show', 'sms_service_queue.dlq', id!, '--json');
    expect(shown.code).toBe(0);
    expect(envelopes(shown.stdout).map((envelope) => envelope.id)).toEqual([dead!.id]);
    const missing = await mq('dlq', 'show', 'sms_service_queue', 'no-such-id');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: no dead letter with id no-such-id in sms_service_queue\.dlq$/m,
    );

    expect(envelopes((await mq('peek', 'sms_service_queue.dlq', '--json')).stdout)).toHaveLength(1);
    const empty = await mq('dlq', 'ls', 'email_service_queue');
    expect(empty).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'email_service_queue.dlq is empty\n',
    });
  });

  it('publish --from replays saved dead letters into the queue that dead-lettered them, alone', async () => {
    const env = await publishedOnce();
    const mq = (...args: string[]) => runMq(args, { env });
    expect((await mq('consume', 'sms_service_queue', '--reject', '--count', '1')).code).toBe(0);
    const saved = join(mkdtempSync(join(tmpdir(), 'mq-replay-')), 'dead.ndjson');
    writeFileSync(saved, (await mq('dlq', 'ls', 'sms_service_queue', '--json')).stdout);
    const [dead] = envelopes(readFileSync(saved, 'utf8'));

    const planned = await mq('publish', '--from', saved, '--dry-run');
    expect(planned.stderr).toContain('1 message(s) would go to queue sms_service_queue');
    const replayed = await mq('publish', '--from', saved, '--json');
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({
      route: { kind: 'queue', queue: 'sms_service_queue' },
      confirmed: 1,
    });
    const depth = async (queue: string) =>
      envelopes((await mq('peek', queue, '--json')).stdout).length;
    expect(await depth('sms_service_queue')).toBe(1);
    expect(await depth('email_service_queue')).toBe(1);
    expect(await depth('inventory_service_queue')).toBe(1);
    const [back] = envelopes((await mq('peek', 'sms_service_queue', '--json')).stdout);
    expect(back).toMatchObject({ id: dead!.id, body: dead!.body });

    expect((await mq('publish', '--from', saved, '--to-queue', 'email_service_queue')).code).toBe(
      0,
    );
    expect(await depth('email_service_queue')).toBe(2);
    const refused = await mq('publish', 'order.placed', '--from', saved);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^error: --from replays saved envelopes: it takes no <event> or files$/m,
    );
  });

  it('publish --from round-trips bodies byte for byte, JSON that JSON.parse would change and non-UTF-8 alike', async () => {
    const env = isolatedEnv();
    const mq = (...args: string[]) => runMq(args, { env });
    const dir = mkdtempSync(join(tmpdir(), 'mq-replay-'));
    const exact = '{"a":1.0,"n":12345678901234567890}';
    writeFileSync(join(dir, 'exact.json'), exact);
    writeFileSync(join(dir, 'binary.bin'), Buffer.from([0xff, 0x00, 0xfe, 0x41]));
    for (const file of ['exact.json', 'binary.bin']) {
      const sent = await mq(
        'publish',
        'x',
        join(dir, file),
        '--exchange',
        '',
        '--routing-key',
        'email_service_queue.dlq',
      );
      expect(sent.code).toBe(0);
    }
    const saved = join(dir, 'saved.ndjson');
    writeFileSync(saved, (await mq('peek', 'email_service_queue.dlq', '--json')).stdout);
    expect((await mq('publish', '--from', saved, '--to-queue', 'sms_service_queue.dlq')).code).toBe(
      0,
    );
    const bodies = async (queue: string) =>
      (await mq('peek', queue, '--json')).stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { body: string; bodyEncoding: string })
        .map(({ body, bodyEncoding }) => ({ body, bodyEncoding }));
    expect(await bodies('sms_service_queue.dlq')).toEqual([
      { body: exact, bodyEncoding: 'utf8' },
      { body: Buffer.from([0xff, 0x00, 0xfe, 0x41]).toString('base64'), bodyEncoding: 'base64' },
    ]);
  });

  it('dead-letters on the third requeue under maxDeliveries 3', async () => {
    const env = await publishedOnce();
    for (let delivery = 1; delivery <= 3; delivery += 1) {
      const result = await runMq(
        ['consume', 'email_service_queue', '--requeue', '--count', '1', '--json'],
        { env },
      );
      expect(result.code).toBe(0);
      expect(envelopes(result.stdout)[0]?.deliveryCount).toBe(delivery - 1);
    }
    expect((await runMq(['peek', 'email_service_queue', '--json'], { env })).stdout).toBe('');
    const [dead] = envelopes(
      (await runMq(['peek', 'email_service_queue.dlq', '--json'], { env })).stdout,
    );
    expect(dead?.death).toMatchObject({ reason: 'delivery_limit', queue: 'email_service_queue' });
  });

  it('tail prints ready:, receives two messages published by another process, and the queue keeps them', async () => {
    const env = isolatedEnv();
    const tail = startMq(
      ['tail', 'sms_service_queue', '--count', '2', '--timeout', '20s', '--json'],
      { env },
    );
    await tail.waitForStderr(/^ready: /m);
    for (let i = 0; i < 2; i += 1)
      expect((await runMq(['publish', 'order.placed', FIXTURE], { env })).code).toBe(0);
    const result = await tail.done;
    expect(result.code).toBe(0);
    expect(envelopes(result.stdout)).toHaveLength(2);
    expect(
      envelopes((await runMq(['peek', 'sms_service_queue', '--json'], { env })).stdout),
    ).toHaveLength(2);
  });

  it('tail --count exits 5 when the timeout comes first', async () => {
    const result = await runMq(['tail', 'sms_service_queue', '--count', '1', '--timeout', '1s'], {
      env: isolatedEnv(),
    });
    expect(result.code).toBe(5);
  });

  it('expect exits 0 when the count is there, and 5 when it is not reached in time', async () => {
    const env = await publishedOnce();
    expect(
      (await runMq(['expect', 'email_service_queue', '--count', '1', '--timeout', '10s'], { env }))
        .code,
    ).toBe(0);
    const short = await runMq(
      ['expect', 'email_service_queue', '--count', '5', '--timeout', '2s'],
      { env },
    );
    expect(short.code).toBe(5);
    expect(short.stderr).toContain('expected count at least 5, saw 1');
  });

  it('expect --count also counts messages that arrive after ready:', async () => {
    const env = isolatedEnv();
    const waiting = startMq(
      [
        'expect',
        'inventory_service_queue',
        '--count',
        '1',
        '--filter',
        'json.orderId == "ord-789"',
        '--timeout',
        '20s',
      ],
      { env },
    );
    await waiting.waitForStderr(/^ready: /m);
    await runMq(['publish', 'order.placed', FIXTURE], { env });
    expect((await waiting.done).code).toBe(0);
  });

  it('refuses a non-interactive consume with no settle flag (exit 2)', async () => {
    const result = await runMq(['consume', 'email_service_queue'], { env: isolatedEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--ack, --requeue or --reject is required when not running interactively',
    );
  });

  it('says "did you mean" for an unknown queue (exit 1)', async () => {
    const result = await runMq(['peek', 'email_service_queu'], { env: isolatedEnv() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('did you mean "email_service_queue"');
  });

  it('refuses --reject on a queue without a dead-letter exchange unless --force', async () => {
    const env = await publishedOnce();
    const refused = await runMq(
      ['consume', 'email_service_queue.dlq', '--reject', '--count', '1'],
      { env },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has no dead-letter exchange');
  });

  it('lists and describes queues with their dead-letter queues', async () => {
    const env = await publishedOnce();
    const ls = await runMq(['ls', '--json'], { env });
    const queues = JSON.parse(ls.stdout) as {
      name: string;
      ready: number;
      deadLetterQueue: string | null;
    }[];
    expect(queues.find((q) => q.name === 'email_service_queue')).toMatchObject({
      ready: 1,
      deadLetterQueue: 'email_service_queue.dlq',
    });
    const described = await runMq(['describe', 'email_service_queue', '--json'], { env });
    expect(JSON.parse(described.stdout)).toMatchObject({
      type: 'quorum',
      maxDeliveries: 3,
      bindings: [{ exchange: 'order_events', routingKey: 'order.*' }],
    });
    const plan = await runMq(['topology', 'plan', '--json'], { env });
    expect(plan.code).toBe(0);
    expect(
      (JSON.parse(plan.stdout) as { action: string }[]).every(
        (change) => change.action === 'unchanged',
      ),
    ).toBe(true);
  });

  it('exports its topology as a project file that declares the same, with nothing to warn about', async () => {
    const env = isolatedEnv();
    const exported = await runMq(['topology', 'export'], { env });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe('exported 1 exchange(s), 3 queue(s), 0 topic(s)\n');
    const project = JSON.parse(exported.stdout) as { queues: unknown[] };
    const repository = JSON.parse(readFileSync('mq.config.json', 'utf8')) as { queues: unknown[] };
    expect(project.queues).toEqual(repository.queues);

    const file = join(mkdtempSync(join(tmpdir(), 'mq-export-')), 'mq.config.json');
    writeFileSync(file, exported.stdout);
    const plan = await runMq(['--config', file, 'topology', 'plan', '--json'], { env });
    expect(plan.code).toBe(0);
    const changes = JSON.parse(plan.stdout) as { action: string }[];
    expect(changes).toHaveLength(14);
    expect(changes.every((change) => change.action === 'unchanged')).toBe(true);
  });

  it('reports an unroutable publish with exit 4', async () => {
    const result = await runMq(
      ['publish', 'order.placed', FIXTURE, '--routing-key', 'nobody.listens'],
      { env: isolatedEnv() },
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('exchange order_events with routing key nobody.listens');
  });

  it('selects JSON fields with --fields, and refuses an unknown one', async () => {
    const env = await publishedOnce();
    const peek = await runMq(['peek', 'email_service_queue', '--fields', 'queue,deliveryCount'], {
      env,
    });
    expect(JSON.parse(peek.stdout)).toEqual({ queue: 'email_service_queue', deliveryCount: 0 });
    const ls = await runMq(['ls', 'sms*', '--fields', 'name,ready'], { env });
    expect(JSON.parse(ls.stdout)).toEqual([
      { name: 'sms_service_queue', ready: 1 },
      { name: 'sms_service_queue.dlq', ready: 0 },
    ]);
    const unknown = await runMq(['describe', 'sms_service_queue', '--fields', 'name,depth'], {
      env,
    });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stderr)).toMatchObject({
      error: { code: 'usage', message: 'unknown JSON field "depth"' },
    });
  });

  it('tail -n shows the backlog first, then new messages, each once', async () => {
    const env = await publishedOnce();
    const tail = startMq(
      ['tail', 'email_service_queue', '-n', '5', '--count', '2', '--timeout', '20s', '--json'],
      { env },
    );
    await tail.waitForStderr(/^ready: /m);
    await runMq(['publish', 'order.placed', FIXTURE], { env });
    const result = await tail.done;
    expect(result.code).toBe(0);
    const ids = envelopes(result.stdout).map((envelope) => envelope.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('consume --requeue without --count goes once round the queue', async () => {
    const env = await publishedOnce();
    const result = await runMq(
      ['consume', 'email_service_queue', '--requeue', '--timeout', '5s', '--json'],
      { env },
    );
    expect(result.code).toBe(0);
    expect(envelopes(result.stdout)).toHaveLength(1);
    const [after] = envelopes(
      (await runMq(['peek', 'email_service_queue', '--json'], { env })).stdout,
    );
    expect(after).toMatchObject({ deliveryCount: 1 });
  });

  it.each([
    { signal: 'SIGINT', code: 130 },
    { signal: 'SIGTERM', code: 143 },
  ] as const)(
    'consume stopped by $signal exits $code, after settling what it had',
    async ({ signal, code }) => {
      const env = await publishedOnce();
      const consume = startMq(['consume', 'inventory_service_queue', '--ack', '--count', '5'], {
        env,
      });
      await consume.waitForStderr(/^ready: consuming/m);
      process.kill(consume.pid, signal);
      const result = await consume.done;
      expect(result.code).toBe(code);
      expect(result.stderr).toContain('inventory_service_queue: ack 1');
      expect(result.stderr).toContain('interrupted: unsettled messages were returned to the queue');
    },
  );

  it('ls --watch refreshes until Ctrl-C, which ends it normally', async () => {
    const env = await publishedOnce();
    const watch = startMq(['ls', 'email*', '--watch', '200ms'], { env });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    process.kill(watch.pid, 'SIGINT');
    const result = await watch.done;
    expect(result.code).toBe(0);
    expect(
      result.stdout.split('\n\n').filter((block) => block.includes('email_service_queue')).length,
    ).toBeGreaterThan(1);
  });
});
