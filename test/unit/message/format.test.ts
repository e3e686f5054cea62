import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { toEnvelope } from '../../../src/message/envelope-codec.js';
import { compileTemplate } from '../../../src/message/format.js';
import { createMessageView, type MessageView } from '../../../src/message/view.js';
import { amqpMessage, readFixture } from './samples.js';

function view(overrides: Parameters<typeof amqpMessage>[0] = {}): MessageView {
  return createMessageView(
    toEnvelope(amqpMessage(overrides), { broker: 'rabbitmq', sourceKind: 'queue' }),
  );
}

function compileError(template: string): InputError {
  try {
    compileTemplate(template);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('compileTemplate', () => {
  it('fills fields from the envelope, the JSON body and the headers', () => {
    expect(compileTemplate('{routingKey} {json.orderId} {headers.x-trace}')(view())).toBe(
      'order.placed ord-789 abc',
    );
  });

  it('follows indexes and quoted keys', () => {
    expect(compileTemplate('{json.items[0].quantity}×{json.items[0]["productId"]}')(view())).toBe(
      '2×prod-456',
    );
    const connect = createMessageView(readFixture('kafka-connect.ndjson'));
    expect(
      compileTemplate(`{headers["__connect.errors.stage"]} {death.originalOffset}`)(connect),
    ).toBe('VALUE_CONVERTER 5678');
  });

  it('prints missing values as nothing and objects as compact JSON', () => {
    const format = compileTemplate(
      '[{json.missing}|{json.items[9]}|{exchange.x}|{topic}|{json.items[0]}|{redelivered}]',
    );
    expect(format(view())).toBe('[||||{"productId":"prod-456","quantity":2,"price":49.99}|false]');
  });

  it('finds own keys only', () => {
    expect(compileTemplate('[{json.constructor}{json.toString}{headers.__proto__}]')(view())).toBe(
      '[]',
    );
  });

  it('writes {{ and }} as literal braces', () => {
    expect(compileTemplate('{{"id": "{id}"}}')(view())).toBe('{"id": "msg-1"}');
  });

  it('sanitises values but not the template text', () => {
    const evil = view({ headers: { 'x-trace': '\x1b]0;pwned\x07' } });
    expect(compileTemplate('{headers.x-trace}\t{id}')(evil)).toBe('\\x1b]0;pwned\\x07\tmsg-1');
  });

  it('shows a body that is not JSON as its text and json as nothing', () => {
    expect(compileTemplate('{body}|{json}')(view({ body: Buffer.from('plain\ntext') }))).toBe(
      'plain\\ntext|',
    );
  });

  it('refuses an unknown top-level name at compile time, with its column and a suggestion', () => {
    const error = compileError('{id} {routingkey}');
    expect(error.message).toBe('unknown field "routingkey" (did you mean "routingKey"?)');
    expect(error.position).toEqual({ file: '--format', line: 1, column: 7 });
    expect(error.hint).toContain('json');
  });

  it.each([
    ['{id', "'{' is never closed: close it with '}' or write '{{'", 1],
    ['a } b', "single '}' in the template: write '}}' for a literal brace", 3],
    ['x {}', 'empty field {}: name one, e.g. {routingKey}', 4],
    ['{json..a}', 'unexpected "." in {json..a}', 6],
    ['{json[x]}', 'unexpected "[" in {json[x]}', 6],
  ])('refuses %j', (template, message, column) => {
    const error = compileError(template);
    expect(error.message).toBe(message);
    expect(error.position).toEqual({ file: '--format', line: 1, column });
  });
});
