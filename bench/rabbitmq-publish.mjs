// mq publish against RabbitMQ next to a minimal amqplib script doing the same in the same run:
// persistent messages, publisher confirms with a window of 1000, to a throwaway classic queue
// (`mq-bench-<uuid>`, `x-expires` as a backstop, deleted at the end). Both sides run as fresh
// processes and are timed from spawn to exit, so mq's start-up and connect are in its number, as
// they are for a user. Also a one-shot publish of one message (connect, confirm, close) each way.
// Needs RabbitMQ on 127.0.0.1:5672 (guest/guest) and a build (`npm run bench` does both checks).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, median, timedNode } from './processes.mjs';
import { record } from './results.mjs';

const BROKER_URL = process.env.MQ_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const ROUNDS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));
const amqplib = createRequire(join(root, 'package.json'))('amqplib');
const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-rabbit-'));
const queue = `mq-bench-${randomUUID()}`;
const body =
  '{"eventType":"order.placed","orderId":"ord-789","userId":"usr-123","totalAmount":99.98}';

const bareScript = join(scratch, 'bare.cjs');
writeFileSync(
  bareScript,
  `const amqplib = require(${JSON.stringify(createRequire(join(root, 'package.json')).resolve('amqplib'))});
(async () => {
  const [url, queue, count, body] = process.argv.slice(2);
  const connection = await amqplib.connect(url, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  const payload = Buffer.from(body);
  for (let sent = 0; sent < Number(count); ) {
    const window = Math.min(1000, Number(count) - sent);
    for (let i = 0; i < window; i += 1) {
      channel.publish('', queue, payload, { persistent: true, mandatory: true, contentType: 'application/json', messageId: String(sent + i) });
    }
    await channel.waitForConfirms();
    sent += window;
  }
  await channel.close();
  await connection.close();
})().catch((error) => { console.error(error.message); process.exit(1); });
`,
);
const fixture = join(scratch, 'message.json');
writeFileSync(fixture, body);

const env = benchEnv();

const timed = (argv) => timedNode(argv, { env, cwd: scratch });

const mqArgs = (count) => [
  join(root, 'bin', 'mq.js'),
  '--broker',
  BROKER_URL,
  'publish',
  'bench',
  fixture,
  '--exchange',
  '',
  '--routing-key',
  queue,
  '--repeat',
  String(count),
];
const bareArgs = (count) => [bareScript, BROKER_URL, queue, String(count), body];

const connection = await amqplib.connect(BROKER_URL);
const channel = await connection.createChannel();
await channel.assertQueue(queue, { durable: true, arguments: { 'x-expires': 600_000 } });
try {
  const bulk = { mq: [], bare: [] };
  const single = { mq: [], bare: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    bulk.bare.push(timed(bareArgs(MESSAGES)));
    bulk.mq.push(timed(mqArgs(MESSAGES)));
    await channel.purgeQueue(queue);
    for (let i = 0; i < 5; i += 1) {
      single.bare.push(timed(bareArgs(1)));
      single.mq.push(timed(mqArgs(1)));
    }
  }
  const rate = (ms) => (MESSAGES / ms) * 1000;
  const [mqRate, bareRate] = [rate(median(bulk.mq)), rate(median(bulk.bare))];
  console.log(
    `RabbitMQ publish, ${MESSAGES} persistent messages, confirm window 1000, median of ${ROUNDS} (whole process)`,
  );
  console.log(`  bare amqplib script  ${bareRate.toFixed(0)}/s`);
  console.log(
    `  mq publish --repeat  ${mqRate.toFixed(0)}/s  ratio ${(mqRate / bareRate).toFixed(2)} (goal ≥ 0.9)`,
  );
  const [mqOne, bareOne] = [median(single.mq), median(single.bare)];
  console.log(`one-shot publish of one message, median of ${single.mq.length} fresh processes`);
  console.log(`  bare amqplib script  ${bareOne.toFixed(1)} ms`);
  console.log(
    `  mq publish           ${mqOne.toFixed(1)} ms  ratio ${(mqOne / bareOne).toFixed(2)} (goal ≤ 1.5)`,
  );
  record({
    measure: `RabbitMQ: publish --repeat ${MESSAGES}`,
    baseline: 'bare amqplib script',
    baselineValue: bareRate,
    value: mqRate,
    unit: 'messages/s',
    goal: 'ratio ≥ 0.9',
    met: mqRate / bareRate >= 0.9,
  });
  record({
    measure: 'RabbitMQ: one-shot publish of one message',
    baseline: 'bare amqplib script',
    baselineValue: bareOne,
    value: mqOne,
    unit: 'ms',
    goal: 'ratio ≤ 1.5',
    met: mqOne / bareOne <= 1.5,
  });
} finally {
  await channel.deleteQueue(queue);
  await connection.close();
}
