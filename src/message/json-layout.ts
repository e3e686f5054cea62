/**
 * Re-indents JSON text without parsing it into values: every string and number token is copied
 * as written, so `1.0` stays `1.0` and `12345678901234567890` keeps all its digits, and key order
 * never changes. Only the whitespace between tokens is replaced.
 */
export type JsonTokenKind = 'key' | 'string' | 'number' | 'literal' | 'punctuation';

export interface JsonLayoutOptions {
  /** One level of indentation, or null for everything on one line with no spaces. */
  indent: string | null;
  /** Applied to each token's source text, e.g. to sanitise and colour it. */
  paint?: (kind: JsonTokenKind, text: string) => string;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SCALAR_END = new Set([' ', '\t', '\n', '\r', ',', ':', ']', '}']);

/** The text must be valid JSON (check with JSON.parse first); the output is the same JSON value. */
export function layoutJson(text: string, options: JsonLayoutOptions): string {
  const { indent } = options;
  const paint = options.paint ?? ((_kind: JsonTokenKind, token: string) => token);
  const containers: ('object' | 'array')[] = [];
  const newline = () => (indent === null ? '' : `\n${indent.repeat(containers.length)}`);
  let out = '';
  let expectingKey = false;
  let index = 0;
  while (index < text.length) {
    const character = text.charAt(index);
    if (WHITESPACE.has(character)) {
      index += 1;
    } else if (character === '"') {
      const end = endOfString(text, index);
      out += paint(expectingKey ? 'key' : 'string', text.slice(index, end));
      index = end;
    } else if (character === '{' || character === '[') {
      const close = character === '{' ? '}' : ']';
      const next = skipWhitespace(text, index + 1);
      if (text.charAt(next) === close) {
        out += paint('punctuation', character + close);
        index = next + 1;
      } else {
        containers.push(character === '{' ? 'object' : 'array');
        out += paint('punctuation', character) + newline();
        expectingKey = character === '{';
        index += 1;
      }
    } else if (character === '}' || character === ']') {
      containers.pop();
      out += newline() + paint('punctuation', character);
      index += 1;
    } else if (character === ',') {
      out += paint('punctuation', ',') + newline();
      expectingKey = containers.at(-1) === 'object';
      index += 1;
    } else if (character === ':') {
      out += paint('punctuation', ':') + (indent === null ? '' : ' ');
      expectingKey = false;
      index += 1;
    } else {
      let end = index + 1;
      while (end < text.length && !SCALAR_END.has(text.charAt(end))) end += 1;
      const token = text.slice(index, end);
      out += paint(
        character === '-' || (character >= '0' && character <= '9') ? 'number' : 'literal',
        token,
      );
      index = end;
    }
  }
  return out;
}

/** Index just past the closing quote of the string starting at `start`. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && text.charAt(index) !== '"')
    index += text.charAt(index) === '\\' ? 2 : 1;
  return index + 1;
}

function skipWhitespace(text: string, start: number): number {
  let index = start;
  while (WHITESPACE.has(text.charAt(index))) index += 1;
  return index;
}
