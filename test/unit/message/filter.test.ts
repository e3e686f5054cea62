import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { toEnvelope } from '../../../src/message/envelope-codec.js';
import { createFilter } from '../../../src/message/filter.js';
import { createMessageView, type MessageView } from '../../../src/message/view.js';
import { amqpMessage, readFixture } from './samples.js';

function view(overrides: Parameters<typeof amqpMessage>[0] = {}): MessageView {
  return createMessageView(
    toEnvelope(amqpMessage(overrides), { broker: 'rabbitmq', sourceKind: 'queue' }),
  );
}

const order = view();
const cheapOrder = view({
  body: Buffer.from('{"orderId":"ord-1","totalAmount":20,"items":[{"quantity":1}]}'),
});
const dead = createMessageView(readFixture('rabbitmq-x-death-rejected.ndjson'));

async function matches(expression: string, message: MessageView): Promise<boolean> {
  return (await createFilter(expression))(message);
}

async function compileError(expression: string): Promise<InputError> {
  try {
    await createFilter(expression);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('createFilter', () => {
  it('compares JSON numbers with integer literals', async () => {
    expect(await matches('json.totalAmount > 50', order)).toBe(true);
    expect(await matches('json.totalAmount > 50', cheapOrder)).toBe(false);
    expect(await matches('json.items[0].quantity == 2', order)).toBe(true);
    expect(await matches('json.items[0].quantity == 2', cheapOrder)).toBe(false);
  });

  it('calls string functions', async () => {
    expect(await matches('routingKey.startsWith("order.")', order)).toBe(true);
    expect(await matches('routingKey.startsWith("payment.")', order)).toBe(false);
    expect(
      await matches('json.orderId.contains("789") && json.userId.matches("^usr-[0-9]+$")', order),
    ).toBe(true);
    expect(await matches('size(json.items) == 1 && size(body) > 10', order)).toBe(true);
  });

  it('tests header presence with in', async () => {
    expect(await matches('"x-death" in headers', dead)).toBe(true);
    expect(await matches('"x-death" in headers', order)).toBe(false);
    expect(await matches('headers["x-death"][0].reason == "rejected"', dead)).toBe(true);
    expect(await matches('headers["x-death"][0].time.value > 0', dead)).toBe(true);
  });

  it('compares with null', async () => {
    expect(await matches('deliveryCount == null', order)).toBe(true);
    expect(await matches('deliveryCount == null', view({ deliveryCount: 2 }))).toBe(false);
    expect(await matches('death != null && death.reason == "rejected"', dead)).toBe(true);
  });

  it('combines with &&, || and !', async () => {
    expect(
      await matches('!redelivered && (json.totalAmount > 500 || broker == "rabbitmq")', order),
    ).toBe(true);
    expect(await matches('!(json.totalAmount > 50)', order)).toBe(false);
  });

  it('does not match, without failing, when the expression errors for a message', async () => {
    const filter = await createFilter('json.customer.tier == "gold"');
    expect(filter(order)).toBe(false);
    expect(filter(view({ body: Buffer.from('not json') }))).toBe(false);
    expect(await matches('deliveryCount > 1', order)).toBe(false);
    expect(await matches('has(json.customer) && json.customer.tier == "gold"', order)).toBe(false);
    expect(await matches('has(json.orderId)', order)).toBe(true);
  });

  it('copes with JSON keys that clash with JavaScript names', async () => {
    const odd = view({ body: Buffer.from('{"constructor":1,"__proto__":{"x":2},"toString":"s"}') });
    expect(await matches('json.constructor == 1 && json["__proto__"].x == 2', odd)).toBe(true);
    expect(await matches('has(json.hasOwnProperty)', odd)).toBe(false);
  });

  it('compiles once and evaluates per message', async () => {
    const filter = await createFilter('json.totalAmount > 50');
    expect([order, cheapOrder, order].map(filter)).toEqual([true, false, true]);
  });

  it('reports a syntax error at its column', async () => {
    const error = await compileError('json.totalAmount >');
    expect(error.message).toBe('invalid filter: unexpected token: EOF');
    expect(error.position).toEqual({ file: '--filter', line: 1, column: 19 });
    expect(error.hint).toContain('json.totalAmount > 50');
  });

  it('reports an unknown name with a suggestion', async () => {
    const error = await compileError('json.totalAmount > 50 && routingkey == "order.placed"');
    expect(error.message).toBe(
      'unknown name "routingkey" in the filter (did you mean "routingKey"?)',
    );
    expect(error.position).toEqual({ file: '--filter', line: 1, column: 26 });
  });

  it('counts lines in a multi-line expression', async () => {
    const error = await compileError('json.totalAmount > 50 &&\n  (routingKey ==');
    expect(error.position).toEqual({ file: '--filter', line: 2, column: 17 });
  });

  it('refuses an expression that is not a condition', async () => {
    const error = await compileError('json.totalAmount + 1 == 2 ? "yes" : "no"');
    expect(error.message).toBe(
      'the filter must be a condition (true or false), this one gives string',
    );
  });
});
