// What each benchmark measured, for `npm run bench` to write into docs/performance.md: one JSON line
// per measure appended to $MQ_BENCH_RESULTS (set by run.mjs); nothing when a script runs alone.
import { appendFileSync } from 'node:fs';

/**
 * @param {{ measure: string, baseline: string, baselineValue: number, value: number,
 *           unit: string, goal?: string, met?: boolean }} result
 *   `value` and `baselineValue` in `unit`; the ratio is value / baselineValue.
 */
export function record(result) {
  const file = process.env.MQ_BENCH_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
}
