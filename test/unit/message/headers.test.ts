import { describe, expect, it } from 'vitest';
import type { Headers } from '../../../src/brokers/types.js';
import {
  headerFromJson,
  headersFromJson,
  headersToJson,
  isEncodedBytes,
  isTypedHeader,
} from '../../../src/message/headers.js';

/** Headers as amqplib decodes them, with every kind of value. */
const amqpHeaders: Headers = {
  'x-trace': 'abc',
  'x-retries': 3,
  'x-ratio': 0.25,
  'x-flag': true,
  'x-none': null,
  'x-int': { '!': 'int', value: 5 },
  'x-double': { '!': 'double', value: 1.5 },
  'x-sent': { '!': 'timestamp', value: 1764236467 },
  'x-price': { '!': 'decimal', value: { places: 2, digits: 4999 } },
  'x-bytes': Buffer.from([0xde, 0xad, 0xbe, 0xef]),
  'x-table': { region: 'eu', attempts: [1, 2], raw: Buffer.from('hi') },
  'x-list': ['a', 1, { nested: Buffer.from([0]) }],
};

describe('AMQP headers', () => {
  it('turns bytes into base64 and keeps everything else as amqplib gave it', () => {
    expect(headersToJson(amqpHeaders, 'rabbitmq')).toEqual({
      'x-trace': 'abc',
      'x-retries': 3,
      'x-ratio': 0.25,
      'x-flag': true,
      'x-none': null,
      'x-int': { '!': 'int', value: 5 },
      'x-double': { '!': 'double', value: 1.5 },
      'x-sent': { '!': 'timestamp', value: 1764236467 },
      'x-price': { '!': 'decimal', value: { places: 2, digits: 4999 } },
      'x-bytes': { base64: '3q2+7w==' },
      'x-table': { region: 'eu', attempts: [1, 2], raw: { base64: 'aGk=' } },
      'x-list': ['a', 1, { nested: { base64: 'AA==' } }],
    });
  });

  it('gives back Buffers (amqplib encodes only Buffers as byte arrays) and the same values', () => {
    const back = headersFromJson(headersToJson(amqpHeaders, 'rabbitmq'));
    expect(back).toEqual(amqpHeaders);
    expect(Buffer.isBuffer(back['x-bytes'])).toBe(true);
  });

  it('treats bytes on the local broker as AMQP does', () => {
    expect(headersToJson({ b: Buffer.from('text') }, 'local')).toEqual({
      b: { base64: 'dGV4dA==' },
    });
  });
});

describe('Kafka headers', () => {
  it('shows text as strings, binary as base64, repeated keys as arrays', () => {
    const headers: Headers = {
      'event-type': Buffer.from('order.placed'),
      'kafka_dlt-original-partition': Buffer.from([0, 0, 0, 2]),
      retries: [Buffer.from('order-events'), Buffer.from('order-events-retry')],
    };
    const json = headersToJson(headers, 'kafka');
    expect(json).toEqual({
      'event-type': 'order.placed',
      'kafka_dlt-original-partition': { base64: 'AAAAAg==' },
      retries: ['order-events', 'order-events-retry'],
    });
    const back = headersFromJson(json);
    expect(back['event-type']).toBe('order.placed');
    expect(back['kafka_dlt-original-partition']).toEqual(Buffer.from([0, 0, 0, 2]));
  });
});

describe('header names', () => {
  it('keeps a header named __proto__ as a header', () => {
    const headers = JSON.parse('{"__proto__":"x","constructor":"y"}') as Headers;
    const json = headersToJson(headers, 'rabbitmq');
    expect(Object.keys(json)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect(Object.keys(headersFromJson(json))).toEqual(['__proto__', 'constructor']);
  });
});

describe('value guards', () => {
  it('recognises encoded bytes and typed values', () => {
    expect(isEncodedBytes({ base64: 'AA==' })).toBe(true);
    expect(isEncodedBytes({ base64: 'AA==', other: 1 })).toBe(false);
    expect(isTypedHeader({ '!': 'int', value: 1 })).toBe(true);
    expect(isTypedHeader(['!'])).toBe(false);
    expect(headerFromJson({ base64: '/w==' })).toEqual(Buffer.from([0xff]));
  });
});
