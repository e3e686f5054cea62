import type { Factory } from './factory.js';

/** Runs one mq invocation and returns its exit code (see `cli.ts`); bin/mq.js calls it. */
export async function run(argv: readonly string[], factory?: Factory): Promise<number> {
  // Stack traces of the bundle point back at src/ when someone asks for them.
  if (process.env.MQ_DEBUG) process.setSourceMapsEnabled(true);
  const { runCli } = await import('./cli.js');
  return runCli(argv, factory);
}
