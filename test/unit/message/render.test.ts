import { createColors } from '../../../src/io/colors.js';
import { describe, expect, it } from 'vitest';
import { toEnvelope } from '../../../src/message/envelope-codec.js';
import type { Envelope } from '../../../src/message/envelope.js';
import { encodeEnvelopeLine } from '../../../src/message/ndjson.js';
import { renderLine, renderMessage, renderPretty } from '../../../src/message/render.js';
import {
  amqpMessage,
  kafkaMessage,
  ORDER_BODY,
  readFixture,
  stripColours,
  terminalControls,
} from './samples.js';

const plain = { colors: createColors(false) };
const coloured = { colors: createColors(true) };

function amqp(overrides: Parameters<typeof amqpMessage>[0] = {}): Envelope {
  return toEnvelope(amqpMessage(overrides), { broker: 'rabbitmq', sourceKind: 'queue' });
}

const ATTACK = '\x1b[31mRED\x1b]0;title\x07';

describe('renderLine', () => {
  it('shows time, route and a compact body preview on one line', () => {
    const pretty = amqp({ body: Buffer.from('{\n  "orderId": "ord-789",\n  "total": 1.0\n}') });
    expect(renderLine(pretty, plain)).toBe(
      '2025-11-27T09:41:07.000Z order_events→order.placed {"orderId":"ord-789","total":1.0}',
    );
  });

  it('flags redelivery, delivery count and death', () => {
    const line = renderLine(readFixture('rabbitmq-x-death-rejected.ndjson'), plain);
    expect(line).toContain('order_events.dlx→email_service_queue.dlq dead:rejected {"eventType"');
    expect(renderLine(amqp({ redelivered: true, deliveryCount: 2 }), plain)).toContain(
      'order_events→order.placed redelivered deliveryCount=2 {',
    );
  });

  it('shows a Kafka position and key', () => {
    const line = renderLine(
      toEnvelope(kafkaMessage(), { broker: 'kafka', sourceKind: 'topic' }),
      plain,
    );
    expect(line).toBe(`2025-11-27T09:41:07.512Z order-events[2]@1234 key=ord-789 ${ORDER_BODY}`);
    expect(renderLine(readFixture('kafka-connect.ndjson'), plain)).toContain(
      'order-events.dlq[0]@3 key=ord-790 dead:VALUE_CONVERTER',
    );
  });

  it('names the default exchange and falls back on the queue', () => {
    expect(renderLine(amqp({ exchange: '', routingKey: 'email_service_queue' }), plain)).toContain(
      ' (default)→email_service_queue ',
    );
    expect(renderLine(amqp({ exchange: null, routingKey: null, timestamp: null }), plain)).toMatch(
      /^- email_service_queue \{/,
    );
  });

  it('summarises binary and empty bodies', () => {
    expect(renderLine(amqp({ body: Buffer.from([0xff, 0xfe, 0x00, 0x80]) }), plain)).toMatch(
      / <binary 4 bytes>$/,
    );
    expect(renderLine(amqp({ body: new Uint8Array() }), plain)).toMatch(/ <empty>$/);
  });

  it('cuts a long body', () => {
    const line = renderLine(amqp({ body: Buffer.from('x'.repeat(500)) }), {
      ...plain,
      previewLength: 10,
    });
    expect(line).toMatch(/ x{9}…$/);
  });

  it('escapes control characters in the body, key and route', () => {
    const envelope = amqp({
      body: Buffer.from(`${ATTACK}\nnext`),
      routingKey: 'order.\u202eplaced',
    });
    const line = renderLine(envelope, plain);
    expect(line).toContain('\\x1b[31mRED\\x1b]0;title\\x07\\nnext');
    expect(line).toContain('order.\\u202eplaced');
    expect(terminalControls(line)).toEqual([]);
    const kafka = (key: string) =>
      toEnvelope(kafkaMessage({ key: Buffer.from(key) }), { broker: 'kafka', sourceKind: 'topic' });
    expect(renderLine(kafka('k\u202eevil'), plain)).toContain(' key=k\\u202eevil ');
    // A key with C0 controls is binary to the envelope (base64), so only its size shows.
    expect(renderLine(kafka('k\x1b[2J'), plain)).toContain(' key=<5 bytes> ');
  });

  it('emits no escape sequences but its own colours', () => {
    const line = renderLine(amqp({ body: Buffer.from(ATTACK), redelivered: true }), coloured);
    expect(stripColours(line)).not.toBe(line);
    expect(stripColours(line)).not.toContain('\x1b');
  });
});

describe('renderPretty', () => {
  it('lists fields, headers and properties, and indents a JSON body keeping its literals', () => {
    const envelope = amqp({ body: Buffer.from('{"a":1.0,"n":12345678901234567890}') });
    const lines = renderPretty(envelope, plain).split('\n');
    expect(lines[0]).toBe('── order_events→order.placed');
    expect(lines).toContain('id             msg-1');
    expect(lines).toContain('routingKey     order.placed');
    expect(lines).toContain('headers');
    expect(lines).toContain('  x-trace      abc');
    expect(lines).toContain('  contentType  application/json');
    expect(lines.slice(-5)).toEqual([
      'body (utf8, 34 bytes)',
      '{',
      '  "a": 1.0,',
      '  "n": 12345678901234567890',
      '}',
    ]);
    expect(lines.some((line) => line.startsWith('topic'))).toBe(false);
  });

  it('shows the death record and non-string headers as JSON', () => {
    const text = renderPretty(readFixture('rabbitmq-x-death-delivery-limit.ndjson'), plain);
    expect(text).toContain(
      '\ndeath\n  reason       delivery_limit\n  count        1\n  queue        email_service_queue\n',
    );
    expect(text).toContain('  routingKeys  email_service_queue\n');
    expect(text).toContain('  redriveCount 1\n');
    expect(text).toContain('  mq-redrive-count 1\n');
    expect(text).toContain('  x-death      [{"count":1,"reason":"delivery_limit"');
  });

  it('dumps a binary body as hex', () => {
    const text = renderPretty(amqp({ body: Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]) }), plain);
    expect(text.split('\n').slice(-2)).toEqual([
      'body (base64, 5 bytes)',
      `00000000  ff fe 00 80 41${' '.repeat(33)}  |....A|`,
    ]);
  });

  it('keeps the lines of a text body but escapes its controls', () => {
    const body = `line 1\r\n${ATTACK}`;
    const text = renderPretty(amqp({ body: Buffer.from(body) }), plain);
    expect(text.split('\n').slice(-3)).toEqual([
      `body (utf8, ${Buffer.byteLength(body)} bytes)`,
      'line 1\\r',
      '\\x1b[31mRED\\x1b]0;title\\x07',
    ]);
  });

  it('escapes controls inside JSON strings and header names', () => {
    const envelope = amqp({
      body: Buffer.from('{"note":"\u202egnp.exe\u0085"}'),
      headers: { 'x-\u001bname': '\u009b2J' },
    });
    const text = stripColours(renderPretty(envelope, coloured));
    expect(terminalControls(text, ['\n'])).toEqual([]);
    expect(text).toContain('"\\u202egnp.exe\\x85"');
    expect(text).toContain('x-\\x1bname');
  });
});

describe('renderMessage', () => {
  it('gives the NDJSON line for json and the exact bytes for raw', () => {
    const envelope = amqp({ body: Buffer.from([0xff, 0x00]) });
    expect(renderMessage(envelope, 'json', plain)).toBe(encodeEnvelopeLine(envelope));
    expect(renderMessage(envelope, 'raw', plain)).toEqual(Buffer.from([0xff, 0x00]));
    expect(renderMessage(envelope, 'line', plain)).toBe(renderLine(envelope, plain));
    expect(renderMessage(envelope, 'pretty', plain)).toBe(renderPretty(envelope, plain));
  });
});
