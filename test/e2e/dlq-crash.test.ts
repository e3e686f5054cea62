/**
 * Crash safety of `mq dlq redrive` (DESIGN.md §7): dead letters, a redrive killed with SIGKILL at
 * random moments, then rerun to completion. Every message must be back in the queue it died in,
 * none missing; duplicates are counted and printed (on the local broker a move is one transaction:
 * there must be none). 1,000 messages here; `npm run test:soak` runs 10,000
 * (MQ_REDRIVE_CRASH_MESSAGES).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq, type CliResult } from '../helpers/cli.js';
import { brokerUrl, createVhost, deleteVhost, rabbitMqAvailable } from '../helpers/rabbitmq.js';

const MESSAGES = Number(process.env.MQ_REDRIVE_CRASH_MESSAGES ?? 1000);
const KILLS = 4;
/** Reading every message back takes a round trip each on RabbitMQ: ~200 a second here. */
const CONSUME_TIMEOUT = `${Math.max(15, Math.ceil(MESSAGES / 100))}s`;
const FIXTURE = 'fixtures/order.placed.json';
/**
 * At most this many messages a second, so that every run lasts long enough for its kill to land
 * mid-run: four kills of at most 0.9 s each take at most 90 % of the messages.
 */
const RATE = Math.max(250, Math.round(MESSAGES / 4));

interface Envelope {
  id: string;
}

const ids = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as Envelope).id);

function killUnlessExited(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** A broker of the test's own: the flags that name it and the environment to run mq in. */
interface Broker {
  args: string[];
  env: Record<string, string>;
}

function crashSuite(name: string, fresh: () => Promise<Broker>, duplicatesAllowed: boolean) {
  describe(`${name}: a redrive killed with SIGKILL`, () => {
    it(
      `loses none of ${MESSAGES} dead letters${duplicatesAllowed ? '' : ' and duplicates none'}`,
      async () => {
        const { args, env } = await fresh();
        const mq = (...rest: string[]): Promise<CliResult> => runMq([...args, ...rest], { env });
        const published = await mq(
          'publish',
          'order.placed',
          FIXTURE,
          '--repeat',
          String(MESSAGES),
        );
        expect(published.code).toBe(0);
        const rejected = await mq(
          'consume',
          'sms_service_queue',
          '--reject',
          '--count',
          String(MESSAGES),
          '--prefetch',
          '100',
        );
        expect(rejected.code).toBe(0);
        const listDead = () =>
          mq('dlq', 'ls', 'sms_service_queue', '--json', '--limit', String(MESSAGES + 10));
        await expect
          .poll(async () => ids((await listDead()).stdout).length, {
            timeout: 30_000,
            interval: 500,
          })
          .toBe(MESSAGES);
        const deadIds = ids((await listDead()).stdout);
        expect(new Set(deadIds).size).toBe(MESSAGES);

        let landed = 0;
        for (let kill = 0; kill < KILLS; kill += 1) {
          const run = startMq(
            [...args, 'dlq', 'redrive', 'sms_service_queue', '--yes', '--rate', `${RATE}/s`],
            { env },
          );
          const at = 200 + Math.random() * 700;
          await new Promise((resolve) => setTimeout(resolve, at));
          killUnlessExited(run.pid);
          const result = await run.done;
          // Killed, or it finished first: a signal leaves no exit code.
          const killed = result.code === null;
          if (killed) landed += 1;
          console.log(
            `${name}: redrive ${killed ? `killed after ${Math.round(at)} ms` : `finished before the kill (exit ${result.code})`}`,
          );
        }
        expect(landed).toBeGreaterThanOrEqual(2);
        const finished = await mq('dlq', 'redrive', 'sms_service_queue', '--yes', '--json');
        expect(finished.code).toBe(0);
        const report = JSON.parse(finished.stdout) as {
          moved: number;
          failed: number;
          finishedFromEarlierRun: number;
          possibleDuplicates: string[];
          notTaken: number;
        };
        expect(report.failed).toBe(0);
        // The rerun waited for the broker to take back what the killed runs held.
        expect(report.notTaken).toBe(0);

        const consumed = await mq(
          'consume',
          'sms_service_queue',
          '--ack',
          '--json',
          '--timeout',
          CONSUME_TIMEOUT,
          '--prefetch',
          '100',
        );
        expect(consumed.code).toBe(0);
        const back = ids(consumed.stdout);
        const unique = new Set(back);
        const missing = deadIds.filter((id) => !unique.has(id));
        const duplicates = back.length - unique.size;
        console.log(
          `${name}: ${MESSAGES} dead letters, ${KILLS} kills: ${missing.length} missing, ${duplicates} duplicate(s); ` +
            `last run moved ${report.moved}, removed ${report.finishedFromEarlierRun} confirmed earlier, ` +
            `reported ${report.possibleDuplicates.length} possible duplicate(s)`,
        );
        expect(missing).toEqual([]);
        expect(unique.size).toBe(MESSAGES);
        expect(duplicates).toBeLessThanOrEqual(duplicatesAllowed ? MESSAGES : 0);
        const left = await mq('dlq', 'ls', 'sms_service_queue', '--json');
        expect(ids(left.stdout)).toEqual([]);
      },
      Math.max(120_000, MESSAGES * 40),
    );
  });
}

crashSuite('local', () => Promise.resolve({ args: [], env: isolatedEnv() }), false);

const ready = await rabbitMqAvailable();
describe.runIf(ready)('rabbitmq', () => {
  const vhosts: string[] = [];
  afterAll(async () => {
    for (const vhost of vhosts) await deleteVhost(vhost);
  });
  crashSuite(
    'rabbitmq',
    async () => {
      const vhost = await createVhost();
      vhosts.push(vhost);
      const broker = { args: ['--broker', brokerUrl(vhost)], env: isolatedEnv() };
      const applied = await runMq([...broker.args, 'topology', 'apply'], { env: broker.env });
      if (applied.code !== 0) throw new Error(`topology apply failed: ${applied.stderr}`);
      return broker;
    },
    true,
  );
});
