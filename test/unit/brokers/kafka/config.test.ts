import { describe, expect, it } from 'vitest';
import {
  EPHEMERAL_GROUP_PREFIX,
  adminConfig,
  clientConfig,
  consumerConfig,
  ephemeralGroupId,
  isEphemeralGroupId,
  producerConfig,
} from '../../../../src/brokers/kafka/config.js';
import { parseBrokerUrl, type KafkaSpec } from '../../../../src/config/broker-url.js';

function spec(url: string): KafkaSpec {
  const parsed = parseBrokerUrl(url, { env: {}, cwd: '/' });
  if (parsed.kind !== 'kafka') throw new Error('not kafka');
  return parsed;
}

describe('kafkajs client settings', () => {
  it('never lets a producer, consumer or admin create a topic (DESIGN.md §5.2)', () => {
    expect(producerConfig().allowAutoTopicCreation).toBe(false);
    expect(consumerConfig(ephemeralGroupId()).allowAutoTopicCreation).toBe(false);
    expect(adminConfig().allowAutoTopicCreation).toBe(false);
  });

  it('uses a plain producer: an idempotent one retries forever in kafkajs', () => {
    expect(producerConfig().idempotent).toBe(false);
    expect(producerConfig().retry?.retries).toBeLessThanOrEqual(6);
  });

  it('bounds retries and connecting by the connect timeout, and silences kafkajs', () => {
    const config = clientConfig(spec('kafka://a:9092,b:9093'), 2_500);
    expect(config).toMatchObject({
      brokers: ['a:9092', 'b:9093'],
      connectionTimeout: 2_500,
      authenticationTimeout: 2_500,
      logLevel: 0,
    });
    expect(config.retry?.retries).toBeLessThanOrEqual(6);
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  it('passes SASL credentials and TLS through', () => {
    const config = clientConfig(
      spec('kafka+ssl://mq:s3cret@broker:9094?sasl=scram-sha-512'),
      1_000,
    );
    expect(config.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'mq',
      password: 's3cret',
    });
    expect(config.ssl).toMatchObject({ rejectUnauthorized: true });
  });

  it('reads in ephemeral groups that never restart on failure', async () => {
    const group = ephemeralGroupId();
    expect(group).toMatch(new RegExp(`^${EPHEMERAL_GROUP_PREFIX}-[0-9a-f-]{36}$`));
    expect(ephemeralGroupId()).not.toBe(group);
    const restart = consumerConfig(group).retry?.restartOnFailure;
    expect(await restart?.(new Error('boom'))).toBe(false);
  });
});

describe('ephemeral group ids', () => {
  it('are the ones ephemeralGroupId makes, and only those', () => {
    expect(isEphemeralGroupId(ephemeralGroupId())).toBe(true);
    for (const id of [
      'mq-ephemeral-orders',
      'mq-ephemeral',
      'mq-dlq.order-events',
      'billing',
      `x${ephemeralGroupId()}`,
    ]) {
      expect({ id, ephemeral: isEphemeralGroupId(id) }).toEqual({ id, ephemeral: false });
    }
  });
});
