// The embedded broker's goals (issue 8), each next to a bare better-sqlite3 loop doing the same work
// in the same run, on the same disk, with the same pragmas:
// - batched publish: 256-byte messages, 100 per publish() (one transaction), goal ≥ 100,000/s;
// - consume + ack: 20,000 waiting 256-byte messages taken and acked with prefetch 100 (acks are
//   group-committed with the next lease), goal ≥ 20,000/s; the bare loop selects and deletes 100
//   rows a transaction;
// - cross-process tail latency: another process tails the queue while this one publishes single
//   messages 5 ms apart; p99 from publish to arrival, against a bare process polling the table at the
//   broker's own poll interval (25 ms).
// Drives the built adapter (`npm run bench` builds first).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { record } from './results.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const Database = require('better-sqlite3');
const localBroker = pathToFileURL(join(root, 'dist', 'brokers', 'local', 'index.js')).href;
const { openLocal } = await import(localBroker);

const BATCHES = 400;
const BATCH = 100;
const CONSUMED = 20_000;
const TAILED = 200;
const TAIL_GAP_MS = 5;
const POLL_MS = 25;
const body = Buffer.alloc(256, 'x');

const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-local-'));

async function broker(name) {
  const dataDir = join(scratch, name);
  const adapter = openLocal({ kind: 'local', dataDir, display: dataDir }, { project: null });
  await adapter.connect();
  await adapter.topology.apply({
    exchanges: [],
    queues: [{ name: 'bench', arguments: { 'x-queue-type': 'classic' } }],
    bindings: [],
    topics: [],
  });
  return { adapter, dataDir };
}

function bare(name) {
  const db = new Database(join(scratch, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT, body BLOB, sent REAL)',
  );
  return db;
}

const perSec = (count, ms) => (count / ms) * 1000;

async function batchedPublish() {
  const { adapter } = await broker('publish');
  const route = { kind: 'queue', queue: 'bench' };
  const batch = Array.from({ length: BATCH }, () => ({ body }));
  let started = performance.now();
  for (let i = 0; i < BATCHES; i += 1) await adapter.publish(route, batch);
  const mq = perSec(BATCHES * BATCH, performance.now() - started);
  await adapter.close();
  const db = bare('publish');
  const insert = db.prepare('INSERT INTO messages (queue, body) VALUES (?, ?)');
  const insertBatch = db.transaction(() => {
    for (let i = 0; i < BATCH; i += 1) insert.run('bench', body);
  });
  started = performance.now();
  for (let i = 0; i < BATCHES; i += 1) insertBatch.immediate();
  const bareRate = perSec(BATCHES * BATCH, performance.now() - started);
  db.close();
  return { mq, bare: bareRate };
}

async function consumeAndAck() {
  const { adapter } = await broker('consume');
  const route = { kind: 'queue', queue: 'bench' };
  const batch = Array.from({ length: 1000 }, () => ({ body }));
  for (let i = 0; i < CONSUMED; i += 1000) await adapter.publish(route, batch);
  let taken = 0;
  let started = performance.now();
  for await (const delivery of adapter.consume('bench', {
    signal: AbortSignal.timeout(120_000),
    prefetch: 100,
  })) {
    await delivery.ack();
    if (++taken === CONSUMED) break;
  }
  const mq = perSec(CONSUMED, performance.now() - started);
  await adapter.close();
  const db = bare('consume');
  const insert = db.prepare('INSERT INTO messages (queue, body) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < CONSUMED; i += 1) insert.run('bench', body);
  }).immediate();
  db.pragma('synchronous = NORMAL');
  const take = db.prepare('SELECT seq, body FROM messages WHERE queue = ? ORDER BY seq LIMIT 100');
  const remove = db.prepare('DELETE FROM messages WHERE seq = ?');
  const takeAndAck = db.transaction(() => {
    const rows = take.all('bench');
    for (const row of rows) remove.run(row.seq);
    return rows.length;
  });
  started = performance.now();
  for (let done = 0; done < CONSUMED;) done += takeAndAck.immediate();
  const bareRate = perSec(CONSUMED, performance.now() - started);
  db.close();
  return { mq, bare: bareRate };
}

/** A child process that reads `TAILED` messages and prints their p99 latency in ms. */
function tailer(kind, dataDir) {
  const script =
    kind === 'mq'
      ? `const { openLocal } = await import(${JSON.stringify(localBroker)});
const b = openLocal({ kind: 'local', dataDir: ${JSON.stringify(dataDir)}, display: 'x' }, { project: null });
await b.connect();
const latencies = [];
const ac = new AbortController();
for await (const m of b.inspection.tail('bench', { signal: ac.signal, onReady: () => console.log('ready') })) {
  latencies.push(performance.timeOrigin + performance.now() - Buffer.from(m.body).readDoubleBE(0));
  if (latencies.length === ${TAILED}) break;
}
await b.close();
latencies.sort((a, b) => a - b);
console.log(latencies[Math.floor(latencies.length * 0.99)]);`
      : `const Database = (await import('node:module')).createRequire(${JSON.stringify(join(root, 'package.json'))})('better-sqlite3');
const db = new Database(${JSON.stringify(join(scratch, 'tail.db'))});
const poll = db.prepare('SELECT seq, sent FROM messages WHERE seq > ? ORDER BY seq');
let last = db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM messages').get().m;
const latencies = [];
console.log('ready');
while (latencies.length < ${TAILED}) {
  for (const row of poll.all(last)) { latencies.push(performance.timeOrigin + performance.now() - row.sent); last = row.seq; }
  await new Promise((r) => setTimeout(r, ${POLL_MS}));
}
db.close();
latencies.sort((a, b) => a - b);
console.log(latencies[Math.floor(latencies.length * 0.99)]);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const ready = new Promise((resolve) =>
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready')) resolve();
    }),
  );
  const done = new Promise((resolve) =>
    child.on('close', () => resolve(Number(output.trim().split('\n').at(-1)))),
  );
  return { ready, done };
}

async function tailLatency() {
  const { adapter, dataDir } = await broker('tail');
  const mqTail = tailer('mq', dataDir);
  await mqTail.ready;
  const stamped = () => {
    const stamp = Buffer.from(body);
    stamp.writeDoubleBE(performance.timeOrigin + performance.now(), 0);
    return stamp;
  };
  for (let i = 0; i < TAILED; i += 1) {
    await adapter.publish({ kind: 'queue', queue: 'bench' }, [{ body: stamped() }]);
    await new Promise((resolve) => setTimeout(resolve, TAIL_GAP_MS));
  }
  const mq = await mqTail.done;
  await adapter.close();
  const db = bare('tail');
  const insert = db.prepare('INSERT INTO messages (queue, body, sent) VALUES (?, ?, ?)');
  const bareTail = tailer('bare', null);
  await bareTail.ready;
  for (let i = 0; i < TAILED; i += 1) {
    insert.run('bench', body, performance.timeOrigin + performance.now());
    await new Promise((resolve) => setTimeout(resolve, TAIL_GAP_MS));
  }
  const bareP99 = await bareTail.done;
  db.close();
  return { mq, bare: bareP99 };
}

try {
  const publish = await batchedPublish();
  const consume = await consumeAndAck();
  const tail = await tailLatency();
  const show = (label, result, unit, goal) =>
    console.log(
      `  ${label.padEnd(34)} bare ${result.bare.toFixed(unit === '/s' ? 0 : 1)}${unit}  mq ${result.mq.toFixed(unit === '/s' ? 0 : 1)}${unit}  ratio ${(result.mq / result.bare).toFixed(2)}  ${goal}`,
    );
  console.log('embedded broker (bare better-sqlite3 loop beside each)');
  show(
    'publish, 256 B, 100 a transaction',
    publish,
    '/s',
    `(goal ≥ 100000/s${publish.mq >= 100_000 ? ', met' : ', NOT met'})`,
  );
  show(
    'consume + ack, prefetch 100',
    consume,
    '/s',
    `(goal ≥ 20000/s${consume.mq >= 20_000 ? ', met' : ', NOT met'})`,
  );
  show('cross-process tail latency p99', tail, ' ms', `(poll every ${POLL_MS} ms)`);
  record({
    measure: 'embedded broker: publish 256 B, 100 a transaction',
    baseline: 'bare better-sqlite3 loop',
    baselineValue: publish.bare,
    value: publish.mq,
    unit: 'messages/s',
    goal: '≥ 100,000/s',
    met: publish.mq >= 100_000,
  });
  record({
    measure: 'embedded broker: consume + ack, prefetch 100',
    baseline: 'bare better-sqlite3 loop',
    baselineValue: consume.bare,
    value: consume.mq,
    unit: 'messages/s',
    goal: '≥ 20,000/s',
    met: consume.mq >= 20_000,
  });
  record({
    measure: 'embedded broker: cross-process tail latency p99',
    baseline: `bare process polling every ${POLL_MS} ms`,
    baselineValue: tail.bare,
    value: tail.mq,
    unit: 'ms',
  });
  if (publish.mq < 100_000 || consume.mq < 20_000) process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
