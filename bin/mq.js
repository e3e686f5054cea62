#!/usr/bin/env node
// CommonJS (see bin/package.json): loading an ES module entry costs more start-up than the whole of
// `mq --version`. The version is answered before the CLI bundle is even read.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  // exitCode, not exit(): lets piped stdout drain. run() turns every error into an exit code.
  void require('./load-cli.js')()
    .run(process.argv)
    .then((code) => {
      process.exitCode = code;
    });
}
