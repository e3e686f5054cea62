import type { Factory } from './factory.js';
import { mqVersion } from './version.js';

/**
 * Runs one mq invocation and returns its exit code (see `cli.ts`). Start-up is a feature: this
 * module imports nothing heavy, so `mq --version` answers before the argument parser is loaded.
 */
export async function run(argv: readonly string[], factory?: Factory): Promise<number> {
  const args = argv.slice(2);
  if (factory === undefined && args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${mqVersion()}\n`);
    return 0;
  }
  // Stack traces of the bundle point back at src/ when someone asks for them.
  if (process.env.MQ_DEBUG) process.setSourceMapsEnabled(true);
  const { runCli } = await import('./cli.js');
  return runCli(argv, factory);
}
