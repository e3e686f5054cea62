import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { expect, it } from 'vitest';

/** A name no other test (or earlier run) uses: prefix + UUID, as BullMQ and kafkajs tests do. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** Steps through a consumer by hand, one `next()` per delivery, to hold deliveries outside a loop. */
export function stepper<T>(iterable: AsyncIterable<T>): AsyncIterator<T> {
  return iterable[Symbol.asyncIterator]();
}

/** An environment variable naming the broker (its URL), or a probe that says whether it answers. */
export type BrokerProbe = string | (() => Promise<boolean>);

export interface BrokerSuiteOptions {
  /** Named in the notice: `RabbitMQ`, `Kafka`. */
  broker: string;
  probe: BrokerProbe;
  /** What to run to start it, for the notice. */
  howToStart: string;
}

/**
 * DESIGN.md §10: a suite against a real broker runs when the broker is there; otherwise it is
 * skipped with a notice nobody can miss, except under `MQ_TEST_REQUIRE_BROKERS=1` (CI), where a
 * missing broker is a failed test. Call at the top level of a test file and skip the suite on
 * false:
 *
 *     const ready = await brokerSuite({ broker: 'RabbitMQ', probe: 'MQ_TEST_AMQP_URL', howToStart });
 *     describe.runIf(ready)('rabbitmq', () => brokerContract(…));
 */
export async function brokerSuite(options: BrokerSuiteOptions): Promise<boolean> {
  const { probe } = options;
  const reason =
    typeof probe === 'string'
      ? process.env[probe]
        ? null
        : `${probe} is not set`
      : (await probe().catch(() => false))
        ? null
        : 'it does not answer';
  if (reason === null) return true;
  const message = `${options.broker} tests skipped: ${reason}; start it with: ${options.howToStart}`;
  if (process.env.MQ_TEST_REQUIRE_BROKERS === '1') {
    it(`reaches ${options.broker} (MQ_TEST_REQUIRE_BROKERS=1)`, () => {
      expect.fail(message.replace('tests skipped', 'is required'));
    });
  } else {
    console.warn(`\n  ⚠ ${message}\n`);
  }
  return false;
}

/** True when something accepts TCP connections on host:port within the timeout. */
export function tcpProbe(host: string, port: number, timeoutMs = 1000): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const socket = connect({ host, port });
      const finish = (reachable: boolean) => {
        socket.destroy();
        resolve(reachable);
      };
      socket.setTimeout(timeoutMs, () => finish(false));
      socket.once('connect', () => finish(true));
      socket.once('error', () => finish(false));
    });
}
