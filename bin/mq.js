#!/usr/bin/env node
// CommonJS (see bin/package.json): loading an ES module entry costs more start-up than the whole of
// `mq --version`. The version is answered before the CLI bundle is even read.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  // run() turns every error into an exit code. The command is over when it returns: a library's
  // leftover timers (kafkajs still retrying a connection mq gave up on) must not hold the process,
  // so it exits once what it wrote has drained.
  void require('./load-cli.js')()
    .run(process.argv)
    .then((code) => {
      process.exitCode = code;
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    });
}
