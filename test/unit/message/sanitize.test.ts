import { describe, expect, it } from 'vitest';
import { sanitizeBlock, sanitizeLine } from '../../../src/message/sanitize.js';

describe('sanitizeLine', () => {
  it('prints an escape-sequence attack as visible text', () => {
    expect(sanitizeLine('\x1b[31mRED\x1b]0;title\x07')).toBe('\\x1b[31mRED\\x1b]0;title\\x07');
  });

  it('names newline, carriage return and tab', () => {
    expect(sanitizeLine('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
  });

  it('escapes NUL, DEL and C1 controls (a lone \\x9b is CSI on some terminals)', () => {
    expect(sanitizeLine('\u0000\u007f\u0085\u009b2J')).toBe('\\x00\\x7f\\x85\\x9b2J');
  });

  it('escapes bidi controls, bidi marks and line separators', () => {
    expect(sanitizeLine('ab\u202Edc\u202C \u2066x\u2069 \u200E\u200F\u061C \u2028\u2029')).toBe(
      'ab\\u202edc\\u202c \\u2066x\\u2069 \\u200e\\u200f\\u061c \\u2028\\u2029',
    );
  });

  it('leaves ordinary text alone', () => {
    const text = 'order ord-789: 2 × prod-456 à 49,99 € 😀 注文 "quoted" \\n';
    expect(sanitizeLine(text)).toBe(text);
  });
});

describe('sanitizeBlock', () => {
  it('keeps line feeds and tabs for multi-line output, escapes the rest', () => {
    expect(sanitizeBlock('line 1\n\tline 2\r\n\x1b[2J\u202e')).toBe(
      'line 1\n\tline 2\\r\n\\x1b[2J\\u202e',
    );
  });
});
