import { InvalidArgumentError } from 'commander';
import ms from 'ms';

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); longer ones would fire at once. */
const MAX_DURATION_MS = 24 * 86_400_000;

/** Durations as `500ms`, `10s`, `5m`, `1h` (a bare number is milliseconds). */
export function parseDuration(value: string): number {
  const trimmed = value.trim();
  const millis = /^\d+$/.test(trimmed)
    ? Number(trimmed)
    : /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/i.test(trimmed)
      ? ms(trimmed as ms.StringValue)
      : NaN;
  if (!Number.isFinite(millis) || millis < 0) {
    throw new InvalidArgumentError('want a duration such as 500ms, 10s, 5m or 1h');
  }
  if (millis > MAX_DURATION_MS) throw new InvalidArgumentError('want at most 24d');
  return millis;
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('want a whole number of 1 or more');
  }
  return Number(value);
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('want a whole number of 0 or more');
  }
  return Number(value);
}

/** Rates as `100`, `100/s`, `20/m`: messages per second. */
export function parseRate(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min))?$/i.exec(value.trim());
  const amount = Number(match?.[1]);
  if (!match || !(amount > 0)) throw new InvalidArgumentError('want a rate such as 100/s or 20/m');
  return match[2]?.toLowerCase().startsWith('m') ? amount / 60 : amount;
}

/** Repeatable `--header key=value`, collected into a list. */
export function collectHeader(
  value: string,
  previous: [string, string][] = [],
): [string, string][] {
  const index = value.indexOf('=');
  if (index <= 0) throw new InvalidArgumentError('want key=value');
  return [...previous, [value.slice(0, index), value.slice(index + 1)]];
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
