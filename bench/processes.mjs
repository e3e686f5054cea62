// What the benchmarks that time whole processes share.
import { spawnSync } from 'node:child_process';

/** The environment mq runs in for a benchmark: prompts and colour off, no extra CA bundle to load. */
export function benchEnv(extra = {}) {
  const env = { ...process.env, CI: 'true', NO_COLOR: '1', ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Runs `node <argv>` to its end; returns how long it took in ms, or throws with its stderr. */
export function timedNode(argv, { env, cwd }) {
  const started = performance.now();
  const result = spawnSync(process.execPath, argv, {
    env,
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0)
    throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
