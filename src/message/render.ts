/**
 * Human output for messages (`--output line|pretty`), and the dispatch for the machine outputs
 * (`json`: the NDJSON envelope line; `raw`: the body's exact bytes).
 *
 * Everything that comes from a message is sanitised before it is coloured, so the only escape
 * sequences in the output are the colours themselves. Colours come from the caller's picocolors
 * functions (`io.colors`), which leave text unchanged when colour is off.
 */
import type { Colors } from '../io/colors.js';
import { decodeBody } from './bytes.js';
import { DEATH_FIELDS, type DeathRecord, type Envelope, type HeaderJson } from './envelope.js';
import { layoutJson, type JsonTokenKind } from './json-layout.js';
import { encodeEnvelopeLine } from './ndjson.js';
import { sanitizeBlock, sanitizeLine } from './sanitize.js';

import type { OutputMode } from '../io/output-mode.js';

export type { OutputMode };

export interface RenderOptions {
  colors: Colors;
  /** Longest body preview in `line` output, in characters. */
  previewLength?: number;
}

const DEFAULT_PREVIEW_LENGTH = 200;
/** Bytes shown in a binary body's hex dump before the rest is summarised. */
const HEX_DUMP_LIMIT = 512;
const LABEL_WIDTH = 14;

/** One message in the chosen output mode, without a trailing newline; `raw` gives bytes. */
export function renderMessage(
  envelope: Envelope,
  mode: OutputMode,
  options: RenderOptions,
): string | Buffer {
  switch (mode) {
    case 'line':
      return renderLine(envelope, options);
    case 'pretty':
      return renderPretty(envelope, options);
    case 'json':
      return encodeEnvelopeLine(envelope);
    case 'raw':
      return decodeBody(envelope.body, envelope.bodyEncoding);
  }
}

/**
 * One line: time, where it was (`topic[partition]@offset`, `exchange→routingKey` or the queue),
 * flags (key, redelivered, deliveryCount, death reason) and a preview of the body, JSON compacted
 * with its literals kept.
 */
export function renderLine(envelope: Envelope, options: RenderOptions): string {
  const { colors } = options;
  const parts = [
    colors.dim(sanitizeLine(envelope.timestamp ?? '-')),
    colors.cyan(sanitizeLine(where(envelope))),
  ];
  if (envelope.key !== null) parts.push(colors.blue(`key=${sanitizeLine(keyText(envelope.key))}`));
  if (envelope.redelivered === true) parts.push(colors.yellow('redelivered'));
  if (envelope.deliveryCount !== null && envelope.deliveryCount > 0) {
    parts.push(colors.yellow(`deliveryCount=${envelope.deliveryCount}`));
  }
  if (envelope.death !== null) parts.push(colors.red(deathFlag(envelope.death)));
  parts.push(bodyPreview(envelope, options));
  return parts.join(' ');
}

function where(envelope: Envelope): string {
  if (envelope.topic !== null) {
    const partition = envelope.partition === null ? '' : `[${envelope.partition}]`;
    const offset = envelope.offset === null ? '' : `@${envelope.offset}`;
    return `${envelope.topic}${partition}${offset}`;
  }
  if (envelope.exchange !== null) {
    return `${envelope.exchange === '' ? '(default)' : envelope.exchange}→${envelope.routingKey ?? ''}`;
  }
  return envelope.queue ?? '-';
}

function keyText(key: NonNullable<Envelope['key']>): string {
  return typeof key === 'string' ? key : `<${Buffer.from(key.base64, 'base64').length} bytes>`;
}

function deathFlag(death: DeathRecord): string {
  return death.reason === null ? 'dead' : `dead:${death.reason}`;
}

function bodyPreview(envelope: Envelope, options: RenderOptions): string {
  const { colors } = options;
  if (envelope.bodyEncoding === 'base64') {
    return colors.dim(`<binary ${decodeBody(envelope.body, 'base64').length} bytes>`);
  }
  if (envelope.body === '') return colors.dim('<empty>');
  const compact = isJson(envelope.body)
    ? layoutJson(envelope.body, { indent: null })
    : envelope.body;
  return truncate(sanitizeLine(compact), options.previewLength ?? DEFAULT_PREVIEW_LENGTH);
}

/** Cuts at a code point, never inside a surrogate pair. */
function truncate(text: string, length: number): string {
  const characters = [...text];
  return characters.length <= length ? text : `${characters.slice(0, length - 1).join('')}…`;
}

/**
 * A block of lines: the envelope's fields (nulls left out), headers, properties, the death
 * record, then the body: JSON pretty-printed from its own text (indentation only), other text as
 * it is, binary bytes as a hex dump.
 */
export function renderPretty(envelope: Envelope, options: RenderOptions): string {
  const { colors } = options;
  const field = (label: string, value: string, indent = '') =>
    `${indent}${colors.dim(label.padEnd(LABEL_WIDTH - indent.length))} ${value}`;
  const lines = [colors.bold(sanitizeLine(`── ${where(envelope)}`))];

  const scalars: [string, string | number | boolean | null][] = [
    ['id', envelope.id],
    ['broker', envelope.broker],
    ['queue', envelope.queue],
    ['topic', envelope.topic],
    ['exchange', envelope.exchange],
    ['routingKey', envelope.routingKey],
    ['partition', envelope.partition],
    ['offset', envelope.offset],
    ['key', envelope.key === null ? null : keyText(envelope.key)],
    ['timestamp', envelope.timestamp],
    ['redelivered', envelope.redelivered],
    ['deliveryCount', envelope.deliveryCount],
  ];
  for (const [label, value] of scalars) {
    if (value !== null) lines.push(field(label, sanitizeLine(String(value))));
  }

  const headers = Object.entries(envelope.headers);
  if (headers.length > 0) {
    lines.push(colors.dim('headers'));
    for (const [name, value] of headers) {
      lines.push(field(sanitizeLine(name), headerText(value, options), '  '));
    }
  }
  const properties = Object.entries(envelope.properties ?? {});
  if (properties.length > 0) {
    lines.push(colors.dim('properties'));
    for (const [name, value] of properties) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      lines.push(field(sanitizeLine(name), sanitizeLine(text), '  '));
    }
  }
  if (envelope.death !== null) {
    lines.push(colors.red('death'));
    for (const [name, value] of deathEntries(envelope.death)) {
      lines.push(field(name, sanitizeLine(value), '  '));
    }
  }
  lines.push(...prettyBody(envelope, options));
  return lines.join('\n');
}

/** A string header prints as its text; any other value as compact, coloured JSON. */
function headerText(value: HeaderJson, options: RenderOptions): string {
  if (typeof value === 'string') return sanitizeLine(value);
  return layoutJson(JSON.stringify(value), {
    indent: null,
    paint: painter(options.colors, sanitizeLine),
  });
}

function deathEntries(death: DeathRecord): [string, string][] {
  const entries: [string, string][] = [];
  for (const name of DEATH_FIELDS) {
    const value = death[name];
    if (name === 'redriveCount' && value === 0) continue;
    if (Array.isArray(value)) {
      if (value.length > 0) entries.push([name, value.join(', ')]);
    } else if (value !== null) {
      entries.push([name, String(value)]);
    }
  }
  return entries;
}

function prettyBody(envelope: Envelope, options: RenderOptions): string[] {
  const { colors } = options;
  const bytes = decodeBody(envelope.body, envelope.bodyEncoding);
  const heading = colors.dim(`body (${envelope.bodyEncoding}, ${bytes.length} bytes)`);
  if (bytes.length === 0) return [heading];
  if (envelope.bodyEncoding === 'base64') return [heading, ...hexDump(bytes)];
  if (isJson(envelope.body)) {
    return [
      heading,
      layoutJson(envelope.body, { indent: '  ', paint: painter(colors, sanitizeBlock) }),
    ];
  }
  return [heading, sanitizeBlock(envelope.body)];
}

function painter(colors: Colors, sanitize: (text: string) => string) {
  const paints: Record<JsonTokenKind, (text: string) => string> = {
    key: colors.cyan,
    string: colors.green,
    number: colors.yellow,
    literal: colors.magenta,
    punctuation: (text) => text,
  };
  return (kind: JsonTokenKind, text: string) => paints[kind](sanitize(text));
}

/** `00000000  ff fe 00 80 …  |....|`, 16 bytes a row; only printable ASCII is shown as text. */
function hexDump(bytes: Buffer): string[] {
  const rows: string[] = [];
  const shown = bytes.subarray(0, HEX_DUMP_LIMIT);
  for (let offset = 0; offset < shown.length; offset += 16) {
    const row = shown.subarray(offset, offset + 16);
    const hex = [...row].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row]
      .map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.'))
      .join('');
    rows.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  if (bytes.length > shown.length) rows.push(`… ${bytes.length - shown.length} more bytes`);
  return rows;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
