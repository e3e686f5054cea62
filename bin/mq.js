#!/usr/bin/env node
// `mq --version` is answered before the CLI bundle is even read; everything else runs in it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const manifest = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  process.stdout.write(`${JSON.parse(manifest).version}\n`);
} else {
  const { run } = createRequire(import.meta.url)('../dist/main.cjs');
  process.exitCode = await run(process.argv); // exitCode, not exit(): lets piped stdout drain
}
