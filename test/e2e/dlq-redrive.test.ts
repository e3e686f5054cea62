/**
 * `mq dlq redrive` and `mq dlq purge` through the built CLI, on the embedded local broker and on
 * RabbitMQ (a fresh vhost with the repository's topology), the same tests on both: the issue's
 * sms_service_queue story, dry runs, --max-redrives, --to, --via-exchange, confirmation, purge.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, type CliResult } from '../helpers/cli.js';
import { brokerUrl, createVhost, deleteVhost, rabbitMqAvailable } from '../helpers/rabbitmq.js';

const FIXTURE = 'fixtures/order.placed.json';
const SERVICE_QUEUES = ['email_service_queue', 'sms_service_queue', 'inventory_service_queue'];

interface Envelope {
  id: string;
  headers: Record<string, unknown>;
  death: {
    reason: string;
    queue: string;
    exchange: string;
    routingKeys: string[];
    redriveCount: number;
  } | null;
  body: string;
}

const envelopes = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Envelope);

interface Setup {
  /** Runs mq against a broker of the test's own, with the repository's topology in place. */
  mq: (...args: string[]) => Promise<CliResult>;
}

function redriveSuite(name: string, fresh: () => Promise<Setup>) {
  describe(`${name}: dlq redrive and purge`, () => {
    async function depths(mq: Setup['mq'], queues: readonly string[]): Promise<number[]> {
      const counts: number[] = [];
      for (const queue of queues) {
        const described = await mq('describe', queue, '--json');
        expect(described).toMatchObject({ code: 0 });
        counts.push((JSON.parse(described.stdout) as { ready: number }).ready);
      }
      return counts;
    }

    /** Publishes once and rejects the sms copy, until the dead letter is in the DLQ. */
    async function deadLetterOne(mq: Setup['mq']): Promise<Envelope> {
      expect((await mq('publish', 'order.placed', FIXTURE)).code).toBe(0);
      const rejected = await mq('consume', 'sms_service_queue', '--reject', '--count', '1');
      expect(rejected.code).toBe(0);
      return waitForDeadLetter(mq);
    }

    async function waitForDeadLetter(mq: Setup['mq']): Promise<Envelope> {
      const listed = () =>
        mq('dlq', 'ls', 'sms_service_queue', '--json').then((r) => envelopes(r.stdout));
      await expect.poll(listed, { timeout: 10_000, interval: 200 }).toHaveLength(1);
      return (await listed())[0]!;
    }

    it('puts a rejected message back on sms_service_queue alone, with its origin in headers', async () => {
      const { mq } = await fresh();
      const dead = await deadLetterOne(mq);
      expect(dead.death).toMatchObject({
        reason: 'rejected',
        queue: 'sms_service_queue',
        exchange: 'order_events',
        redriveCount: 0,
      });
      expect(dead.death!.routingKeys).toContain('order.placed');
      const siblings = ['email_service_queue', 'inventory_service_queue'];
      const before = await depths(mq, siblings);
      expect(before).toEqual([1, 1]);

      const redriven = await mq('dlq', 'redrive', 'sms_service_queue', '--yes', '--json');
      expect(redriven.code).toBe(0);
      expect(JSON.parse(redriven.stdout)).toMatchObject({
        deadLetterQueue: 'sms_service_queue.dlq',
        moved: 1,
        skipped: 0,
        failed: 0,
        targets: { 'queue sms_service_queue': 1 },
      });
      expect(redriven.stderr).toMatch(
        /^moved 1 of sms_service_queue\.dlq \(1 to queue sms_service_queue\), 0 skipped, 0 failed$/m,
      );
      expect(await depths(mq, ['sms_service_queue', 'sms_service_queue.dlq'])).toEqual([1, 0]);
      expect(await depths(mq, siblings)).toEqual(before);

      const consumed = await mq('consume', 'sms_service_queue', '--ack', '--count', '1', '--json');
      const [back] = envelopes(consumed.stdout);
      expect(back).toMatchObject({ id: dead.id, body: dead.body });
      expect(back!.headers).toMatchObject({
        'mq-original-exchange': 'order_events',
        'mq-original-routing-key': 'order.placed',
        'mq-redriven-from': 'sms_service_queue.dlq',
        'mq-redrive-count': 1,
      });
      expect(back!.headers).not.toHaveProperty('x-death');
      const history = JSON.parse(back!.headers['mq-death-history'] as string) as unknown[];
      expect(history).toEqual([expect.objectContaining({ reason: 'rejected' })]);
    });

    it('--dry-run changes nothing and says what would move where', async () => {
      const { mq } = await fresh();
      await deadLetterOne(mq);
      const all = [...SERVICE_QUEUES, 'sms_service_queue.dlq'];
      const before = await depths(mq, all);
      const dry = await mq('dlq', 'redrive', 'sms_service_queue', '--dry-run', '--json');
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({
        dryRun: true,
        moved: 1,
        targets: { 'queue sms_service_queue': 1 },
      });
      expect(dry.stderr).toMatch(
        /^dry run: would move 1 of sms_service_queue\.dlq .*nothing was changed$/m,
      );
      expect(await depths(mq, all)).toEqual(before);
    });

    it('--max-redrives 1 leaves a message redriven once in the DLQ, and says so (exit 0)', async () => {
      const { mq } = await fresh();
      await deadLetterOne(mq);
      expect((await mq('dlq', 'redrive', 'sms_service_queue', '--yes')).code).toBe(0);
      expect((await mq('consume', 'sms_service_queue', '--reject', '--count', '1')).code).toBe(0);
      const again = await waitForDeadLetter(mq);
      expect(again.death?.redriveCount).toBe(1);

      const refused = await mq(
        'dlq',
        'redrive',
        'sms_service_queue',
        '--max-redrives',
        '1',
        '--yes',
      );
      expect(refused.code).toBe(0);
      expect(refused.stderr).toContain(
        `skipped ${again.id}: redriven 1 time(s) already (--max-redrives 1)`,
      );
      expect(await depths(mq, ['sms_service_queue', 'sms_service_queue.dlq'])).toEqual([0, 1]);
      // Still intact: listed as before.
      expect((await waitForDeadLetter(mq)).id).toBe(again.id);
    });

    it('asks for --yes without a terminal, and moves nothing', async () => {
      const { mq } = await fresh();
      await deadLetterOne(mq);
      const refused = await mq('dlq', 'redrive', 'sms_service_queue');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /^error: redrive moves up to 1 message\(s\): confirm with --yes$/m,
      );
      expect(await depths(mq, ['sms_service_queue', 'sms_service_queue.dlq'])).toEqual([0, 1]);
    });

    it('--to moves to another queue; --via-exchange names the queues that get copies', async () => {
      const { mq } = await fresh();
      await deadLetterOne(mq);
      const moved = await mq(
        'dlq',
        'redrive',
        'sms_service_queue',
        '--to',
        'email_service_queue',
        '--yes',
      );
      expect(moved.code).toBe(0);
      expect(await depths(mq, ['email_service_queue', 'sms_service_queue.dlq'])).toEqual([2, 0]);

      const missing = await mq(
        'dlq',
        'redrive',
        'sms_service_queue',
        '--to',
        'no_such_queue',
        '--yes',
      );
      expect(missing.code).toBe(1);

      expect((await mq('publish', 'order.placed', FIXTURE)).code).toBe(0);
      expect((await mq('consume', 'sms_service_queue', '--reject', '--count', '1')).code).toBe(0);
      await waitForDeadLetter(mq);
      const via = await mq(
        'dlq',
        'redrive',
        'sms_service_queue',
        '--via-exchange',
        '--yes',
        '--json',
      );
      expect(via.code).toBe(0);
      expect(JSON.parse(via.stdout)).toMatchObject({
        moved: 1,
        targets: { 'exchange order_events with routing key order.placed': 1 },
      });
      expect(via.stderr).toContain(
        '--via-exchange: copies go to order_events order.placed → email_service_queue, inventory_service_queue, sms_service_queue',
      );
      // Every queue bound to order.placed got a copy: the siblings twice now.
      expect(await depths(mq, SERVICE_QUEUES)).toEqual([4, 1, 3]);
    });

    it('--chunk gives skipped messages back and takes them again, in order, reporting each once', async () => {
      const { mq } = await fresh();
      expect((await mq('publish', 'order.placed', FIXTURE, '--repeat', '12')).code).toBe(0);
      const rejected = await mq('consume', 'sms_service_queue', '--reject', '--count', '12');
      expect(rejected.code).toBe(0);
      const listed = () =>
        mq('dlq', 'ls', 'sms_service_queue', '--json').then((r) => envelopes(r.stdout));
      await expect.poll(listed, { timeout: 10_000, interval: 200 }).toHaveLength(12);
      const kept = (await listed()).filter((_, index) => index % 3 === 0).map((e) => e.id);
      // 8 to move at 2 a second: a run of ~4 s in holds of 300 ms (the first window of 2 takes
      // longer), each ending with the skipped messages it took given back to the queue.
      const run = await mq(
        'dlq',
        'redrive',
        'sms_service_queue',
        '--filter',
        `!(id in [${kept.map((id) => JSON.stringify(id)).join(', ')}])`,
        '--rate',
        '2/s',
        '--chunk',
        '300ms',
        '--yes',
        '--json',
      );
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as {
        moved: number;
        skipped: number;
        failed: number;
        notTaken: number;
        holds: number;
        skippedMessages: { id: string }[];
      };
      expect(report).toMatchObject({ moved: 8, skipped: 4, failed: 0, notTaken: 0 });
      expect(report.holds).toBeGreaterThanOrEqual(3);
      expect(report.skippedMessages.map((m) => m.id)).toEqual(kept);
      expect((await listed()).map((e) => e.id)).toEqual(kept);
      expect(await depths(mq, ['sms_service_queue'])).toEqual([8]);
    });

    it('purge deletes the dead letters matching --filter and keeps the others', async () => {
      const { mq } = await fresh();
      await deadLetterOne(mq);
      expect((await mq('publish', 'order.placed', FIXTURE)).code).toBe(0);
      expect((await mq('consume', 'sms_service_queue', '--reject', '--count', '1')).code).toBe(0);
      const listed = () =>
        mq('dlq', 'ls', 'sms_service_queue', '--json').then((r) => envelopes(r.stdout));
      await expect.poll(listed, { timeout: 10_000, interval: 200 }).toHaveLength(2);
      const [first, second] = await listed();

      const unconfirmed = await mq('dlq', 'purge', 'sms_service_queue');
      expect(unconfirmed.code).toBe(2);
      const filtered = await mq(
        'dlq',
        'purge',
        'sms_service_queue',
        '--filter',
        `id == "${first!.id}"`,
        '--yes',
        '--json',
      );
      expect(filtered.code).toBe(0);
      expect(JSON.parse(filtered.stdout)).toEqual({
        deadLetterQueue: 'sms_service_queue.dlq',
        deleted: 1,
        kept: 1,
      });
      expect((await listed()).map((envelope) => envelope.id)).toEqual([second!.id]);
      const all = await mq('dlq', 'purge', 'sms_service_queue', '--yes');
      expect(all).toMatchObject({ code: 0 });
      expect(all.stderr).toBe('deleted 1 dead letter(s) from sms_service_queue.dlq\n');
      expect(await listed()).toEqual([]);
    });
  });
}

redriveSuite('local', () => {
  const env = isolatedEnv();
  return Promise.resolve({ mq: (...args: string[]) => runMq(args, { env }) });
});

const ready = await rabbitMqAvailable();
describe.runIf(ready)('rabbitmq', () => {
  const vhosts: string[] = [];
  afterAll(async () => {
    for (const vhost of vhosts) await deleteVhost(vhost);
  });
  redriveSuite('rabbitmq', async () => {
    const vhost = await createVhost();
    vhosts.push(vhost);
    const env = isolatedEnv();
    const mq = (...args: string[]) => runMq(['--broker', brokerUrl(vhost), ...args], { env });
    const applied = await mq('topology', 'apply');
    if (applied.code !== 0) throw new Error(`topology apply failed: ${applied.stderr}`);
    return { mq };
  });
});
