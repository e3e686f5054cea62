/**
 * `mq bench --broker kafka://…`: async mode through a topic of the run's own, a consumer group per
 * service, and both gone at the end. Speeds are not asserted: the command measures them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';
import { KAFKA_URL, disconnectAdmin, kafkaAdmin, kafkaAvailable } from '../helpers/kafka.js';

interface ModeResult {
  completed: number;
  errors: number;
  processed: Record<string, number>;
}

const ready = await kafkaAvailable();

describe.runIf(ready)('mq bench on Kafka', () => {
  afterAll(() => disconnectAdmin());

  it('runs async through a topic and groups of its own, measures throughput, and deletes them', async () => {
    const run = await runMq(
      [
        '--broker',
        KAFKA_URL,
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
      ],
      { env: isolatedEnv() },
    );
    expect(run.code).toBe(0);
    const { broker, modes } = JSON.parse(run.stdout) as {
      broker: string;
      modes: { sync: ModeResult; async: ModeResult };
    };
    expect(broker).toBe('kafka');
    expect(modes.sync.errors).toBeGreaterThan(0);
    expect(modes.async).toMatchObject({ completed: 40, errors: 0 });
    expect(modes.async.processed).toEqual({ email: 40, sms: 40, inventory: 40 });
    const throughput = await runMq(
      ['--broker', KAFKA_URL, 'bench', 'throughput', '--duration', '500ms', '--json'],
      { env: isolatedEnv() },
    );
    expect(throughput.code).toBe(0);
    const measured = JSON.parse(throughput.stdout) as {
      publish: { messages: number };
      consume: { messages: number };
    };
    expect(measured.publish.messages).toBeGreaterThan(0);
    expect(measured.consume.messages).toBe(measured.publish.messages);
    const admin = await kafkaAdmin();
    expect((await admin.listTopics()).filter((name) => name.startsWith('mq-bench'))).toEqual([]);
  });
});
