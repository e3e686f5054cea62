import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/**
 * `--fields a,b`: the JSON fields to print, checked against the command's allow-list (the fields
 * are public API, like gh's `--json` fields). Selecting fields implies JSON output.
 */
export function parseFields(
  value: string | undefined,
  allowed: readonly string[],
): string[] | null {
  if (value === undefined) return null;
  const fields = value
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
  const unknown = fields.filter((field) => !allowed.includes(field));
  if (unknown.length > 0 || fields.length === 0) {
    throw new UsageError(
      `unknown JSON field${unknown.length === 1 ? '' : 's'} ${unknown.map((f) => `"${f}"`).join(', ') || '(none given)'}`,
      {
        hint: `available fields: ${allowed.join(', ')}`,
      },
    );
  }
  return fields;
}

/** The object with only the selected fields, in the order they were asked for. */
export function pickFields<T extends object>(
  value: T,
  fields: readonly string[] | null,
): Partial<T> | T {
  if (fields === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(fields.map((field) => [field, record[field]])) as Partial<T>;
}

/** `--json` and `--fields` flags of a command, resolved: `fields` non-null implies JSON. */
export interface JsonChoice {
  json: boolean;
  fields: string[] | null;
}

export function jsonChoice(
  flags: { json: boolean; fields?: string },
  allowed: readonly string[],
): JsonChoice {
  const fields = parseFields(flags.fields, allowed);
  return { json: flags.json || fields !== null, fields };
}

/** Adds `--json` and `--fields <list>` (naming the allowed fields in the help). */
export function addJsonOptions(
  command: Command,
  allowed: readonly string[],
  what = 'print JSON',
): Command {
  return command
    .option('--json', what, false)
    .option(
      '--fields <list>',
      `only these JSON fields, comma-separated (implies --json): ${allowed.join(', ')}`,
    );
}
