/**
 * The NDJSON form of envelopes: one JSON object per line, what `mq tail --json` writes and
 * `mq publish --from` reads (DESIGN.md §4).
 */
import { findNodeAtLocation, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { InputError } from '../errors.js';
import { jsonLine } from '../io/json.js';
import { EnvelopeFieldError, checkEnvelope, type JsonPath } from './check-envelope.js';
import { DEATH_FIELDS, ENVELOPE_FIELDS, type DeathRecord, type Envelope } from './envelope.js';

/**
 * One envelope as one line of JSON (no newline), fields in `ENVELOPE_FIELDS` order and the death
 * record in `DEATH_FIELDS` order. The body string is written as it is: never re-serialised.
 */
export function encodeEnvelopeLine(envelope: Envelope): string {
  const ordered = Object.fromEntries(
    ENVELOPE_FIELDS.map((field) => [
      field,
      field === 'death' && envelope.death !== null ? orderDeath(envelope.death) : envelope[field],
    ]),
  );
  return jsonLine(ordered);
}

function orderDeath(death: DeathRecord): Record<string, unknown> {
  return Object.fromEntries(DEATH_FIELDS.map((field) => [field, death[field]]));
}

const NDJSON_HINT =
  'mq reads one envelope per line (NDJSON), as `mq tail --json` writes them; ' +
  'a plain JSON body is published with `mq publish <event> <file>`';

/** Where a line sits, for error positions. */
export interface LineLocation {
  file: string;
  line: number;
}

/**
 * One line to an envelope, checked field by field. Every problem is an `InputError` positioned at
 * `file:line:column`, the column pointing at the offending value (or key).
 */
export function decodeEnvelopeLine(text: string, at: LineLocation): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw syntaxError(text, at, error);
  }
  try {
    return checkEnvelope(value);
  } catch (error) {
    if (!(error instanceof EnvelopeFieldError)) throw error;
    throw new InputError(error.message, {
      position: { ...at, column: columnOfPath(text, error.path, error.atKey) },
    });
  }
}

/** Human words for jsonc-parser's error codes (RFC 8259 JSON: no comments, no trailing commas). */
const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected character: JSON strings and names need double quotes',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ',' or a closing bracket",
  CloseBraceExpected: "expected '}': the object is not closed on this line",
  CloseBracketExpected: "expected ']': the array is not closed on this line",
  EndOfFileExpected: 'unexpected text after the envelope: one envelope per line',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape: it needs four hex digits',
  InvalidEscapeCharacter: 'invalid escape sequence in a string',
  InvalidCharacter: 'raw control character in a string: escape it (\\n, \\t, \\u0000)',
};

/** Node's JSON.parse does not always say where; jsonc-parser does. */
function syntaxError(text: string, at: LineLocation, cause: unknown): InputError {
  const errors: ParseError[] = [];
  parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const first = errors[0];
  const message = first
    ? `invalid JSON: ${SYNTAX_MESSAGES[printParseErrorCode(first.error)] ?? 'syntax error'}`
    : `invalid JSON: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new InputError(message, {
    cause,
    hint: NDJSON_HINT,
    position: { ...at, column: first ? columnAt(text, first.offset) : 1 },
  });
}

/** 1-based column of a JSON path's value (or property key), in characters; 1 when not found. */
function columnOfPath(text: string, path: JsonPath, atKey: boolean): number {
  const root = parseTree(text);
  if (!root || path.length === 0) return 1;
  const node = findNodeAtLocation(root, path);
  if (!node) return 1;
  return columnAt(text, atKey && node.parent ? node.parent.offset : node.offset);
}

/** Code points, not UTF-16 units, so that an emoji before the error counts as one column. */
function columnAt(text: string, offset: number): number {
  return [...text.slice(0, offset)].length + 1;
}

/** All envelopes in a text, blank lines skipped; a BOM before the first line is ignored. */
export function decodeEnvelopeLines(text: string, file: string): Envelope[] {
  const envelopes: Envelope[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, index) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() !== '') envelopes.push(decodeEnvelopeLine(line, { file, line: index + 1 }));
    });
  return envelopes;
}

const LINE_FEED = 0x0a;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Envelopes from a byte stream (a file or stdin), one line at a time, so a large file is never
 * held whole. Each line must be valid UTF-8: a stray byte would otherwise become U+FFFD and
 * silently change a body. Stops at the first bad line with its `InputError`.
 */
export async function* readEnvelopes(
  input: AsyncIterable<Uint8Array | string>,
  file: string,
): AsyncGenerator<Envelope> {
  let pieces: Buffer[] = [];
  let lineNumber = 0;
  const decodeLine = (bytes: Buffer): Envelope | null => {
    lineNumber += 1;
    const text = decodeLineBytes(bytes, { file, line: lineNumber });
    return text.trim() === '' ? null : decodeEnvelopeLine(text, { file, line: lineNumber });
  };
  for await (const chunk of input) {
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let end = bytes.indexOf(LINE_FEED); end !== -1; end = bytes.indexOf(LINE_FEED, start)) {
      pieces.push(bytes.subarray(start, end));
      const envelope = decodeLine(Buffer.concat(pieces));
      pieces = [];
      start = end + 1;
      if (envelope) yield envelope;
    }
    if (start < bytes.length) pieces.push(bytes.subarray(start));
  }
  if (pieces.length > 0) {
    const envelope = decodeLine(Buffer.concat(pieces));
    if (envelope) yield envelope;
  }
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CARRIAGE_RETURN = 0x0d;

function decodeLineBytes(bytes: Buffer, at: LineLocation): string {
  let content = bytes;
  if (at.line === 1 && content.subarray(0, 3).equals(UTF8_BOM)) content = content.subarray(3);
  if (content.at(-1) === CARRIAGE_RETURN) content = content.subarray(0, -1);
  try {
    return strictUtf8.decode(content);
  } catch (cause) {
    throw new InputError('the line is not valid UTF-8: NDJSON files are UTF-8 text', {
      cause,
      position: { ...at, column: 1 },
    });
  }
}
