import { describe, expect, it } from 'vitest';
import { nodesOf } from '../../../../src/brokers/rabbitmq/connection.js';
import { parseBrokerUrl } from '../../../../src/config/broker-url.js';
import type { RabbitMqSpec } from '../../../../src/config/broker-url.js';

function spec(url: string, extraNodes: string[] = []): RabbitMqSpec {
  const parsed = parseBrokerUrl(url, { env: {}, cwd: '/', extraNodes });
  if (parsed.kind !== 'rabbitmq') throw new Error('not RabbitMQ');
  return parsed;
}

describe('cluster nodes', () => {
  it('lists each node in order with its credentials decoded and a display without them', () => {
    const nodes = nodesOf(
      spec('amqp://app:p%40ss@rabbit-1/orders', ['amqp://app:p%40ss@rabbit-2:5673/orders']),
    );
    expect(nodes).toEqual([
      {
        protocol: 'amqp',
        hostname: 'rabbit-1',
        port: 5672,
        username: 'app',
        password: 'p@ss',
        display: 'amqp://rabbit-1:5672',
      },
      {
        protocol: 'amqp',
        hostname: 'rabbit-2',
        port: 5673,
        username: 'app',
        password: 'p@ss',
        display: 'amqp://rabbit-2:5673',
      },
    ]);
  });

  it('defaults AMQPS to 5671 and unwraps IPv6 hosts', () => {
    const [node] = nodesOf(spec('amqps://guest:guest@[::1]/'));
    expect(node).toMatchObject({
      protocol: 'amqps',
      hostname: '::1',
      port: 5671,
      display: 'amqps://[::1]:5671',
    });
  });
});
