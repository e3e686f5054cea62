import { ENVELOPE_FIELDS, type Envelope } from './envelope.js';

/**
 * What `--filter` and `--format` see: the envelope plus `json`, the body parsed as JSON when it is
 * UTF-8 JSON text, else null. Parsing is for matching and display only: numbers beyond 2^53 lose
 * precision here, never in the message.
 */
export type MessageView = Envelope & { json: unknown };

export const VIEW_FIELDS: readonly string[] = [...ENVELOPE_FIELDS, 'json'];

export function createMessageView(envelope: Envelope): MessageView {
  return { ...envelope, json: parseJsonBody(envelope) };
}

function parseJsonBody(envelope: Envelope): unknown {
  if (envelope.bodyEncoding !== 'utf8') return null;
  try {
    // A BOM is not part of the JSON text (RFC 8259 §8.1 lets parsers ignore it).
    return JSON.parse(envelope.body.replace(/^\uFEFF/, '')) as unknown;
  } catch {
    return null;
  }
}
