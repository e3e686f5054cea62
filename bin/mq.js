#!/usr/bin/env node
// `mq --version` is answered before the CLI bundle is even read; everything else runs in it.
// Only node:module is imported: each built-in an ES module imports costs start-up time.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  const { run } = require('../dist/main.cjs');
  process.exitCode = await run(process.argv); // exitCode, not exit(): lets piped stdout drain
}
