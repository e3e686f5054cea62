import { describe, expect, it } from 'vitest';
import {
  bytesFromJson,
  bytesToJson,
  decodeBody,
  encodeBody,
  isCanonicalBase64,
  isWellFormedText,
} from '../../../src/message/bytes.js';

describe('encodeBody / decodeBody', () => {
  it('keeps a UTF-8 body as the text it spells, byte for byte', () => {
    const bytes = Buffer.from('{"a":1.0,"n":12345678901234567890}');
    expect(encodeBody(bytes)).toEqual({
      body: '{"a":1.0,"n":12345678901234567890}',
      bodyEncoding: 'utf8',
    });
    expect(decodeBody('{"a":1.0,"n":12345678901234567890}', 'utf8').equals(bytes)).toBe(true);
  });

  it('carries bytes that are not UTF-8 as base64', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const encoded = encodeBody(bytes);
    expect(encoded).toEqual({ body: '//4AgA==', bodyEncoding: 'base64' });
    expect(decodeBody(encoded.body, encoded.bodyEncoding).equals(bytes)).toBe(true);
  });

  it('keeps a byte order mark', () => {
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
    const encoded = encodeBody(bytes);
    expect(encoded).toEqual({ body: '\uFEFF{}', bodyEncoding: 'utf8' });
    expect(decodeBody(encoded.body, encoded.bodyEncoding).equals(bytes)).toBe(true);
  });

  it('treats an empty body and control characters as text', () => {
    expect(encodeBody(new Uint8Array())).toEqual({ body: '', bodyEncoding: 'utf8' });
    expect(encodeBody(Buffer.from([0x00, 0x1b]))).toEqual({
      body: '\u0000\u001b',
      bodyEncoding: 'utf8',
    });
  });

  it('treats an overlong encoding and a lone surrogate as binary', () => {
    expect(encodeBody(Buffer.from([0xc0, 0xaf])).bodyEncoding).toBe('base64');
    expect(encodeBody(Buffer.from([0xed, 0xa0, 0x80])).bodyEncoding).toBe('base64');
  });
});

describe('bytesToJson / bytesFromJson (Kafka keys and header values)', () => {
  it('shows readable text as a string', () => {
    expect(bytesToJson(Buffer.from('ord-789'))).toBe('ord-789');
    expect(bytesToJson(Buffer.from('line one\n\tline two'))).toBe('line one\n\tline two');
  });

  it('shows binary numbers that happen to be valid UTF-8 as base64', () => {
    expect(bytesToJson(Buffer.from([0, 0, 0, 2]))).toEqual({ base64: 'AAAAAg==' });
    expect(bytesToJson(Buffer.from([0xff]))).toEqual({ base64: '/w==' });
  });

  it('gives back the same bytes from either form', () => {
    for (const bytes of [
      Buffer.from('ord-789'),
      Buffer.from([0, 0, 0, 2]),
      Buffer.from([0xff, 0x00]),
    ]) {
      expect(bytesFromJson(bytesToJson(bytes)).equals(bytes)).toBe(true);
    }
  });
});

describe('isCanonicalBase64', () => {
  it('accepts standard padded base64 only', () => {
    expect(isCanonicalBase64('AAAAAg==')).toBe(true);
    expect(isCanonicalBase64('')).toBe(true);
    expect(isCanonicalBase64('AAAAAg')).toBe(false);
    expect(isCanonicalBase64('AAAA Ag==')).toBe(false);
    expect(isCanonicalBase64('-_8=')).toBe(false);
    expect(isCanonicalBase64('AAAAAh==')).toBe(false);
  });
});

describe('isWellFormedText', () => {
  it('refuses lone surrogates and accepts pairs', () => {
    expect(isWellFormedText('\ud800')).toBe(false);
    expect(isWellFormedText('a\udc00')).toBe(false);
    expect(isWellFormedText('😀 ok')).toBe(true);
  });
});
