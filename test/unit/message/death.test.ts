import { describe, expect, it } from 'vitest';
import type { Headers } from '../../../src/brokers/types.js';
import { decodeDeath } from '../../../src/message/death.js';
import type { DeathRecord } from '../../../src/message/envelope.js';
import { fromEnvelope } from '../../../src/message/envelope-codec.js';
import { readFixture } from './samples.js';

const noDeath: DeathRecord = {
  reason: null,
  count: null,
  queue: null,
  exchange: null,
  routingKeys: [],
  time: null,
  firstTime: null,
  originalTopic: null,
  originalPartition: null,
  originalOffset: null,
  originalConsumerGroup: null,
  exception: null,
  redriveCount: 0,
};

const seconds = (iso: string) => Date.parse(iso) / 1000;

function xDeath(reason: string, queue: string, time: unknown, count = 1) {
  return {
    count,
    reason,
    queue,
    time,
    exchange: 'order_events',
    'routing-keys': ['order.placed'],
  } as Headers[string];
}

describe('RabbitMQ x-death', () => {
  it('reads the newest entry, with amqplib typed timestamps', () => {
    const headers: Headers = {
      'x-death': [
        xDeath(
          'rejected',
          'email_service_queue',
          { '!': 'timestamp', value: seconds('2025-11-27T09:41:09Z') },
          2,
        ),
      ],
    };
    expect(decodeDeath(headers)).toEqual({
      ...noDeath,
      reason: 'rejected',
      count: 2,
      queue: 'email_service_queue',
      exchange: 'order_events',
      routingKeys: ['order.placed'],
      time: '2025-11-27T09:41:09.000Z',
      firstTime: '2025-11-27T09:41:09.000Z',
    });
  });

  it('accepts a plain number of seconds, and milliseconds', () => {
    const plain = decodeDeath({
      'x-death': [xDeath('expired', 'retry_queue', seconds('2025-11-27T09:41:09Z'))],
    });
    expect(plain?.time).toBe('2025-11-27T09:41:09.000Z');
    const ms = decodeDeath({
      'x-death': [xDeath('expired', 'retry_queue', Date.parse('2025-11-27T09:41:09Z'))],
    });
    expect(ms?.time).toBe('2025-11-27T09:41:09.000Z');
  });

  it('takes the newest entry first and the earliest time as the first death', () => {
    const headers: Headers = {
      'x-death': [
        xDeath('maxlen', 'email_service_queue.retry', {
          '!': 'timestamp',
          value: seconds('2025-11-27T10:00:00Z'),
        }),
        xDeath('expired', 'email_service_queue.wait', {
          '!': 'timestamp',
          value: seconds('2025-11-27T09:00:00Z'),
        }),
        xDeath('rejected', 'email_service_queue', {
          '!': 'timestamp',
          value: seconds('2025-11-27T09:30:00Z'),
        }),
      ],
    };
    expect(decodeDeath(headers)).toMatchObject({
      reason: 'maxlen',
      queue: 'email_service_queue.retry',
      time: '2025-11-27T10:00:00.000Z',
      firstTime: '2025-11-27T09:00:00.000Z',
    });
  });

  it.each(['rejected', 'expired', 'maxlen', 'delivery_limit'])(
    'passes the reason %s through',
    (reason) => {
      expect(
        decodeDeath({ 'x-death': [xDeath(reason, 'q', { '!': 'timestamp', value: 1 })] })?.reason,
      ).toBe(reason);
    },
  );

  it('falls back on x-last-death-* and x-first-death-* without x-death', () => {
    expect(
      decodeDeath({
        'x-first-death-reason': 'rejected',
        'x-first-death-queue': 'email_service_queue',
        'x-first-death-exchange': 'order_events',
        'x-last-death-reason': 'delivery_limit',
        'x-last-death-queue': 'sms_service_queue',
      }),
    ).toEqual({
      ...noDeath,
      reason: 'delivery_limit',
      queue: 'sms_service_queue',
      exchange: 'order_events',
    });
  });

  it('is null when nothing says the message died', () => {
    expect(decodeDeath({})).toBeNull();
    expect(decodeDeath({ 'x-trace': 'abc', 'mq-redrive-count': 2 })).toBeNull();
    expect(decodeDeath({ 'x-death': 'not an array' })).toBeNull();
  });

  it('leaves out values an envelope could not carry back', () => {
    const record = decodeDeath({
      'x-death': [xDeath('rejected', 'q', { '!': 'timestamp', value: 1e16 }, -1)],
    });
    expect(record).toMatchObject({ count: null, time: null, firstTime: null });
  });

  it('does not mistake inherited properties for headers', () => {
    expect(decodeDeath(JSON.parse('{"constructor":"x"}') as Headers)).toBeNull();
  });
});

describe('mq-redrive-count', () => {
  const died = { 'x-last-death-reason': 'rejected' };

  it.each([
    [1, 1],
    ['3', 3],
    [Buffer.from('4'), 4],
    [{ '!': 'long', value: 5 }, 5],
    ['many', 0],
    [-1, 0],
    [undefined, 0],
  ])('reads %j as %d', (value, expected) => {
    const headers: Headers = value === undefined ? died : { ...died, 'mq-redrive-count': value };
    expect(decodeDeath(headers)?.redriveCount).toBe(expected);
  });
});

describe('Spring Kafka kafka_dlt-* headers', () => {
  const int32 = (n: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32BE(n);
    return bytes;
  };
  const int64 = (n: bigint) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(n);
    return bytes;
  };

  it('decodes big-endian partition and offset bytes as kafkajs gives them', () => {
    const headers: Headers = {
      'kafka_dlt-original-topic': Buffer.from('order-events'),
      'kafka_dlt-original-partition': int32(2),
      'kafka_dlt-original-offset': int64(9_007_199_254_740_993n),
      'kafka_dlt-original-consumer-group': Buffer.from('email-service'),
      'kafka_dlt-exception-fqcn': Buffer.from('java.lang.IllegalStateException'),
      'kafka_dlt-exception-message': Buffer.from('SMTP server unavailable'),
    };
    expect(decodeDeath(headers)).toEqual({
      ...noDeath,
      originalTopic: 'order-events',
      originalPartition: 2,
      originalOffset: '9007199254740993',
      originalConsumerGroup: 'email-service',
      exception: 'java.lang.IllegalStateException: SMTP server unavailable',
    });
  });

  it('takes the first of repeated headers as the origin', () => {
    const headers: Headers = {
      'kafka_dlt-original-topic': ['order-events', 'order-events-retry-0'],
      'kafka_dlt-original-partition': [int32(1), int32(0)],
      'kafka_dlt-original-offset': [int64(10n), int64(3n)],
    };
    expect(decodeDeath(headers)).toMatchObject({
      originalTopic: 'order-events',
      originalPartition: 1,
      originalOffset: '10',
    });
  });

  it('reads a binary value that an envelope showed as text', () => {
    // 00 00 00 02 is valid UTF-8; a hand-written envelope may carry it as a string.
    expect(
      decodeDeath({ 'kafka_dlt-original-partition': '\u0000\u0000\u0000\u0002' })
        ?.originalPartition,
    ).toBe(2);
  });
});

describe('Kafka Connect __connect.errors.* headers', () => {
  it('reads decimal strings, the stage as the reason and the connector group', () => {
    const headers: Headers = {
      '__connect.errors.topic': Buffer.from('order-events'),
      '__connect.errors.partition': Buffer.from('1'),
      '__connect.errors.offset': Buffer.from('5678'),
      '__connect.errors.connector.name': Buffer.from('orders-sink'),
      '__connect.errors.stage': Buffer.from('TASK_PUT'),
      '__connect.errors.exception.class.name': Buffer.from(
        'org.apache.kafka.connect.errors.ConnectException',
      ),
    };
    expect(decodeDeath(headers)).toEqual({
      ...noDeath,
      reason: 'TASK_PUT',
      originalTopic: 'order-events',
      originalPartition: 1,
      originalOffset: '5678',
      originalConsumerGroup: 'connect-orders-sink',
      exception: 'org.apache.kafka.connect.errors.ConnectException',
    });
  });
});

describe('fixtures/dlq', () => {
  const expected: Record<string, DeathRecord> = {
    'rabbitmq-x-death-rejected.ndjson': {
      ...noDeath,
      reason: 'rejected',
      count: 1,
      queue: 'email_service_queue',
      exchange: 'order_events',
      routingKeys: ['order.placed'],
      time: '2025-11-27T09:41:09.000Z',
      firstTime: '2025-11-27T09:41:09.000Z',
    },
    'rabbitmq-x-death-delivery-limit.ndjson': {
      ...noDeath,
      reason: 'delivery_limit',
      count: 1,
      queue: 'email_service_queue',
      // Redriven through the default exchange, straight to the queue that failed (DESIGN.md §7).
      exchange: '',
      routingKeys: ['email_service_queue'],
      time: '2025-11-27T10:02:05.000Z',
      firstTime: '2025-11-27T10:02:05.000Z',
      redriveCount: 1,
    },
    'spring-dlt.ndjson': {
      ...noDeath,
      originalTopic: 'order-events',
      originalPartition: 2,
      originalOffset: '1234',
      originalConsumerGroup: 'email-service',
      exception:
        'org.springframework.kafka.listener.ListenerExecutionFailedException: ' +
        "Listener method 'public void com.example.email.OrderPlacedListener.onOrderPlaced(com.example.events.OrderPlaced)' threw exception",
    },
    'kafka-connect.ndjson': {
      ...noDeath,
      reason: 'VALUE_CONVERTER',
      originalTopic: 'order-events',
      originalPartition: 1,
      originalOffset: '5678',
      originalConsumerGroup: 'connect-order-events-elasticsearch-sink',
      exception:
        'org.apache.kafka.connect.errors.DataException: JsonConverter with schemas.enable requires ' +
        '"schema" and "payload" fields and may not contain additional fields. If you are trying to ' +
        'deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
    },
  };

  it.each(Object.entries(expected))('decodes %s from its headers', (name, record) => {
    const envelope = readFixture(name);
    expect(decodeDeath(fromEnvelope(envelope).headers ?? {})).toEqual(record);
    expect(envelope.death).toEqual(record);
  });

  it('carries Spring partition and offset as base64 bytes', () => {
    const headers = readFixture('spring-dlt.ndjson').headers;
    expect(headers['kafka_dlt-original-partition']).toEqual({ base64: 'AAAAAg==' });
    expect(headers['kafka_dlt-original-offset']).toEqual({ base64: 'AAAAAAAABNI=' });
  });
});
