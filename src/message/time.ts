/** 9999-12-31T23:59:59.999Z: later years do not fit the four-digit ISO 8601 form envelopes use. */
const LATEST_TIME_MS = 253_402_300_799_999;

/**
 * Milliseconds since the epoch as ISO 8601, or null for a time no envelope line could carry back
 * (negative, which Kafka uses for "no timestamp", NaN, or past the year 9999).
 */
export function isoFromMilliseconds(milliseconds: number): string | null {
  if (!(milliseconds >= 0 && milliseconds <= LATEST_TIME_MS)) return null;
  return new Date(milliseconds).toISOString();
}
