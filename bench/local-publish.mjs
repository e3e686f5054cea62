// Durable single-message publish rate of the embedded local broker: one publish() per message, each
// its own fsynced commit (synchronous=FULL), through a topic exchange to one bound queue. Beside it,
// in the same run and on the same disk, a bare better-sqlite3 loop doing the same inserts with the
// same pragmas, one transaction each: the ratio is the broker's own cost. Rounds alternate so that
// machine noise hits both sides alike. It drives the built adapter: run `npm run build` first
// (`npm run bench` does).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { record } from './results.mjs';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const ROUNDS = 4;
const WARMUP = 100;
const GOAL_PER_SEC = 2000;

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const Database = require('better-sqlite3');

const body = Buffer.from(
  JSON.stringify({
    eventType: 'order.placed',
    orderId: 'ord-789',
    userId: 'usr-123',
    items: [{ productId: 'prod-456', quantity: 2, price: 49.99 }],
    totalAmount: 99.98,
  }),
);
const message = () => ({
  body,
  headers: { 'x-source': 'bench' },
  properties: { messageId: randomUUID(), contentType: 'application/json', deliveryMode: 2 },
});

async function openBroker(openLocal, dataDir) {
  const broker = openLocal({ kind: 'local', dataDir, display: dataDir }, { project: null });
  await broker.connect();
  await broker.topology.apply({
    exchanges: [{ name: 'bench', type: 'topic', durable: true }],
    queues: [{ name: 'bench-orders', arguments: { 'x-queue-type': 'classic' } }],
    bindings: [{ exchange: 'bench', queue: 'bench-orders', routingKey: 'order.*' }],
    topics: [],
  });
  const route = { kind: 'exchange', exchange: 'bench', routingKey: 'order.placed' };
  return {
    async publish(count) {
      for (let i = 0; i < count; i += 1) {
        const [receipt] = await broker.publish(route, [message()]);
        if (receipt.status !== 'confirmed') throw new Error(`publish was ${receipt.status}`);
      }
    },
    close: () => broker.close(),
  };
}

function openBare(dataDir) {
  const db = new Database(join(dataDir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT NOT NULL,
    exchange TEXT NOT NULL, routing_key TEXT NOT NULL, body BLOB NOT NULL, headers TEXT NOT NULL,
    properties TEXT NOT NULL, published_at INTEGER NOT NULL)`);
  const insert = db.prepare(
    `INSERT INTO messages (queue, message_id, exchange, routing_key, body, headers, properties, published_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const publishOne = db.transaction((m) =>
    insert.run(
      'bench-orders',
      m.properties.messageId,
      'bench',
      'order.placed',
      m.body,
      JSON.stringify(m.headers),
      JSON.stringify(m.properties),
      Date.now(),
    ),
  );
  return {
    async publish(count) {
      for (let i = 0; i < count; i += 1) publishOne.immediate(message());
    },
    close: async () => db.close(),
  };
}

async function timed(side, count) {
  const started = performance.now();
  await side.publish(count);
  return performance.now() - started;
}

const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-local-'));
try {
  const module = await import(
    pathToFileURL(join(root, 'dist', 'brokers', 'local', 'index.js')).href
  );
  const broker = await openBroker(module.openLocal, join(scratch, 'broker'));
  const bare = openBare(scratch);
  await broker.publish(WARMUP);
  await bare.publish(WARMUP);
  const perRound = Math.ceil(MESSAGES / ROUNDS);
  let brokerMs = 0;
  let bareMs = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    brokerMs += await timed(broker, perRound);
    bareMs += await timed(bare, perRound);
  }
  await broker.close();
  await bare.close();

  const total = perRound * ROUNDS;
  const brokerRate = total / (brokerMs / 1000);
  const bareRate = total / (bareMs / 1000);
  console.log(`local broker durable publish, ${total} messages one per call`);
  console.log(`  bare better-sqlite3   ${bareRate.toFixed(0)}/s`);
  console.log(
    `  local broker          ${brokerRate.toFixed(0)}/s  (goal ${GOAL_PER_SEC}/s)  ratio ${(brokerRate / bareRate).toFixed(2)} of bare`,
  );
  record({
    measure: 'embedded broker: durable publish, one message a transaction',
    baseline: 'bare better-sqlite3 loop',
    baselineValue: bareRate,
    value: brokerRate,
    unit: 'messages/s',
    goal: `≥ ${GOAL_PER_SEC}/s`,
    met: brokerRate >= GOAL_PER_SEC,
  });
  if (brokerRate < GOAL_PER_SEC) process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
