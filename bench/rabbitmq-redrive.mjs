// mq dlq redrive against RabbitMQ next to a minimal amqplib script doing the same in the same run:
// per dead letter, basic.get from the DLQ, publish to the queue it died in with a confirm, wait for
// the confirm, ack. Both move the same dead letters (persistent, with a real x-death from a
// reject) from a throwaway classic DLQ back to a throwaway classic queue (`mq-bench-redrive-<uuid>`,
// deleted at the end), and both are fresh processes timed from spawn to exit, so mq's start-up,
// connect, DLQ discovery and journal are in its number. The rounds alternate.
// Needs RabbitMQ on 127.0.0.1:5672 (guest/guest, management plugin) and a build.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, median, timedNode } from './processes.mjs';
import { record } from './results.mjs';

const BROKER_URL = process.env.MQ_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
const ROUNDS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(join(root, 'package.json'));
const amqplib = requireHere('amqplib');
const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-redrive-'));
const queue = `mq-bench-redrive-${randomUUID()}`;
const deadLetterExchange = `${queue}.dlx`;
const deadLetterQueue = `${queue}.dlq`;
const body =
  '{"eventType":"order.placed","orderId":"ord-789","userId":"usr-123","totalAmount":99.98}';

const bareScript = join(scratch, 'bare.cjs');
writeFileSync(
  bareScript,
  `const amqplib = require(${JSON.stringify(requireHere.resolve('amqplib'))});
(async () => {
  const [url, dlq, count] = process.argv.slice(2);
  const connection = await amqplib.connect(url, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  for (let moved = 0; moved < Number(count); moved += 1) {
    const message = await channel.get(dlq, { noAck: false });
    if (message === false) throw new Error('the DLQ ran out');
    const death = message.properties.headers['x-death'][0];
    const headers = { ...message.properties.headers };
    delete headers['x-death'];
    channel.publish('', death.queue, message.content, { ...message.properties, headers, mandatory: true });
    await channel.waitForConfirms();
    channel.ack(message);
  }
  await channel.close();
  await connection.close();
})().catch((error) => { console.error(error.message); process.exit(1); });
`,
);

const env = benchEnv({ MQ_HOME: join(scratch, 'home') });

const timed = (argv) => timedNode(argv, { env, cwd: scratch });

const connection = await amqplib.connect(BROKER_URL);
const channel = await connection.createConfirmChannel();

/** MESSAGES dead letters in the DLQ, each rejected from the queue by a consumer. */
async function fillDeadLetters() {
  await channel.purgeQueue(queue);
  await channel.purgeQueue(deadLetterQueue);
  const payload = Buffer.from(body);
  for (let i = 0; i < MESSAGES; i += 1) {
    channel.sendToQueue(queue, payload, {
      persistent: true,
      contentType: 'application/json',
      messageId: randomUUID(),
    });
  }
  await channel.waitForConfirms();
  const rejecter = await connection.createChannel();
  await rejecter.prefetch(500);
  let rejected = 0;
  await new Promise((resolve) => {
    void rejecter.consume(queue, (message) => {
      rejecter.reject(message, false);
      rejected += 1;
      if (rejected === MESSAGES) resolve();
    });
  });
  await rejecter.close();
  while ((await channel.checkQueue(deadLetterQueue)).messageCount < MESSAGES) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function movedAll() {
  const [source, dlq] = [
    await channel.checkQueue(queue),
    await channel.checkQueue(deadLetterQueue),
  ];
  if (source.messageCount !== MESSAGES || dlq.messageCount !== 0) {
    throw new Error(
      `expected ${MESSAGES} back and an empty DLQ, found ${source.messageCount} and ${dlq.messageCount}`,
    );
  }
}

await channel.assertExchange(deadLetterExchange, 'fanout', { durable: false, autoDelete: false });
await channel.assertQueue(deadLetterQueue, {
  durable: true,
  arguments: { 'x-expires': 3_600_000 },
});
await channel.bindQueue(deadLetterQueue, deadLetterExchange, '');
await channel.assertQueue(queue, {
  durable: true,
  arguments: { 'x-dead-letter-exchange': deadLetterExchange, 'x-expires': 3_600_000 },
});
try {
  const runs = { mq: [], bare: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    await fillDeadLetters();
    runs.bare.push(timed([bareScript, BROKER_URL, deadLetterQueue, String(MESSAGES)]));
    await movedAll();
    await fillDeadLetters();
    runs.mq.push(
      timed([join(root, 'bin', 'mq.js'), '--broker', BROKER_URL, 'dlq', 'redrive', queue, '--yes']),
    );
    await movedAll();
  }
  const rate = (ms) => (MESSAGES / ms) * 1000;
  const [mqRate, bareRate] = [rate(median(runs.mq)), rate(median(runs.bare))];
  console.log(`RabbitMQ redrive, ${MESSAGES} dead letters, median of ${ROUNDS} (whole process)`);
  console.log(`  get-publish-confirm-ack script  ${bareRate.toFixed(0)}/s`);
  console.log(
    `  mq dlq redrive --yes            ${mqRate.toFixed(0)}/s  ratio ${(mqRate / bareRate).toFixed(2)} (goal ≥ 0.8)`,
  );
  record({
    measure: `RabbitMQ: dlq redrive of ${MESSAGES} dead letters`,
    baseline: 'get-publish-confirm-ack script',
    baselineValue: bareRate,
    value: mqRate,
    unit: 'messages/s',
    goal: 'ratio ≥ 0.8',
    met: mqRate / bareRate >= 0.8,
  });
} finally {
  await channel.deleteQueue(queue);
  await channel.deleteQueue(deadLetterQueue);
  await channel.deleteExchange(deadLetterExchange);
  await connection.close();
}
