/**
 * Bytes in JSON, exactly. A body, a Kafka key or a header value goes into an envelope either as
 * text or as base64, and comes back as the same bytes: text is only ever a lossless view of valid
 * UTF-8, never a re-encoding.
 */
import type { BodyEncoding, EncodedBytes } from './envelope.js';

// ignoreBOM keeps a leading U+FEFF in the text, so the BOM's three bytes survive the round trip.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text the bytes spell when they are valid UTF-8, else null. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Lone surrogates cannot be written as UTF-8: TextEncoder would silently replace them. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** True when the string can become UTF-8 bytes and come back unchanged. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * True for base64 that decodes and re-encodes to the same text: standard alphabet, canonical
 * padding. Node's decoder skips characters it does not know, so the round trip is the check.
 */
export function isCanonicalBase64(text: string): boolean {
  return Buffer.from(text, 'base64').toString('base64') === text;
}

export interface EncodedBody {
  body: string;
  bodyEncoding: BodyEncoding;
}

/** A body as the envelope carries it: UTF-8 text when the bytes are valid UTF-8, else base64. */
export function encodeBody(bytes: Uint8Array): EncodedBody {
  const text = decodeUtf8(bytes);
  if (text !== null) return { body: text, bodyEncoding: 'utf8' };
  return { body: Buffer.from(bytes).toString('base64'), bodyEncoding: 'base64' };
}

/**
 * The exact bytes of an envelope body. Returns a Buffer (a Uint8Array) because amqplib accepts
 * only Buffers.
 */
export function decodeBody(body: string, bodyEncoding: BodyEncoding): Buffer {
  return Buffer.from(body, bodyEncoding === 'utf8' ? 'utf8' : 'base64');
}

/** C0 controls other than tab, LF and CR: a value that contains them is binary, not text. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/**
 * A Kafka key or header value in JSON: a string when the bytes are readable text, else
 * `{ base64 }`. Stricter than the body rule on purpose: binary numbers such as Spring's
 * `kafka_dlt-original-partition` (`00 00 00 02`) are valid UTF-8 by accident, and showing them as
 * a string of NULs would hide what they are. Both forms give back the same bytes.
 */
export function bytesToJson(bytes: Uint8Array): string | EncodedBytes {
  const text = decodeUtf8(bytes);
  if (text !== null && !BINARY_CONTROL.test(text)) return text;
  return { base64: Buffer.from(bytes).toString('base64') };
}

/** The bytes behind a JSON string (as UTF-8) or `{ base64 }`. */
export function bytesFromJson(value: string | EncodedBytes): Buffer {
  return typeof value === 'string'
    ? Buffer.from(value, 'utf8')
    : Buffer.from(value.base64, 'base64');
}
