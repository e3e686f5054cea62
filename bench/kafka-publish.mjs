// mq publish against Kafka next to a minimal kafkajs script doing the same in the same run: records
// of the same body, acks=all, in the same batches (2,000 records per produce request, one request
// at a time, as mq sends them), to a throwaway topic `mq-bench-<uuid>` created here and deleted at
// the end. Both sides are fresh processes timed from spawn to exit, so mq's start-up and connect
// are in its number, as they are for a user. kcat (librdkafka) on the same topic is a reference.
// Then the time of a one-off `mq peek`, which joins a consumer group of its own, with the broker's
// group.initial.rebalance.delay.ms printed beside it (Kafka's default is 3000 ms; the test broker
// uses 0; `MQ_KAFKA_GROUP_DELAY_MS=3000 npm run brokers:up` after `brokers:down` gives the default).
// Needs Kafka on 127.0.0.1:9092 and a build (`npm run bench` does both checks).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { record } from './results.mjs';

const BOOTSTRAP = process.env.MQ_BENCH_KAFKA ?? '127.0.0.1:9092';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50000);
const ROUNDS = 9;
const PEEKS = 5;
const root = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(join(root, 'package.json'));
const { Kafka, logLevel, ConfigResourceTypes } = requireHere('kafkajs');
const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-kafka-'));
const topic = `mq-bench-${randomUUID()}`;
const body =
  '{"eventType":"order.placed","orderId":"ord-789","userId":"usr-123","totalAmount":99.98}';

const bareScript = join(scratch, 'bare.cjs');
writeFileSync(
  bareScript,
  `const { Kafka, logLevel } = require(${JSON.stringify(requireHere.resolve('kafkajs'))});
(async () => {
  const [bootstrap, topic, count, body] = process.argv.slice(2);
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bare', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (let sent = 0; sent < Number(count); ) {
    const size = Math.min(2000, Number(count) - sent);
    const messages = Array.from({ length: size }, () => ({ value: Buffer.from(body) }));
    await producer.send({ topic, acks: -1, messages });
    sent += size;
  }
  await producer.disconnect();
})().catch((error) => { console.error(error.message); process.exit(1); });
`,
);
const fixture = join(scratch, 'message.json');
writeFileSync(fixture, body);
const lines = join(scratch, 'lines.txt');
writeFileSync(lines, `${body}\n`.repeat(MESSAGES));

const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;

function timed(command, argv, input) {
  const started = performance.now();
  const result = spawnSync(command, argv, {
    env,
    cwd: scratch,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
    input,
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0)
    throw new Error(`${command} ${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

const mq = (...args) => [join(root, 'bin', 'mq.js'), '--broker', `kafka://${BOOTSTRAP}`, ...args];
const mqPublish = mq('publish', 'bench', fixture, '--topic', topic, '--repeat', String(MESSAGES));
const barePublish = [bareScript, BOOTSTRAP, topic, String(MESSAGES), body];
const kcatPublish = ['-P', '-b', BOOTSTRAP, '-t', topic, '-X', 'acks=all', '-l', lines];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const hasKcat = spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;

const kafka = new Kafka({ brokers: [BOOTSTRAP], clientId: 'mq-bench', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
try {
  const runs = { mq: [], bare: [], kcat: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    runs.bare.push(timed(process.execPath, barePublish));
    runs.mq.push(timed(process.execPath, mqPublish));
    if (hasKcat) runs.kcat.push(timed('kcat', kcatPublish));
  }
  const rate = (ms) => (MESSAGES / ms) * 1000;
  const [mqRate, bareRate] = [rate(median(runs.mq)), rate(median(runs.bare))];
  console.log(
    `Kafka publish, ${MESSAGES} records, acks=all, batches of 2,000, median of ${ROUNDS} (whole process)`,
  );
  console.log(`  bare kafkajs script  ${bareRate.toFixed(0)}/s`);
  console.log(
    `  mq publish --repeat  ${mqRate.toFixed(0)}/s  ratio ${(mqRate / bareRate).toFixed(2)} (goal ≥ 0.9)`,
  );
  record({
    measure: `Kafka: publish --repeat ${MESSAGES}, acks=all`,
    baseline: 'bare kafkajs script',
    baselineValue: bareRate,
    value: mqRate,
    unit: 'messages/s',
    goal: 'ratio ≥ 0.9',
    met: mqRate / bareRate >= 0.9,
  });
  console.log(
    hasKcat
      ? `  kcat (reference)     ${rate(median(runs.kcat)).toFixed(0)}/s`
      : '  kcat (reference)     not installed (npm run brokers:up installs it)',
  );

  const [{ configEntries }] = (
    await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: '1',
          configNames: ['group.initial.rebalance.delay.ms'],
        },
      ],
    })
  ).resources;
  const delay = configEntries.find(
    (c) => c.configName === 'group.initial.rebalance.delay.ms',
  )?.configValue;
  const peeks = Array.from({ length: PEEKS }, () => timed(process.execPath, mq('peek', topic)));
  const versionPeeks = Array.from({ length: PEEKS }, () =>
    timed(process.execPath, [join(root, 'bin', 'mq.js'), '--version']),
  );
  console.log(
    `one-off mq peek (last 10 records), median of ${PEEKS} fresh processes, broker group.initial.rebalance.delay.ms=${delay}`,
  );
  console.log(`  mq peek              ${median(peeks).toFixed(0)} ms`);
  console.log(
    `  mq --version         ${median(versionPeeks).toFixed(0)} ms (process start-up alone)`,
  );
} finally {
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}
