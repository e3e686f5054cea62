import { describe, expect, it } from 'vitest';
import { parseBrokerUrl } from '../../../src/config/broker-url.js';
import { redact } from '../../../src/secrets.js';

const options = { env: { MQ_HOME: '/data/mq' }, cwd: '/work' };

describe('parseBrokerUrl', () => {
  it('reads local forms', () => {
    expect(parseBrokerUrl('local', options)).toMatchObject({ kind: 'local', dataDir: '/data/mq' });
    expect(parseBrokerUrl('local:./box', options)).toMatchObject({
      kind: 'local',
      dataDir: '/work/box',
    });
    expect(parseBrokerUrl('local', { env: { XDG_DATA_HOME: '/xdg' }, cwd: '/' })).toMatchObject({
      dataDir: '/xdg/mq',
    });
  });

  it('reads AMQP URLs with vhost, TLS and default credentials', () => {
    expect(parseBrokerUrl('amqp://localhost', options)).toMatchObject({
      kind: 'rabbitmq',
      username: 'guest',
      vhost: '/',
      tls: null,
      managementUrl: 'http://localhost:15672',
      display: 'amqp://guest:***@localhost',
    });
    expect(parseBrokerUrl('amqps://app:pw@rabbit.example:5671/orders', options)).toMatchObject({
      vhost: 'orders',
      tls: {},
      display: 'amqps://app:***@rabbit.example:5671/orders',
    });
    expect(parseBrokerUrl('amqp://h/%2F', options)).toMatchObject({ vhost: '/' });
  });

  it('reads a Kafka host list with SASL', () => {
    expect(parseBrokerUrl('kafka://k1:9092,k2', options)).toMatchObject({
      kind: 'kafka',
      brokers: ['k1:9092', 'k2:9092'],
      ssl: false,
      sasl: null,
      display: 'kafka://k1:9092,k2:9092',
    });
    expect(
      parseBrokerUrl('kafka+ssl://app:s3cr%40t@k1:9094?sasl=scram-sha-512', options),
    ).toMatchObject({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'app', password: 's3cr@t' },
      display: 'kafka+ssl://app:***@k1:9094?sasl=scram-sha-512',
    });
  });

  it.each([
    ['amqp://guest:hunter2x@host:99999/', 'malformed URL'],
    ['redis://user:hunter2x@host', 'unsupported scheme "redis"'],
    ['kafka://user:hunter2x@k1:70000', 'port 70000 is out of range'],
    ['kafka://k1?sasl=gssapi', 'unknown SASL mechanism "gssapi"'],
    ['kafka://app@k1', 'no password for SASL user "app"'],
    ['nonsense', 'not a URL'],
    ['local:', 'local: needs a directory'],
  ])('rejects %s with a usage error that hides the password', (url, reason) => {
    let caught: unknown;
    try {
      parseBrokerUrl(url, options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ exitCode: 2 });
    const message = (caught as Error).message;
    expect(message).toContain(reason);
    expect(redact(message)).not.toContain('hunter2x');
    expect(message).not.toContain('hunter2x');
  });
});
