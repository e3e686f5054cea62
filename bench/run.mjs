// `npm run bench`: every benchmark, each reporting against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// rabbitmq-*.mjs and kafka-*.mjs need the test brokers up (npm run brokers:up).
const scripts = [
  'startup.mjs',
  'local-publish.mjs',
  'rabbitmq-publish.mjs',
  'rabbitmq-redrive.mjs',
  'kafka-publish.mjs',
  'kafka-consume.mjs',
];
let failed = false;
for (const script of scripts) {
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
    stdio: 'inherit',
  });
  failed ||= result.status !== 0;
}
process.exitCode = failed ? 1 : 0;
