import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Headers } from '../../../src/brokers/types.js';
import { InputError } from '../../../src/errors.js';
import {
  deathRoute,
  fromEnvelope,
  recordedRoute,
  toEnvelope,
} from '../../../src/message/envelope-codec.js';
import { ENVELOPE_FIELDS, type Envelope } from '../../../src/message/envelope.js';
import {
  decodeEnvelopeLine,
  decodeEnvelopeLines,
  encodeEnvelopeLine,
  readEnvelopes,
} from '../../../src/message/ndjson.js';
import { amqpMessage, kafkaMessage, readFixtureText, terminalControls } from './samples.js';

const at = { file: 'saved.ndjson', line: 1 };

/** envelope → line → envelope → line, which must give the same line. */
function roundTrip(envelope: Envelope): { line: string; decoded: Envelope } {
  const line = encodeEnvelopeLine(envelope);
  const decoded = decodeEnvelopeLine(line, at);
  expect(encodeEnvelopeLine(decoded)).toBe(line);
  return { line, decoded };
}

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

/** A minimal valid envelope line with some fields replaced. */
function lineWith(fields: Record<string, unknown>): string {
  return JSON.stringify({
    v: 1,
    id: 'm1',
    broker: 'local',
    body: '{}',
    bodyEncoding: 'utf8',
    ...fields,
  });
}

describe('round trips (DESIGN.md §4)', () => {
  it('keeps {"a":1.0,"n":12345678901234567890} byte-identical, never re-serialised', () => {
    const original = Buffer.from('{"a":1.0,"n":12345678901234567890}');
    const { line, decoded } = roundTrip(
      toEnvelope(amqpMessage({ body: original }), { broker: 'rabbitmq', sourceKind: 'queue' }),
    );
    expect(line).toContain(
      String.raw`"body":"{\"a\":1.0,\"n\":12345678901234567890}","bodyEncoding":"utf8"`,
    );
    expect(Buffer.from(fromEnvelope(decoded).body).equals(original)).toBe(true);
  });

  it('keeps a non-UTF-8 body byte-identical as base64', () => {
    const original = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const { line, decoded } = roundTrip(
      toEnvelope(amqpMessage({ body: original }), { broker: 'rabbitmq', sourceKind: 'queue' }),
    );
    expect(line).toContain('"body":"//4AgA==","bodyEncoding":"base64"');
    expect(Buffer.from(fromEnvelope(decoded).body).equals(original)).toBe(true);
  });

  it('keeps typed AMQP headers, byte arrays, nested tables and arrays', () => {
    const headers: Headers = {
      'x-int': { '!': 'int', value: 5 },
      'x-double': { '!': 'double', value: 1.5 },
      'x-sent': { '!': 'timestamp', value: 1764236467 },
      'x-bytes': Buffer.from([0x00, 0xff, 0x10]),
      'x-table': { region: 'eu', nested: { depth: 2, raw: Buffer.from('ok') } },
      'x-array': ['a', 2, true, null, Buffer.from([1])],
    };
    const { line, decoded } = roundTrip(
      toEnvelope(amqpMessage({ headers }), { broker: 'rabbitmq', sourceKind: 'queue' }),
    );
    expect(line).toContain(
      '"headers":{"x-int":{"!":"int","value":5},"x-double":{"!":"double","value":1.5},' +
        '"x-sent":{"!":"timestamp","value":1764236467},"x-bytes":{"base64":"AP8Q"},' +
        '"x-table":{"region":"eu","nested":{"depth":2,"raw":{"base64":"b2s="}}},' +
        '"x-array":["a",2,true,null,{"base64":"AQ=="}]}',
    );
    expect(fromEnvelope(decoded).headers).toEqual(headers);
  });

  it('keeps a Kafka key and binary header values exact', () => {
    const key = Buffer.from([0, 0, 0, 7]);
    const headers: Headers = { partition: Buffer.from([0, 0, 0, 2]), trace: Buffer.from('abc') };
    const { decoded } = roundTrip(
      toEnvelope(kafkaMessage({ key, headers }), { broker: 'kafka', sourceKind: 'topic' }),
    );
    const message = fromEnvelope(decoded);
    expect(Buffer.from(message.key ?? []).equals(key)).toBe(true);
    expect(message.headers).toEqual({ partition: Buffer.from([0, 0, 0, 2]), trace: 'abc' });
  });

  it.each([
    'rabbitmq-x-death-rejected.ndjson',
    'rabbitmq-x-death-delivery-limit.ndjson',
    'spring-dlt.ndjson',
    'kafka-connect.ndjson',
  ])('reads and rewrites fixtures/dlq/%s unchanged', (name) => {
    const text = readFixtureText(name);
    const [envelope] = decodeEnvelopeLines(text, name);
    expect(envelope).toBeDefined();
    expect(`${encodeEnvelopeLine(envelope as Envelope)}\n`).toBe(text);
  });
});

describe('toEnvelope', () => {
  it('writes every field, in ENVELOPE_FIELDS order, for AMQP', () => {
    const envelope = toEnvelope(
      amqpMessage({
        redelivered: true,
        deliveryCount: 2,
        properties: { deliveryMode: 2, contentType: 'application/json' },
      }),
      { broker: 'rabbitmq', sourceKind: 'queue' },
    );
    const line = encodeEnvelopeLine(envelope);
    expect(Object.keys(JSON.parse(line) as object)).toEqual([...ENVELOPE_FIELDS]);
    expect(envelope).toMatchObject({
      v: 1,
      id: 'msg-1',
      broker: 'rabbitmq',
      queue: 'email_service_queue',
      topic: null,
      exchange: 'order_events',
      routingKey: 'order.placed',
      partition: null,
      offset: null,
      key: null,
      timestamp: '2025-11-27T09:41:07.000Z',
      redelivered: true,
      deliveryCount: 2,
      headers: { 'x-trace': 'abc' },
      bodyEncoding: 'utf8',
      death: null,
    });
    // Properties in a fixed order, whatever order the adapter used.
    expect(Object.keys(envelope.properties ?? {})).toEqual(['contentType', 'deliveryMode']);
  });

  it('has no redelivered flag and no properties on Kafka', () => {
    const envelope = toEnvelope(kafkaMessage(), { broker: 'kafka', sourceKind: 'topic' });
    expect(envelope).toMatchObject({
      id: 'order-events/2/1234',
      queue: null,
      topic: 'order-events',
      partition: 2,
      offset: '1234',
      key: 'ord-789',
      redelivered: null,
      properties: null,
      headers: { 'event-type': 'order.placed' },
    });
  });

  it('names neither queue nor topic for a message not read from either', () => {
    const planned = toEnvelope(amqpMessage({ source: '' }), {
      broker: 'rabbitmq',
      sourceKind: null,
    });
    expect(planned).toMatchObject({ queue: null, topic: null, exchange: 'order_events' });
  });

  it('has no timestamp for Kafka -1 ("none") or a time past the year 9999', () => {
    expect(
      toEnvelope(kafkaMessage({ timestamp: -1 }), { broker: 'kafka', sourceKind: 'topic' })
        .timestamp,
    ).toBeNull();
    expect(
      toEnvelope(amqpMessage({ timestamp: 1e16 }), { broker: 'rabbitmq', sourceKind: 'queue' })
        .timestamp,
    ).toBeNull();
  });

  it('decodes the death record from the headers unless the adapter gave one', () => {
    const headers: Headers = {
      'x-death': [
        {
          count: 1,
          reason: 'rejected',
          queue: 'email_service_queue',
          time: { '!': 'timestamp', value: 1764236469 },
          exchange: 'order_events',
          'routing-keys': ['order.placed'],
        },
      ],
    };
    const decoded = toEnvelope(amqpMessage({ headers }), {
      broker: 'rabbitmq',
      sourceKind: 'queue',
    });
    expect(decoded.death).toMatchObject({ reason: 'rejected', queue: 'email_service_queue' });

    const own = { ...(decoded.death as NonNullable<Envelope['death']>), reason: 'expired' };
    expect(
      toEnvelope(amqpMessage({ headers, death: own }), { broker: 'local', sourceKind: 'queue' })
        .death,
    ).toBe(own);
  });
});

describe('encodeEnvelopeLine', () => {
  it('escapes C1 controls, line separators and bidi controls, keeping the same JSON value', () => {
    const body = 'a\u0085b\u009bc\u2028d\u2029e\u202ef\u2066g\u200fh\u007fi\u001bj';
    const envelope = toEnvelope(
      amqpMessage({ body: Buffer.from(body), headers: { 'x-\u202ename': '\u202e' } }),
      {
        broker: 'rabbitmq',
        sourceKind: 'queue',
      },
    );
    const line = encodeEnvelopeLine(envelope);
    expect(terminalControls(line)).toEqual([]);
    expect(line).toContain(
      String.raw`"body":"a\u0085b\u009bc\u2028d\u2029e\u202ef\u2066g\u200fh\u007fi\u001bj"`,
    );
    expect(line).toContain(String.raw`"x-\u202ename":"\u202e"`);
    expect((JSON.parse(line) as Envelope).body).toBe(body);
  });

  it('writes the death record fields in their fixed order', () => {
    const envelope = toEnvelope(amqpMessage(), { broker: 'local', sourceKind: 'queue' });
    envelope.death = {
      redriveCount: 0,
      exception: null,
      reason: 'rejected',
      count: 1,
      queue: 'q',
      exchange: 'x',
      routingKeys: [],
      time: null,
      firstTime: null,
      originalTopic: null,
      originalPartition: null,
      originalOffset: null,
      originalConsumerGroup: null,
    };
    const death = (JSON.parse(encodeEnvelopeLine(envelope)) as { death: object }).death;
    expect(Object.keys(death)[0]).toBe('reason');
    expect(Object.keys(death).at(-1)).toBe('redriveCount');
  });
});

describe('decodeEnvelopeLine', () => {
  it('fills fields left out of a hand-written envelope', () => {
    expect(decodeEnvelopeLine(lineWith({}), at)).toEqual({
      v: 1,
      id: 'm1',
      broker: 'local',
      queue: null,
      topic: null,
      exchange: null,
      routingKey: null,
      partition: null,
      offset: null,
      key: null,
      timestamp: null,
      redelivered: null,
      deliveryCount: null,
      headers: {},
      properties: null,
      body: '{}',
      bodyEncoding: 'utf8',
      death: null,
    });
  });

  it('points at a JSON syntax error', () => {
    const error = inputError(() =>
      decodeEnvelopeLine('{"v":1,,"id":"x"}', { file: 'in.ndjson', line: 4 }),
    );
    expect(error.position).toEqual({ file: 'in.ndjson', line: 4, column: 8 });
    expect(error.message).toBe('invalid JSON: expected a property name in double quotes');
  });

  it('says that a pretty-printed JSON document is not NDJSON', () => {
    const error = inputError(() => decodeEnvelopeLine('{', at));
    expect(error.message).toContain("expected '}'");
    expect(error.hint).toContain('one envelope per line');
  });

  it('refuses comments and single quotes', () => {
    expect(inputError(() => decodeEnvelopeLine("{'v':1}", at)).position?.column).toBe(2);
    expect(inputError(() => decodeEnvelopeLine('{"v":1} // saved', at)).message).toContain(
      'comments',
    );
  });

  it.each([
    [{ v: 2 }, 'unsupported envelope version 2: this mq reads version 1', '2'],
    [{ bodyEncoding: 'hex' }, '"bodyEncoding" must be "utf8" or "base64", got "hex"', '"hex"'],
    [{ broker: 'sqs' }, '"broker" must be one of "local", "rabbitmq", "kafka", got "sqs"', '"sqs"'],
    [{ id: '' }, '"id" must be a non-empty string, got ""', '""'],
    [{ partition: -1 }, '"partition" must be a whole number (0 or more) or null, got -1', '-1'],
    [
      { offset: 17 },
      '"offset" must be a decimal string such as "42" (int64) or null, got 17',
      '17',
    ],
    [
      { timestamp: 'yesterday' },
      '"timestamp" must be an ISO 8601 time such as "2025-01-31T12:00:00.000Z", got "yesterday"',
      '"yesterday"',
    ],
    [{ redelivered: 'no' }, '"redelivered" must be true, false or null, got "no"', '"no"'],
    [{ headers: [] }, '"headers" must be an object, got an array', '[]'],
    [
      { properties: { priority: 'high' } },
      '"priority" must be a whole number (0 or more), got "high"',
      '"high"',
    ],
  ])('refuses %j, pointing at the value', (fields, message, valueText) => {
    const line = lineWith(fields);
    const error = inputError(() => decodeEnvelopeLine(line, at));
    expect(error.message).toBe(message);
    expect(error.position).toEqual({ ...at, column: line.indexOf(`:${valueText}`) + 2 });
  });

  it('names a missing required field', () => {
    const error = inputError(() =>
      decodeEnvelopeLine('{"v":1,"id":"m1","broker":"local","body":"{}"}', at),
    );
    expect(error.message).toBe('missing required field "bodyEncoding"');
    expect(error.position?.column).toBe(1);
  });

  it('points at an unknown field and suggests the right name', () => {
    const line = lineWith({ routing_key: 'order.placed' });
    const error = inputError(() => decodeEnvelopeLine(line, at));
    expect(error.message).toBe('unknown field "routing_key" (did you mean "routingKey"?)');
    expect(error.position?.column).toBe(line.indexOf('"routing_key"') + 1);
  });

  it('refuses base64 that would not come back as the same text', () => {
    const error = inputError(() =>
      decodeEnvelopeLine(lineWith({ body: 'AAAA Ag==', bodyEncoding: 'base64' }), at),
    );
    expect(error.message).toMatch(/^invalid base64/);
    expect(
      inputError(() => decodeEnvelopeLine(lineWith({ key: { base64: '-_' } }), at)).message,
    ).toMatch(/^invalid base64/);
    expect(
      inputError(() => decodeEnvelopeLine(lineWith({ headers: { b: { base64: 'A' } } }), at))
        .message,
    ).toMatch(/^invalid base64/);
  });

  it('refuses text UTF-8 cannot carry', () => {
    const error = inputError(() =>
      decodeEnvelopeLine(
        String.raw`{"v":1,"id":"m1","broker":"local","body":"\ud800","bodyEncoding":"utf8"}`,
        at,
      ),
    );
    expect(error.message).toMatch(/lone surrogate/);
  });

  it('checks typed headers and death records', () => {
    expect(
      inputError(() => decodeEnvelopeLine(lineWith({ headers: { t: { '!': 'int' } } }), at))
        .message,
    ).toBe('a typed header needs a "value" next to its "!"');
    expect(
      inputError(() => decodeEnvelopeLine(lineWith({ death: { reason: 1 } }), at)).message,
    ).toBe('"reason" must be a string or null, got 1');
    expect(
      inputError(() => decodeEnvelopeLine(lineWith({ death: { why: 'x' } }), at)).message,
    ).toBe('unknown field "why"');
    expect(decodeEnvelopeLine(lineWith({ death: { reason: 'expired' } }), at).death).toMatchObject({
      reason: 'expired',
      routingKeys: [],
      redriveCount: 0,
    });
  });

  it('keeps user text in error messages terminal-safe', () => {
    const error = inputError(() =>
      decodeEnvelopeLine(lineWith({ broker: '\u001b]0;x\u0007' }), at),
    );
    expect(terminalControls(error.message)).toEqual([]);
  });

  it('counts columns in characters', () => {
    const line = lineWith({ id: '😀😀', bodyEncoding: 'hex' });
    // Each emoji is two UTF-16 units but one column.
    expect(inputError(() => decodeEnvelopeLine(line, at)).position?.column).toBe(
      line.indexOf('"hex"') - 1,
    );
  });
});

describe('decodeEnvelopeLines', () => {
  it('skips blank lines, accepts CRLF and a leading BOM, and numbers lines from 1', () => {
    const text = `\uFEFF${lineWith({ id: 'a' })}\r\n\r\n${lineWith({ id: 'b' })}\n`;
    expect(decodeEnvelopeLines(text, 'in.ndjson').map((envelope) => envelope.id)).toEqual([
      'a',
      'b',
    ]);
    const error = inputError(() =>
      decodeEnvelopeLines(`${lineWith({})}\n\n{"v":1}\n`, 'in.ndjson'),
    );
    expect(error.position).toMatchObject({ file: 'in.ndjson', line: 3 });
  });
});

describe('readEnvelopes', () => {
  async function collect(chunks: (string | Uint8Array)[]): Promise<Envelope[]> {
    const envelopes: Envelope[] = [];
    for await (const envelope of readEnvelopes(Readable.from(chunks), '-'))
      envelopes.push(envelope);
    return envelopes;
  }

  it('reads lines split across chunks, even inside a multi-byte character', async () => {
    const text = Buffer.from(`${lineWith({ id: 'é-1' })}\n${lineWith({ id: 'b' })}`);
    const cut = text.indexOf(0xa9); // second byte of "é"
    const envelopes = await collect([
      text.subarray(0, cut),
      text.subarray(cut, cut + 30),
      text.subarray(cut + 30),
    ]);
    expect(envelopes.map((envelope) => envelope.id)).toEqual(['é-1', 'b']);
  });

  it('refuses a line that is not UTF-8, naming it', async () => {
    const bad = Buffer.concat([
      Buffer.from(`${lineWith({})}\n`),
      Buffer.from([0x7b, 0xff, 0x7d, 0x0a]),
    ]);
    await expect(collect([bad])).rejects.toMatchObject({
      message: 'the line is not valid UTF-8: NDJSON files are UTF-8 text',
      position: { file: '-', line: 2, column: 1 },
    });
  });

  it('yields envelopes before it meets a bad line', async () => {
    const seen: string[] = [];
    const lines = [`${lineWith({ id: 'a' })}\n`, '{"v":1}\n'];
    await expect(
      (async () => {
        for await (const envelope of readEnvelopes(Readable.from(lines), '-'))
          seen.push(envelope.id);
      })(),
    ).rejects.toBeInstanceOf(InputError);
    expect(seen).toEqual(['a']);
  });
});

describe('routes for replay', () => {
  it('replays through the recorded exchange, topic or queue', () => {
    const amqp = toEnvelope(amqpMessage(), { broker: 'rabbitmq', sourceKind: 'queue' });
    expect(recordedRoute(amqp)).toEqual({
      kind: 'exchange',
      exchange: 'order_events',
      routingKey: 'order.placed',
    });
    const kafka = toEnvelope(kafkaMessage(), { broker: 'kafka', sourceKind: 'topic' });
    expect(recordedRoute(kafka)).toEqual({ kind: 'topic', topic: 'order-events', partition: 2 });
    const local = toEnvelope(amqpMessage({ exchange: null, routingKey: null }), {
      broker: 'local',
      sourceKind: 'queue',
    });
    expect(recordedRoute(local)).toEqual({ kind: 'queue', queue: 'email_service_queue' });
  });

  it('sends a dead letter back to where it failed', () => {
    const amqp = decodeEnvelopeLines(
      readFixtureText('rabbitmq-x-death-rejected.ndjson'),
      'f',
    )[0] as Envelope;
    expect(deathRoute(amqp)).toEqual({ kind: 'queue', queue: 'email_service_queue' });
    const spring = decodeEnvelopeLines(readFixtureText('spring-dlt.ndjson'), 'f')[0] as Envelope;
    expect(deathRoute(spring)).toEqual({ kind: 'topic', topic: 'order-events', partition: 2 });
    expect(
      deathRoute(toEnvelope(amqpMessage(), { broker: 'rabbitmq', sourceKind: 'queue' })),
    ).toBeNull();
  });

  it('restores the AMQP properties for publishing', () => {
    const amqp = decodeEnvelopeLines(
      readFixtureText('rabbitmq-x-death-rejected.ndjson'),
      'f',
    )[0] as Envelope;
    expect(fromEnvelope(amqp).properties).toEqual({
      contentType: 'application/json',
      messageId: '6f1c9a52-3b7e-4d0a-9c1e-2f8b5a7d4e10',
      deliveryMode: 2,
      timestamp: 1764236467000,
    });
  });
});
