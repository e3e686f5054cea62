// `mq bench`'s own inequalities (issue 8), checked by running the command as a user would:
// - `mq bench --orders 100 --concurrency 10 --time-scale 0.01 --json` on the embedded broker: sync
//   p50 near the scaled 3.5 s chain (35 ms), async p50 below a tenth of sync's, no errors, all 100
//   completed;
// - with `--down sms --recover-after 2s`: sync orders that met the outage failed, async ones did
//   not, and every SMS message was processed by the end.
// The median of 3 runs of the first, so one slow moment of the machine does not decide it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { record } from './results.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 3;

function bench(...args) {
  const result = spawnSync(
    process.execPath,
    [join(root, 'bin', 'mq.js'), 'bench', '--time-scale', '0.01', '--json', ...args],
    { encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
  if (result.status !== 0) throw new Error(`mq bench ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const runs = Array.from({ length: RUNS }, () => bench('--orders', '100', '--concurrency', '10'));
const syncP50 = median(runs.map((run) => run.modes.sync.latencyMs.p50));
const asyncP50 = median(runs.map((run) => run.modes.async.latencyMs.p50));
const clean = runs.every((run) =>
  Object.values(run.modes).every((mode) => mode.errors === 0 && mode.completed === 100),
);
const outage = bench(
  '--orders',
  '100',
  '--concurrency',
  '10',
  '--down',
  'sms',
  '--recover-after',
  '2s',
);
const { sync, async } = outage.modes;
const outageHonest =
  sync.errors > 0 &&
  sync.errors + sync.completed === 100 &&
  async.errors === 0 &&
  async.completed === 100 &&
  async.processed.sms === 100;

console.log(`mq bench --orders 100 --concurrency 10 --time-scale 0.01, median of ${RUNS}`);
console.log(`  sync p50   ${syncP50} ms (the chain alone is 35 ms)`);
console.log(
  `  async p50  ${asyncP50} ms  ratio ${(asyncP50 / syncP50).toFixed(2)} (goal < 0.1)${clean ? '' : '; ERRORS or orders missing'}`,
);
console.log(
  `  --down sms --recover-after 2s: sync errors ${sync.errors} of 100, async errors ${async.errors}, sms processed ${async.processed.sms} of ${async.completed}${outageHonest ? '' : ' (NOT as it should be)'}`,
);
record({
  measure: 'mq bench: async p50 against sync p50 (embedded broker, time scale 0.01)',
  baseline: 'sync p50, same run',
  baselineValue: syncP50,
  value: asyncP50,
  unit: 'ms',
  goal: 'ratio < 0.1, no errors',
  met: asyncP50 / syncP50 < 0.1 && clean,
});
record({
  measure: 'mq bench --down sms --recover-after 2s: sync errors, async errors, sms processed',
  baseline: 'sync errors',
  baselineValue: sync.errors,
  value: async.errors,
  unit: 'errors',
  goal: 'async 0, every sms processed',
  met: outageHonest,
});
if (asyncP50 / syncP50 >= 0.1 || !clean || !outageHonest) process.exitCode = 1;
