import { describe, expect, it } from 'vitest';
import { globToRegExp, topicMatches } from '../../../src/brokers/matching.js';

describe('topic exchange matching, as RabbitMQ does it', () => {
  it.each([
    // `*` is exactly one word
    ['order.*', 'order.placed', true],
    ['order.*', 'order', false],
    ['order.*', 'order.placed.eu', false],
    ['order.*', 'invoice.placed', false],
    ['*.placed', 'order.placed', true],
    ['*.placed', 'placed', false],
    ['*.placed', 'order.eu.placed', false],
    // `#` is zero or more words
    ['#', 'order.placed', true],
    ['#', 'order', true],
    ['#', '', true],
    ['order.#', 'order', true],
    ['order.#', 'order.placed', true],
    ['order.#', 'order.placed.eu', true],
    ['order.#', 'orders.placed', false],
    ['#.placed', 'placed', true],
    ['#.placed', 'order.eu.placed', true],
    ['#.placed', 'order.placed.late', false],
    ['order.#.eu', 'order.eu', true],
    ['order.#.eu', 'order.placed.paid.eu', true],
    ['#.#', 'a', true],
    ['*.#.*', 'a', false],
    ['*.#.*', 'a.b', true],
    // exact words, and empty words: `a..b` has an empty middle word, `a.` an empty last one
    ['order.placed', 'order.placed', true],
    ['order.placed', 'order.Placed', false],
    ['order.*', 'order.', true],
    ['order.*.eu', 'order..eu', true],
    ['*', '', false],
    ['', '', true],
    ['', 'order', false],
    ['*', '.', false],
    ['*.*', '.', true],
  ])('%j matches %j: %s', (bindingKey, routingKey, expected) => {
    expect(topicMatches(bindingKey, routingKey)).toBe(expected);
  });
});

describe('list patterns', () => {
  it.each([
    ['email*', 'email_service_queue', true],
    ['*.dlq', 'email_service_queue.dlq', true],
    ['*.dlq', 'email_service_queue', false],
    ['sms?service*', 'sms_service_queue', true],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    ['(x)', '(x)', true],
  ])('%j matches %j: %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });
});
