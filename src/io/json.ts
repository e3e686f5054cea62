import type { IOStreams } from './streams.js';

/**
 * Characters JSON.stringify leaves raw that a terminal would act on or that reorder text: DEL,
 * C1 controls, U+2028/U+2029, bidi controls and marks. They only ever occur inside JSON strings,
 * where `\uXXXX` is the same value, so the line stays the same JSON.
 */
const TERMINAL_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** One value as one line of JSON (no newline) that cannot drive a terminal. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    TERMINAL_UNSAFE,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `--json` output of a command: one terminal-safe line on stdout. */
export function writeJson(io: IOStreams, value: unknown): void {
  io.out.write(`${jsonLine(value)}\n`);
}
