/**
 * Terminal safety: text from a message (body, key, header, routing key) is printed with its
 * control characters as visible escapes, so that a message can never move the cursor, set the
 * window title, ring the bell or reorder what the reader sees (Trojan Source bidi overrides).
 *
 * Escaped: C0 controls (`\n`, `\r`, `\t` by name, others as `\x1b`), DEL, C1 controls (`\x9b`
 * is a one-byte CSI on some terminals), the line and paragraph separators U+2028/U+2029, and the
 * bidi controls U+202A–U+202E, U+2066–U+2069 with the marks U+200E, U+200F, U+061C.
 * Backslashes are not doubled: this is for reading, not for parsing back.
 */
/* eslint-disable no-control-regex -- matching control characters is the point */
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** The same set minus tab and line feed, for multi-line blocks. */
const UNSAFE_IN_BLOCK =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(character: string): string {
  const named = NAMED_ESCAPES[character];
  if (named !== undefined) return named;
  const code = character.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** For one-line output: every control character escaped, newlines included. */
export function sanitizeLine(text: string): string {
  return text.replace(UNSAFE_IN_LINE, escapeCharacter);
}

/** For multi-line output: like `sanitizeLine` but keeps line feeds and tabs (a CR is escaped). */
export function sanitizeBlock(text: string): string {
  return text.replace(UNSAFE_IN_BLOCK, escapeCharacter);
}
