/**
 * The embedded broker's one SQLite file, `<dataDir>/mq.db`, and its schema. Several mq processes
 * open it at once (one tails while another publishes): WAL lets readers run beside the one writer,
 * and the busy timeout makes a writer wait for another instead of failing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MqError } from '../../errors.js';

export type Sqlite = Database.Database;

export const DATABASE_FILE = 'mq.db';

/** How long a write waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/** Bumped, with a migration, whenever the tables below change. */
const SCHEMA_VERSION = 1;

/**
 * `messages` holds one row per queue copy, in publish order (`seq`). A leased row names its holder:
 * `lease_owner` (one consumer), `lease_pid` (its process, so a dead holder's messages come back at
 * once) and `lease_expires_at` (renewed while the holder lives). `delivery_count` is the message's
 * returns so far, kept when it is dead-lettered; `entry_delivery_count` is what it was on entering
 * this queue, so a queue's delivery limit counts only its own deliveries. `deaths` is the death
 * history, newest first, as RabbitMQ's `x-death` keeps it. Headers are tagged JSON (codec.ts).
 *
 * A tap is `mq tail`'s window on a queue: every message routed to the queue is also copied into
 * `tap_messages` for each tap, so tailing never leases or removes the queue's own messages.
 */
const SCHEMA = `
CREATE TABLE exchanges (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  durable INTEGER NOT NULL
);
CREATE TABLE queues (
  name TEXT PRIMARY KEY,
  arguments TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE bindings (
  exchange TEXT NOT NULL,
  queue TEXT NOT NULL,
  routing_key TEXT NOT NULL,
  PRIMARY KEY (exchange, queue, routing_key)
);
CREATE INDEX bindings_by_queue ON bindings (queue);
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  message_id TEXT NOT NULL,
  exchange TEXT NOT NULL,
  routing_key TEXT NOT NULL,
  body BLOB NOT NULL,
  headers TEXT NOT NULL,
  properties TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  expires_at INTEGER,
  delivery_count INTEGER NOT NULL DEFAULT 0,
  entry_delivery_count INTEGER NOT NULL DEFAULT 0,
  redelivered INTEGER NOT NULL DEFAULT 0,
  deaths TEXT,
  lease_owner TEXT,
  lease_pid INTEGER,
  lease_expires_at INTEGER
);
CREATE INDEX messages_ready ON messages (queue, seq) WHERE lease_owner IS NULL;
CREATE INDEX messages_leased ON messages (queue, lease_pid, lease_expires_at)
  WHERE lease_owner IS NOT NULL;
CREATE INDEX messages_lease_owner ON messages (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX messages_expiring ON messages (expires_at)
  WHERE expires_at IS NOT NULL AND lease_owner IS NULL;
CREATE TABLE consumers (
  owner TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE TABLE taps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  pid INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX taps_by_queue ON taps (queue);
CREATE TABLE tap_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tap_id INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  exchange TEXT NOT NULL,
  routing_key TEXT NOT NULL,
  body BLOB NOT NULL,
  headers TEXT NOT NULL,
  properties TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL,
  deaths TEXT
);
CREATE INDEX tap_messages_by_tap ON tap_messages (tap_id, seq);
INSERT INTO exchanges (name, type, durable) VALUES
  ('amq.direct', 'direct', 1),
  ('amq.fanout', 'fanout', 1),
  ('amq.topic', 'topic', 1);
`;

/** Opens (creating when needed) the database in `dataDir`, with the pragmas every connection needs. */
export function openDatabase(dataDir: string): Sqlite {
  // Messages can hold anything a user publishes: keep them to the user.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, DATABASE_FILE), { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    // better-sqlite3 leaves WAL at NORMAL, where a commit can be lost on power failure; a publish
    // must be durable when it returns.
    db.pragma('synchronous = FULL');
    migrate(db, dataDir);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function schemaVersion(db: Sqlite): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Sqlite, dataDir: string): void {
  const found = schemaVersion(db);
  if (found === SCHEMA_VERSION) return;
  if (found > SCHEMA_VERSION) {
    throw new MqError(`the local broker in ${dataDir} was written by a newer version of mq`, {
      hint: 'upgrade mq, or use another directory with --broker local:<dir>',
    });
  }
  // Another process may be creating the schema right now: decide again under the write lock.
  db.transaction(() => {
    if (schemaVersion(db) !== 0) return;
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
