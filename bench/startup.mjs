// Start-up cost of `mq --version` and `mq --help`, as a ratio to `node -e 0` measured in the same
// run, interleaved so that machine noise hits both sides alike. NODE_EXTRA_CA_CERTS is unset on
// both sides: loading extra CA certificates costs every Node process the same fixed time and would
// flatten the ratio.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { record } from './results.mjs';

const MQ = process.env.BENCH_MQ ?? fileURLToPath(new URL('../bin/mq.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 5;

const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

const cases = {
  baseline: [process.execPath, '-e', '0'],
  version: [process.execPath, MQ, '--version'],
  help: [process.execPath, MQ, '--help'],
};

function timeOnce([command, ...args]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0)
    throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export function measureStartup(runs = RUNS) {
  const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let i = 0; i < WARMUP; i += 1) for (const argv of Object.values(cases)) timeOnce(argv);
  for (let i = 0; i < runs; i += 1) {
    for (const [name, argv] of Object.entries(cases)) samples[name].push(timeOnce(argv));
  }
  const baseline = median(samples.baseline);
  return {
    runs,
    baselineMs: baseline,
    versionMs: median(samples.version),
    helpMs: median(samples.help),
    versionRatio: median(samples.version) / baseline,
    helpRatio: median(samples.help) / baseline,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = measureStartup();
  console.log(`start-up, median of ${r.runs} interleaved runs`);
  console.log(`  node -e 0       ${r.baselineMs.toFixed(1)} ms`);
  console.log(
    `  mq --version    ${r.versionMs.toFixed(1)} ms  ratio ${r.versionRatio.toFixed(2)} (goal 1.3, limit 2.5)`,
  );
  console.log(
    `  mq --help       ${r.helpMs.toFixed(1)} ms  ratio ${r.helpRatio.toFixed(2)} (limit 2.5)`,
  );
  const baseline = { baseline: 'node -e 0', baselineValue: r.baselineMs, unit: 'ms' };
  record({
    measure: 'start-up: mq --version',
    ...baseline,
    value: r.versionMs,
    goal: 'ratio ≤ 1.3 (limit 2.5)',
    met: r.versionRatio <= 2.5,
  });
  record({
    measure: 'start-up: mq --help',
    ...baseline,
    value: r.helpMs,
    goal: 'ratio ≤ 2.5',
    met: r.helpRatio <= 2.5,
  });
  if (r.versionRatio > 2.5 || r.helpRatio > 2.5) process.exitCode = 1;
}
