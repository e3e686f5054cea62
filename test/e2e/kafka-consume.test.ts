/**
 * `mq consume <topic> --group` through the built CLI against the shared Kafka node: commits that
 * never pass an unsettled record, a kill -9 that loses nothing, `--reject` to the dead-letter
 * topic with Spring's headers, the refusals, and the interactive prompt in a pseudo-terminal held
 * longer than the group's session timeout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq, startMq, type CliResult } from '../helpers/cli.js';
import { uniqueName } from '../helpers/brokers.js';
import {
  KAFKA_URL,
  createTopic,
  deleteTopics,
  disconnectAdmin,
  kafkaAdmin,
  kafkaAvailable,
} from '../helpers/kafka.js';
import { TerminalSession } from '../helpers/tmux.js';

interface Envelope {
  id: string;
  body: string;
  offset: string;
  death: Record<string, unknown> | null;
}

const envelopes = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Envelope);

const ready = await kafkaAvailable();

describe.runIf(ready)('Kafka consume --group, through the CLI', () => {
  const env = isolatedEnv();
  const ownTopics: string[] = [];
  let session: TerminalSession | undefined;

  const mq = (...args: string[]): Promise<CliResult> =>
    runMq(['--broker', KAFKA_URL, ...args], { env });

  /** A topic of the test's own (one partition) holding `records` records, and its `-dlt` topic. */
  async function topicWith(records: number): Promise<string> {
    const topic = await createTopic('mq-e2e-consume');
    ownTopics.push(topic, `${topic}-dlt`);
    await (
      await kafkaAdmin()
    ).createTopics({ topics: [{ topic: `${topic}-dlt` }], waitForLeaders: true });
    const published = await mq(
      'publish',
      'order.placed',
      'fixtures/order.placed.json',
      '--topic',
      topic,
      '--repeat',
      String(records),
    );
    expect(published.code).toBe(0);
    return topic;
  }

  afterEach(() => {
    session?.close();
    session = undefined;
  });

  afterAll(async () => {
    await deleteTopics(ownTopics);
    await disconnectAdmin();
  });

  it('commits what was acked: the next consumer of the group goes on from there', async () => {
    const topic = await topicWith(3);
    const group = uniqueName('mq-e2e-group');
    const first = await mq('consume', topic, '--group', group, '--ack', '--count', '2', '--json');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/ready: consuming/);
    expect(envelopes(first.stdout).map((e) => e.offset)).toEqual(['0', '1']);
    const rest = await mq('consume', topic, '--group', group, '--ack', '--count', '1', '--json');
    expect(envelopes(rest.stdout).map((e) => e.offset)).toEqual(['2']);
    const none = await mq('consume', topic, '--group', group, '--ack', '--timeout', '2s');
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no messages/);
  });

  it('loses nothing when killed with SIGKILL: a rerun of the group reads every record', async () => {
    const topic = await topicWith(10);
    const group = uniqueName('mq-e2e-group');
    // A killed member stays in the group until its session times out: the rerun joins after that.
    const run = startMq(
      [
        '--broker',
        KAFKA_URL,
        'consume',
        topic,
        '--group',
        group,
        '--ack',
        '--json',
        '--session-timeout',
        '6s',
      ],
      { env },
    );
    await run.waitForStderr(/ready: consuming/, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(run.pid, 'SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBeNull();
    const rerun = await mq(
      'consume',
      topic,
      '--group',
      group,
      '--ack',
      '--timeout',
      '15s',
      '--json',
    );
    expect(rerun.code).toBe(0);
    const seen = new Set([
      // A line cut short by the kill is not a record read.
      ...killed.stdout.split('\n').flatMap((line) => {
        try {
          return [(JSON.parse(line) as Envelope).offset];
        } catch {
          return [];
        }
      }),
      ...envelopes(rerun.stdout).map((e) => e.offset),
    ]);
    expect([...seen].sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 10 }, (_, n) => String(n)),
    );
  });

  it('--reject writes the record to <topic>-dlt with a death record that names where it died', async () => {
    const topic = await topicWith(1);
    const group = uniqueName('mq-e2e-group');
    const rejected = await mq('consume', topic, '--group', group, '--reject', '--count', '1');
    expect(rejected.code).toBe(0);
    expect(rejected.stderr).toMatch(/reject 1/);
    const [dead] = envelopes((await mq('peek', `${topic}-dlt`, '--json')).stdout);
    expect(dead?.death).toMatchObject({
      originalTopic: topic,
      originalPartition: 0,
      originalOffset: '0',
      originalConsumerGroup: group,
    });
    // Settled: the group has moved past it.
    const after = await mq('consume', topic, '--group', group, '--ack', '--timeout', '2s');
    expect(after.stderr).toMatch(/no messages/);
  });

  it('refuses what would lose or loop records, with one line and exit 2', async () => {
    const topic = await topicWith(1);
    const cases: [string[], RegExp][] = [
      [['consume', topic, '--ack'], /needs a consumer group: --group/],
      [['consume', topic, '--group', 'g', '--requeue'], /refused without a terminal/],
    ];
    for (const [args, message] of cases) {
      const result = await mq(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const bare = await createTopic('mq-e2e-consume');
    ownTopics.push(bare);
    const noDlt = await mq('consume', bare, '--group', 'g', '--reject');
    expect(noDlt.code).toBe(2);
    expect(noDlt.stderr).toMatch(/has no dead-letter topic/);
    const rabbit = await runMq(['consume', 'anything', '--group', 'g', '--ack'], {
      env: isolatedEnv(),
    });
    expect(rabbit.code).toBe(2);
    expect(rabbit.stderr).toMatch(/--group is for Kafka topics/);
  });

  it('keeps the group membership while a person sits at the prompt past the session timeout', async () => {
    const topic = await topicWith(2);
    const group = uniqueName('mq-e2e-group');
    const exitFile = join(env.MQ_HOME, '..', `exit-${group}`);
    // --prefetch 1: kafkajs's batch waits for room, so heartbeats come from mq, not its fetch loop.
    session = new TerminalSession(
      [
        '--broker',
        KAFKA_URL,
        'consume',
        topic,
        '--group',
        group,
        '--prefetch',
        '1',
        '--session-timeout',
        '6s',
      ],
      env,
      exitFile,
    );
    const screen = await session.waitFor(/What now\?/, 1, 30_000);
    expect(screen).toMatch(/skip: move past it \(on Kafka a skip is an ack\)/);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    session.keys('a', 'Enter');
    await session.waitFor(/What now\?/, 2);
    session.keys('q', 'Enter');
    expect(await exitCode(exitFile)).toBe(0);
    expect(session.screen()).toMatch(/ack 1, quit 1/);
    // The ack after the pause was committed; the record left at quit was not.
    const next = await mq('consume', topic, '--group', group, '--ack', '--count', '1', '--json');
    expect(envelopes(next.stdout).map((e) => e.offset)).toEqual(['1']);
  }, 60_000);
});

async function exitCode(file: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(file); i += 1)
    await new Promise((resolve) => setTimeout(resolve, 100));
  return Number(readFileSync(file, 'utf8').trim());
}
