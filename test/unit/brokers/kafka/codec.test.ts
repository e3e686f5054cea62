import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { headersToKafka, toInbound, toKafkaMessage } from '../../../../src/brokers/kafka/codec.js';
import { lz4Codec, snappyCodec, zstdCodec } from '../../../../src/brokers/kafka/codecs.js';
import { toEnvelope } from '../../../../src/message/envelope-codec.js';

const record = (extra: Partial<KafkaMessage>): KafkaMessage =>
  ({
    key: Buffer.from('ord-1'),
    value: Buffer.from('{"a":1.0}'),
    timestamp: '1700000000000',
    attributes: 0,
    offset: '42',
    headers: {},
    ...extra,
  }) as unknown as KafkaMessage;

describe('Kafka records as messages and envelopes', () => {
  it('keeps repeated header keys as arrays, in order, and non-UTF-8 values as base64', () => {
    const message = toInbound(
      'orders',
      2,
      record({
        headers: {
          trace: [Buffer.from('first'), Buffer.from('second')],
          raw: Buffer.from([0xff, 0x00]),
          empty: undefined,
        },
      }),
    );
    const envelope = toEnvelope(message, { broker: 'kafka', sourceKind: 'topic' });
    expect(envelope).toMatchObject({
      id: 'orders/2/42',
      topic: 'orders',
      queue: null,
      partition: 2,
      offset: '42',
      key: 'ord-1',
      timestamp: '2023-11-14T22:13:20.000Z',
      redelivered: null,
      deliveryCount: null,
      properties: null,
      body: '{"a":1.0}',
      headers: { trace: ['first', 'second'], raw: { base64: '/wA=' }, empty: null },
    });
  });

  it('reads a record without key or value as no key and an empty body', () => {
    const message = toInbound('orders', 0, record({ key: null, value: null }));
    expect(message.key).toBeUndefined();
    expect(message.body).toHaveLength(0);
  });

  it('writes headers as bytes: arrays as repeated keys, other values as text', () => {
    expect(
      headersToKafka({
        text: 'x',
        list: ['a', ['b', 7]],
        bytes: Buffer.from([1, 2]),
        count: 3,
        flag: true,
        typed: { '!': 'timestamp', value: 1700000000 },
        nested: { region: 'eu' },
      }),
    ).toEqual({
      text: 'x',
      list: ['a', 'b', '7'],
      bytes: Buffer.from([1, 2]),
      count: '3',
      flag: 'true',
      typed: '1700000000',
      nested: '{"region":"eu"}',
    });
  });

  it('sends the publisher timestamp and key with the exact body', () => {
    const sent = toKafkaMessage(
      { body: Buffer.from([0xff]), key: Buffer.from('k'), properties: { timestamp: 5 } },
      1,
    );
    expect(sent).toMatchObject({ partition: 1, timestamp: '5', key: Buffer.from('k') });
    expect(sent.value).toEqual(Buffer.from([0xff]));
  });
});

describe('compression codecs', () => {
  const data = Buffer.from('order.placed '.repeat(500));

  it.each([
    ['snappy', snappyCodec],
    ['lz4', lz4Codec],
  ])('%s round-trips', async (_, codec) => {
    const lib = codec();
    const packed = await lib.compress({ buffer: data });
    expect(packed.length).toBeLessThan(data.length);
    expect(await lib.decompress(packed)).toEqual(data);
  });

  it('zstd decompresses and refuses to compress clearly', async () => {
    // `printf 'hello zstd\n' | zstd -c | base64`: a frame as the zstd tool writes it.
    const frame = Buffer.from('KLUv/QRYWQAAaGVsbG8genN0ZApsV/lR', 'base64');
    expect((await zstdCodec().decompress(frame)).toString()).toBe('hello zstd\n');
    await expect(zstdCodec().compress({ buffer: data })).rejects.toThrow(/does not write them/);
  });
});
