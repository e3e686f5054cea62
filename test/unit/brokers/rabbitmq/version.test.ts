import { describe, expect, it } from 'vitest';
import {
  defaultQuorumDeliveryLimit,
  formatVersion,
  parseServerVersion,
  releaseCountsOnQuorum,
} from '../../../../src/brokers/rabbitmq/version.js';

describe('RabbitMQ server versions', () => {
  it.each([
    ['3.10.8', { major: 3, minor: 10, patch: 8 }],
    ['4.3.0-beta.1', { major: 4, minor: 3, patch: 0 }],
    ['3.13.7+1.g2b5a8e1', { major: 3, minor: 13, patch: 7 }],
    ['4.1', { major: 4, minor: 1, patch: 0 }],
  ])('reads %s', (text, want) => {
    expect(parseServerVersion(text)).toEqual(want);
  });

  it.each(['', 'unknown', 'v4.3.0', undefined])('cannot read %j', (text) => {
    expect(parseServerVersion(text)).toBeNull();
  });

  it.each([
    ['3.10.8', true],
    ['3.13.7', true],
    ['4.2.9', true],
    ['4.3.0', false],
    ['4.3.0-rc.1', false],
    ['5.0.0', false],
  ])('on %s a nack(requeue) to a quorum queue counts a delivery: %s', (text, counts) => {
    expect(releaseCountsOnQuorum(parseServerVersion(text))).toBe(counts);
  });

  it('assumes a version it cannot read counts, the safe side of the browse rule', () => {
    expect(releaseCountsOnQuorum(null)).toBe(true);
    expect(formatVersion(null)).toBe('an unknown version');
  });

  it('knows the default delivery limit quorum queues got in 4.0', () => {
    expect(defaultQuorumDeliveryLimit(parseServerVersion('3.13.7'))).toBeNull();
    expect(defaultQuorumDeliveryLimit(parseServerVersion('4.0.0'))).toBe(20);
    expect(defaultQuorumDeliveryLimit(null)).toBeNull();
  });
});
