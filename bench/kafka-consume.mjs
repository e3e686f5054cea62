// mq consume --group --ack against Kafka next to a minimal kafkajs script doing the same in the same
// run: a fresh consumer group reads every record of a throwaway topic `mq-bench-<uuid>` (one
// partition, created and filled here, deleted at the end), writes one JSON line per record to
// stdout, and commits as it goes (the script after each batch, mq as its settled front moves),
// then leaves. Both sides are fresh processes timed from spawn to exit, so start-up, connect and
// the group join are in both numbers, as they are for a user.
// Needs Kafka on 127.0.0.1:9092 and a build (`npm run bench` does both checks).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, median, timedNode } from './processes.mjs';
import { record } from './results.mjs';

const BOOTSTRAP = process.env.MQ_BENCH_KAFKA ?? '127.0.0.1:9092';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const ROUNDS = 5;
const root = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(join(root, 'package.json'));
const { Kafka, logLevel } = requireHere('kafkajs');
const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-kafka-consume-'));
const topic = `mq-bench-${randomUUID()}`;
const body =
  '{"eventType":"order.placed","orderId":"ord-789","userId":"usr-123","totalAmount":99.98}';

const bareScript = join(scratch, 'bare.cjs');
writeFileSync(
  bareScript,
  `const { Kafka, logLevel } = require(${JSON.stringify(requireHere.resolve('kafkajs'))});
(async () => {
  const [bootstrap, topic, count, groupId] = process.argv.slice(2);
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bare', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let read = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const record of batch.messages) {
        process.stdout.write(JSON.stringify({ topic, partition: batch.partition, offset: record.offset, body: record.value.toString() }) + '\\n');
        read += 1;
      }
      await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
      if (read >= Number(count)) finish();
    },
  });
  await done;
  await consumer.disconnect();
})().catch((error) => { console.error(error.message); process.exit(1); });
`,
);

const env = benchEnv();

const timed = (argv) => timedNode(argv, { env, cwd: scratch });

const kafka = new Kafka({ brokers: [BOOTSTRAP], clientId: 'mq-bench', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const producer = kafka.producer({ allowAutoTopicCreation: false });
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
const groups = [];
try {
  await producer.connect();
  for (let sent = 0; sent < MESSAGES; sent += 2000) {
    const size = Math.min(2000, MESSAGES - sent);
    const messages = Array.from({ length: size }, () => ({ value: Buffer.from(body) }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  const runs = { mq: [], bare: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    const bareGroup = `mq-bench-bare-${randomUUID()}`;
    const mqGroup = `mq-bench-mq-${randomUUID()}`;
    groups.push(bareGroup, mqGroup);
    runs.bare.push(timed([bareScript, BOOTSTRAP, topic, String(MESSAGES), bareGroup]));
    runs.mq.push(
      timed([
        join(root, 'bin', 'mq.js'),
        '--broker',
        `kafka://${BOOTSTRAP}`,
        'consume',
        topic,
        '--group',
        mqGroup,
        '--ack',
        '--count',
        String(MESSAGES),
        '--json',
      ]),
    );
  }
  const rate = (ms) => (MESSAGES / ms) * 1000;
  const [mqRate, bareRate] = [rate(median(runs.mq)), rate(median(runs.bare))];
  console.log(
    `Kafka consume with a group that commits, ${MESSAGES} records, one JSON line each, median of ${ROUNDS} (whole process)`,
  );
  console.log(`  bare kafkajs script (commit per batch)  ${bareRate.toFixed(0)}/s`);
  console.log(
    `  mq consume --group --ack --json         ${mqRate.toFixed(0)}/s  ratio ${(mqRate / bareRate).toFixed(2)}`,
  );
  record({
    measure: `Kafka: consume --group --ack of ${MESSAGES}`,
    baseline: 'bare kafkajs script',
    baselineValue: bareRate,
    value: mqRate,
    unit: 'messages/s',
  });
} finally {
  await admin.deleteTopics({ topics: [topic] });
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
}
