import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';
import { TerminalSession } from '../helpers/tmux.js';

const FIXTURE = 'fixtures/order.placed.json';
let session: TerminalSession | undefined;

afterEach(() => {
  session?.close();
  session = undefined;
});

async function exitCode(file: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(file); i += 1)
    await new Promise((resolve) => setTimeout(resolve, 100));
  return Number(readFileSync(file, 'utf8').trim());
}

const depth = async (queue: string, env: Record<string, string>) =>
  (await runMq(['peek', queue, '--json', '-n', '100'], { env })).stdout.split('\n').filter(Boolean)
    .length;

describe('interactive consume in a pseudo-terminal', () => {
  it('acks one message, requeues one and rejects one', async () => {
    const env = isolatedEnv();
    expect((await runMq(['publish', 'order.placed', FIXTURE, '--repeat', '3'], { env })).code).toBe(
      0,
    );
    const exitFile = join(env.MQ_HOME, '..', 'exit');
    session = new TerminalSession(['consume', 'email_service_queue'], env, exitFile);

    await session.waitFor(/What now\?/);
    session.keys('a', 'Enter');
    await session.waitFor(/What now\?/, 2);
    session.keys('r', 'Enter');
    // The requeued message comes back first, its delivery counted.
    const third = await session.waitFor(/What now\?/, 3);
    expect(third).toMatch(/deliveryCount=1/);
    session.keys('j', 'Enter');
    await session.waitFor(/What now\?/, 4);
    session.keys('q', 'Enter');

    expect(await exitCode(exitFile)).toBe(0);
    expect(session.screen()).toMatch(/ack 1, requeue 1, reject 1, quit 1/);
    expect(await depth('email_service_queue', env)).toBe(1);
    const [dead] = (
      await runMq(['peek', 'email_service_queue.dlq', '--json'], { env })
    ).stdout.split('\n');
    expect(JSON.parse(dead!)).toMatchObject({ death: { reason: 'rejected' }, deliveryCount: 1 });
  });

  it('returns a message at once when the consumer holding it is killed with SIGKILL', async () => {
    const env = isolatedEnv();
    await runMq(['publish', 'order.placed', FIXTURE], { env });
    session = new TerminalSession(
      ['consume', 'email_service_queue'],
      env,
      join(env.MQ_HOME, '..', 'exit'),
    );
    await session.waitFor(/What now\?/);
    expect(await depth('email_service_queue', env)).toBe(0);
    process.kill(session.mqPid(), 'SIGKILL');
    expect(await depth('email_service_queue', env)).toBe(1);
  });

  it('skip leaves a message in place and offers the next one', async () => {
    const env = isolatedEnv();
    await runMq(['publish', 'order.placed', FIXTURE, '--repeat', '2'], { env });
    const exitFile = join(env.MQ_HOME, '..', 'exit');
    session = new TerminalSession(['consume', 'email_service_queue'], env, exitFile);
    await session.waitFor(/What now\?/);
    session.keys('s', 'Enter');
    await session.waitFor(/What now\?/, 2);
    session.keys('q', 'Enter');
    expect(await exitCode(exitFile)).toBe(0);
    expect(await depth('email_service_queue', env)).toBe(2);
  });
});

describe('dlq confirmations in a pseudo-terminal', () => {
  async function deadLetterOne(env: Record<string, string>): Promise<void> {
    expect((await runMq(['publish', 'order.placed', FIXTURE], { env })).code).toBe(0);
    const rejected = await runMq(['consume', 'sms_service_queue', '--reject', '--count', '1'], {
      env,
    });
    expect(rejected.code).toBe(0);
  }

  it('redrive asks first: no moves nothing (exit 130), yes moves', async () => {
    const env = isolatedEnv();
    await deadLetterOne(env);
    const declined = join(env.MQ_HOME, '..', 'declined');
    session = new TerminalSession(['dlq', 'redrive', 'sms_service_queue'], env, declined);
    await session.waitFor(
      /Move up to 1 dead letter\(s\) from sms_service_queue\.dlq each to the queue it died in, alone\?/,
    );
    session.keys('n', 'Enter');
    expect(await exitCode(declined)).toBe(130);
    expect(await depth('sms_service_queue.dlq', env)).toBe(1);
    session.close();

    const confirmed = join(env.MQ_HOME, '..', 'confirmed');
    session = new TerminalSession(['dlq', 'redrive', 'sms_service_queue'], env, confirmed);
    await session.waitFor(/Move up to 1 dead letter/);
    session.keys('y', 'Enter');
    expect(await exitCode(confirmed)).toBe(0);
    expect(session.screen()).toMatch(/moved 1 of sms_service_queue\.dlq/);
    expect(await depth('sms_service_queue.dlq', env)).toBe(0);
  });

  it('purge asks first, and says it cannot be undone', async () => {
    const env = isolatedEnv();
    await deadLetterOne(env);
    const exitFile = join(env.MQ_HOME, '..', 'exit');
    session = new TerminalSession(['dlq', 'purge', 'sms_service_queue'], env, exitFile);
    await session.waitFor(
      /Delete all 1 dead letter\(s\) in sms_service_queue\.dlq\? This cannot be undone\./,
    );
    session.keys('y', 'Enter');
    expect(await exitCode(exitFile)).toBe(0);
    expect(await depth('sms_service_queue.dlq', env)).toBe(0);
  });
});
