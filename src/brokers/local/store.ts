/**
 * The embedded broker's queue model on one SQLite database: routing, queue copies, leases,
 * settlement, dead-lettering, TTL, taps and topology. Everything here is synchronous (better-sqlite3);
 * `index.ts` turns it into the async broker contract.
 */
import { randomUUID } from 'node:crypto';
import type { Statement, Transaction as SqliteTransaction } from 'better-sqlite3';
import type { TopologySnapshot } from '../../config/topology-export.js';
import type { QueueArguments, Topology } from '../../config/topology.js';
import { MqError, NotFoundError, RefusedError } from '../../errors.js';
import { didYouMean } from '../../message/suggest.js';
import type {
  InboundMessage,
  OutboundMessage,
  PublishReceipt,
  QueueInfo,
  Route,
  TopologyChange,
} from '../types.js';
import { decodeHeaders, decodeProperties, encodeHeaders, encodeProperties } from './codec.js';
import type { Sqlite } from './database.js';
import { parseDeaths, recordDeath, toDeathRecord, type DeathReason } from './deaths.js';
import { exchangeTarget } from '../amqp-route.js';
import { globToRegExp, topicMatches } from '../matching.js';
import { isProcessAlive } from './processes.js';
import {
  describeConflicts,
  planTopology,
  type LiveExchange,
  type LiveTopology,
} from '../topology-plan.js';
import { asBuffer } from '../bytes.js';

/** How often a consumer taking messages also reclaims dead consumers' and expired leases. */
const MAINTAIN_EVERY_MS = 100;

/** What travels with a message from queue to queue (and to taps). */
interface Payload {
  message_id: string;
  exchange: string;
  routing_key: string;
  body: Buffer;
  headers: string;
  properties: string;
  published_at: number;
  /** Returns so far, over every queue the message has been in. */
  delivery_count: number;
  deaths: string | null;
}

interface MessageRow extends Payload {
  seq: number;
  queue: string;
  expires_at: number | null;
  entry_delivery_count: number;
  redelivered: number;
  lease_owner: string | null;
  lease_pid: number | null;
  lease_expires_at: number | null;
}

interface QueueRow {
  name: string;
  arguments: string;
}

export type Settlement = 'ack' | 'retry' | 'release' | 'deadLetter';

export interface Leased {
  seq: number;
  message: InboundMessage;
}

/**
 * One write transaction's look-ups, so that a batch publish reads each queue's arguments and taps
 * once, and every row it writes carries the same time.
 */
class Transaction {
  readonly queueArguments = new Map<string, QueueArguments | undefined>();
  readonly taps = new Map<string, number[]>();
  constructor(readonly now: number) {}
}

export class LocalStore {
  private readonly statements = new Map<string, Statement>();
  private readonly transact: SqliteTransaction<(work: () => unknown) => unknown>;
  /** This connection's own commits, which SQLite's data_version does not count. */
  private ownCommits = 0;
  /** Acks not written yet, per consumer (ack()). */
  private readonly acked = new Map<string, number[]>();
  /** When lease() last looked for dead consumers and expired leases (maintain()). */
  private leaseMaintainedAt = 0;

  constructor(
    private readonly db: Sqlite,
    /** Where the database lives, for messages. */
    private readonly dataDir: string,
  ) {
    this.transact = db.transaction((work: () => unknown) => work());
  }

  close(): void {
    this.db.close();
  }

  /** Changes whenever anyone (this process or another) commits: cheap enough to poll every few ms. */
  changeMark(): string {
    return `${this.sql('PRAGMA data_version').pluck().get() as number}:${this.ownCommits}`;
  }

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** A write that must survive a power cut once it returns: publishing, declaring. */
  private durably<T>(work: (tx: Transaction) => T): T {
    const result = this.transact.immediate(() => work(new Transaction(Date.now()))) as T;
    this.ownCommits += 1;
    return result;
  }

  /**
   * Leases, settlements, taps, expiry. Without an fsync each, a power cut may undo the last few:
   * a message comes back and is delivered again (at-least-once, DESIGN.md §6). A move between
   * queues stays one transaction, so it still happens exactly once or not at all.
   */
  private lightly<T>(work: (tx: Transaction) => T): T {
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.durably(work);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  // ---- topology ------------------------------------------------------------------------------

  private readonly live: LiveTopology = {
    exchange: (name) => this.exchange(name),
    queueArguments: (name) => this.queueArguments(name),
    hasBinding: (binding) =>
      this.sql('SELECT 1 FROM bindings WHERE exchange = ? AND queue = ? AND routing_key = ?').get(
        binding.exchange,
        binding.queue,
        binding.routingKey,
      ) !== undefined,
  };

  private exchange(name: string): LiveExchange | undefined {
    const row = this.sql('SELECT type, durable FROM exchanges WHERE name = ?').get(name) as
      { type: string; durable: number } | undefined;
    return row && { type: row.type, durable: row.durable === 1 };
  }

  private queueArguments(name: string, tx?: Transaction): QueueArguments | undefined {
    if (tx?.queueArguments.has(name)) return tx.queueArguments.get(name);
    const row = this.sql('SELECT arguments FROM queues WHERE name = ?').get(name) as
      Pick<QueueRow, 'arguments'> | undefined;
    const args = row && (JSON.parse(row.arguments) as QueueArguments);
    tx?.queueArguments.set(name, args);
    return args;
  }

  plan(topology: Topology): TopologyChange[] {
    return planTopology(topology, this.live);
  }

  /** Every exchange, queue and binding in the order they were declared, for `mq topology export`. */
  snapshot(): TopologySnapshot {
    const exchanges = this.sql(
      'SELECT name, type, durable FROM exchanges ORDER BY rowid',
    ).all() as {
      name: string;
      type: string;
      durable: number;
    }[];
    const queues = this.sql('SELECT name, arguments FROM queues ORDER BY rowid').all() as Pick<
      QueueRow,
      'name' | 'arguments'
    >[];
    const bindings = this.sql(
      'SELECT exchange, queue, routing_key FROM bindings ORDER BY queue, rowid',
    ).all() as { exchange: string; queue: string; routing_key: string }[];
    return {
      exchanges: exchanges.map((row) => ({
        name: row.name,
        type: row.type,
        durable: row.durable === 1,
        autoDelete: false,
        internal: false,
        arguments: {},
      })),
      queues: queues.map((row) => ({
        name: row.name,
        arguments: JSON.parse(row.arguments) as Record<string, unknown>,
        durable: true,
        exclusive: false,
        autoDelete: false,
        policy: {},
      })),
      bindings: bindings.map((row) => ({
        exchange: row.exchange,
        destination: row.queue,
        destinationType: 'queue',
        routingKey: row.routing_key,
        arguments: {},
      })),
      topics: [],
    };
  }

  /** Creates what is missing in one transaction; any conflict refuses the lot. */
  apply(topology: Topology): TopologyChange[] {
    const planned = this.plan(topology);
    // Most opens find everything in place: no write lock for them.
    if (planned.every((change) => change.action === 'unchanged')) return planned;
    return this.durably((tx) => {
      const changes = this.plan(topology);
      const conflicts = changes.filter((change) => change.action === 'conflict');
      if (conflicts.length > 0) {
        throw new RefusedError(`cannot declare the topology: ${describeConflicts(conflicts)}`, {
          hint: `change the declaration to match, or use a fresh broker directory (--broker local:<dir>) instead of ${this.dataDir}`,
        });
      }
      // Nothing conflicts, so whatever already exists is identical: OR IGNORE keeps it.
      for (const exchange of topology.exchanges) {
        this.sql('INSERT OR IGNORE INTO exchanges (name, type, durable) VALUES (?, ?, ?)').run(
          exchange.name,
          exchange.type,
          exchange.durable ? 1 : 0,
        );
      }
      for (const queue of topology.queues) {
        const args = Object.fromEntries(
          Object.entries(queue.arguments).filter(([, value]) => value !== undefined),
        );
        this.sql('INSERT OR IGNORE INTO queues (name, arguments, created_at) VALUES (?, ?, ?)').run(
          queue.name,
          JSON.stringify(args),
          tx.now,
        );
      }
      for (const binding of topology.bindings) {
        this.sql(
          'INSERT OR IGNORE INTO bindings (exchange, queue, routing_key) VALUES (?, ?, ?)',
        ).run(binding.exchange, binding.queue, binding.routingKey);
      }
      return changes;
    });
  }

  // ---- routing and publishing ----------------------------------------------------------------

  private queueNames(): string[] {
    return this.sql('SELECT name FROM queues ORDER BY name').pluck().all() as string[];
  }

  requireQueue(name: string): void {
    if (this.queueArguments(name) !== undefined) return;
    throw new NotFoundError(
      `queue "${name}" does not exist on the local broker${didYouMean(name, this.queueNames())}`,
      { hint: 'mq ls lists the queues; the local broker declares those in mq.config.json' },
    );
  }

  /**
   * The queues a message published to `exchange` with `routingKey` reaches, sorted by name; null
   * when there is no such exchange. The default exchange ('') routes to the queue named by the key.
   */
  private route(exchange: string, routingKey: string, tx: Transaction): string[] | null {
    if (exchange === '') return this.queueArguments(routingKey, tx) ? [routingKey] : [];
    const found = this.exchange(exchange);
    if (found === undefined) return null;
    const bindings = this.sql('SELECT queue, routing_key FROM bindings WHERE exchange = ?').all(
      exchange,
    ) as { queue: string; routing_key: string }[];
    const matches = (bindingKey: string): boolean => {
      switch (found.type) {
        case 'fanout':
          return true;
        case 'topic':
          return topicMatches(bindingKey, routingKey);
        case 'direct':
          return bindingKey === routingKey;
        default:
          return false;
      }
    };
    const queues = new Set(bindings.filter((b) => matches(b.routing_key)).map((b) => b.queue));
    return [...queues].sort();
  }

  /** One durable transaction for the whole batch; a message no queue takes is unroutable. */
  publish(route: Route, messages: readonly OutboundMessage[]): PublishReceipt[] {
    const started = performance.now();
    const target = exchangeTarget(route, 'the local broker');
    const routed = this.durably((tx) => {
      const queues = this.routeOrThrow(target.exchange, target.routingKey, tx);
      return messages.map((message) => this.enqueueAll(message, target, queues, tx));
    });
    return receiptsOf(routed, performance.now() - started);
  }

  /**
   * Publishes each message to its route and deletes the leased original it replaces, all in one
   * durable transaction: a redrive that moves exactly once. An unroutable message's original
   * stays; one its `owner` no longer holds is an error that changes nothing.
   */
  moveLeased(
    moves: readonly { seq: number; owner: string; route: Route; message: OutboundMessage }[],
  ): PublishReceipt[] {
    const started = performance.now();
    const routed = this.durably((tx) =>
      moves.map(({ seq, owner, route, message }) => {
        const held = this.sql('SELECT 1 FROM messages WHERE seq = ? AND lease_owner = ?').get(
          seq,
          owner,
        );
        if (held === undefined) {
          throw new MqError(`message ${message.properties?.messageId ?? seq} is no longer held`, {
            hint: 'its lease was given back or expired: nothing of this batch moved',
          });
        }
        const target = exchangeTarget(route, 'the local broker');
        const queues = this.routeOrThrow(target.exchange, target.routingKey, tx);
        const enqueued = this.enqueueAll(message, target, queues, tx);
        if (enqueued.routed) this.sql('DELETE FROM messages WHERE seq = ?').run(seq);
        return enqueued;
      }),
    );
    return receiptsOf(routed, performance.now() - started);
  }

  private routeOrThrow(exchange: string, routingKey: string, tx: Transaction): string[] {
    const queues = this.route(exchange, routingKey, tx);
    if (queues === null) {
      const names = this.sql('SELECT name FROM exchanges ORDER BY name').pluck().all() as string[];
      throw new NotFoundError(
        `exchange "${exchange}" does not exist on the local broker${didYouMean(exchange, names)}`,
        { hint: 'declare it in mq.config.json, or publish through amq.topic' },
      );
    }
    return queues;
  }

  /** A new message in each of `queues`, as published through `target`. */
  private enqueueAll(
    message: OutboundMessage,
    target: { exchange: string; routingKey: string },
    queues: readonly string[],
    tx: Transaction,
  ): { messageId: string; routed: boolean } {
    // mq always sets a message id; one given without it still gets an id that survives moves.
    const messageId = message.properties?.messageId ?? randomUUID();
    const payload: Payload = {
      message_id: messageId,
      exchange: target.exchange,
      routing_key: target.routingKey,
      body: asBuffer(message.body),
      headers: encodeHeaders(message.headers),
      properties: encodeProperties(message.properties),
      published_at: tx.now,
      delivery_count: 0,
      deaths: null,
    };
    for (const queue of queues) this.enqueue(queue, payload, tx);
    return { messageId, routed: queues.length > 0 };
  }

  /** A queue copy, plus one for each live tap on the queue. */
  private enqueue(queue: string, payload: Payload, tx: Transaction): void {
    const ttl = this.queueArguments(queue, tx)?.['x-message-ttl'];
    this.sql(
      `INSERT INTO messages (queue, message_id, exchange, routing_key, body, headers, properties, published_at,
         expires_at, delivery_count, entry_delivery_count, deaths)
       VALUES (@queue, @message_id, @exchange, @routing_key, @body, @headers, @properties, @published_at,
         @expires_at, @delivery_count, @delivery_count, @deaths)`,
    ).run({ ...payload, queue, expires_at: ttl === undefined ? null : tx.now + ttl });
    for (const tap of this.liveTaps(queue, tx)) {
      this.sql(
        `INSERT INTO tap_messages (tap_id, message_id, exchange, routing_key, body, headers, properties, published_at,
           delivery_count, deaths)
         VALUES (@tap_id, @message_id, @exchange, @routing_key, @body, @headers, @properties, @published_at,
           @delivery_count, @deaths)`,
      ).run({ ...payload, tap_id: tap });
    }
  }

  /** The queue's taps whose process still runs; the others are removed on the way. */
  private liveTaps(queue: string, tx: Transaction): number[] {
    let taps = tx.taps.get(queue);
    if (taps === undefined) {
      const rows = this.sql('SELECT id, pid FROM taps WHERE queue = ?').all(queue) as {
        id: number;
        pid: number;
      }[];
      taps = [];
      for (const row of rows) {
        if (isProcessAlive(row.pid)) taps.push(row.id);
        else this.deleteTap(row.id);
      }
      tx.taps.set(queue, taps);
    }
    return taps;
  }

  // ---- leases and settlement -----------------------------------------------------------------

  registerConsumer(owner: string, queue: string): void {
    this.requireQueue(queue);
    this.lightly((tx) =>
      this.sql('INSERT INTO consumers (owner, queue, pid, started_at) VALUES (?, ?, ?, ?)').run(
        owner,
        queue,
        process.pid,
        tx.now,
      ),
    );
  }

  /** Gives back what the consumer still holds (as release() does) and forgets the consumer. */
  endConsumer(owner: string): void {
    this.lightly(() => {
      // Acked ones go first: the rest go back to the queue.
      this.deleteAcked(owner);
      this.sql(
        `UPDATE messages SET redelivered = 1, lease_owner = NULL, lease_pid = NULL, lease_expires_at = NULL
         WHERE lease_owner = ?`,
      ).run(owner);
      this.sql('DELETE FROM consumers WHERE owner = ?').run(owner);
    });
    this.acked.delete(owner);
  }

  /** The next ready message of the queue, leased to `owner` for `leaseMs`; null when none is ready. */
  lease(queue: string, owner: string, leaseMs: number): Leased | null {
    // Four queries and a liveness check per process: once per MAINTAIN_EVERY_MS is enough for a
    // consumer taking thousands of messages a second, and a dead one's messages wait no longer.
    const now = Date.now();
    if (now - this.leaseMaintainedAt >= MAINTAIN_EVERY_MS) {
      this.maintain();
      this.leaseMaintainedAt = now;
    }
    const ready = `FROM messages WHERE queue = ? AND lease_owner IS NULL
       AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT 1`;
    // An idle consumer polls: it takes the write lock only when there is something to lease.
    if (
      !this.acked.has(owner) &&
      this.sql(`SELECT 1 ${ready}`).get(queue, Date.now()) === undefined
    ) {
      return null;
    }
    const leased = this.lightly((tx) => {
      this.deleteAcked(owner);
      const row = this.sql(`SELECT * ${ready}`).get(queue, tx.now) as MessageRow | undefined;
      if (row === undefined) return null;
      this.sql(
        'UPDATE messages SET lease_owner = ?, lease_pid = ?, lease_expires_at = ? WHERE seq = ?',
      ).run(owner, process.pid, tx.now + leaseMs, row.seq);
      return { seq: row.seq, message: toInbound(row, row.queue) };
    });
    this.acked.delete(owner);
    return leased;
  }

  /** Keeps a live consumer's leases from expiring (a person may sit at a prompt for minutes). */
  renew(owner: string, leaseMs: number): void {
    this.lightly((tx) =>
      this.sql('UPDATE messages SET lease_expires_at = ? WHERE lease_owner = ?').run(
        tx.now + leaseMs,
        owner,
      ),
    );
  }

  /**
   * An ack, written with the owner's next lease (or by flushAcks(), or when it ends): one
   * transaction for both instead of one each. False, changing nothing, when `owner` no longer
   * holds the message. Until then the message stays leased to the owner,
   * so nobody else takes it; if the process dies first it is delivered again (at-least-once, as
   * an ack written without an fsync already is).
   */
  ack(seq: number, owner: string): boolean {
    // A read, no lock: whether the lease is still the owner's, as settle() would find.
    if (
      this.sql('SELECT 1 FROM messages WHERE seq = ? AND lease_owner = ?').get(seq, owner) ===
      undefined
    ) {
      return false;
    }
    const acked = this.acked.get(owner);
    if (acked === undefined) this.acked.set(owner, [seq]);
    else acked.push(seq);
    return true;
  }

  /** Writes the owner's acks now (its consumer is waiting for a message, or idle). */
  flushAcks(owner: string): void {
    if (!this.acked.has(owner)) return;
    this.lightly(() => this.deleteAcked(owner));
    // Forgotten once written: a failed transaction leaves them to write again.
    this.acked.delete(owner);
  }

  /** Within a transaction: what `owner` acked and still holds is gone. */
  private deleteAcked(owner: string): void {
    const acked = this.acked.get(owner);
    if (acked === undefined) return;
    const remove = this.sql('DELETE FROM messages WHERE seq = ? AND lease_owner = ?');
    for (const seq of acked) remove.run(seq, owner);
  }

  /** False, changing nothing, when `owner` no longer holds the message (its lease was given back or expired). */
  settle(seq: number, owner: string, how: Settlement): boolean {
    return this.lightly((tx) => {
      const row = this.sql('SELECT * FROM messages WHERE seq = ? AND lease_owner = ?').get(
        seq,
        owner,
      ) as MessageRow | undefined;
      if (row === undefined) return false;
      switch (how) {
        case 'ack':
          this.sql('DELETE FROM messages WHERE seq = ?').run(seq);
          break;
        case 'retry':
          this.giveBack(row, true, tx);
          break;
        case 'release':
          this.giveBack(row, false, tx);
          break;
        case 'deadLetter':
          this.deadLetter(row, 'rejected', tx);
          break;
      }
      return true;
    });
  }

  /**
   * Back to the queue, in its place. A counted return past the queue's `x-delivery-limit`
   * dead-letters instead: with limit N the message is delivered N + 1 times in this queue, as on
   * RabbitMQ's quorum queues.
   */
  private giveBack(row: MessageRow, counted: boolean, tx: Transaction): void {
    const deliveryCount = row.delivery_count + (counted ? 1 : 0);
    const limit = this.queueArguments(row.queue, tx)?.['x-delivery-limit'];
    if (counted && limit !== undefined && deliveryCount - row.entry_delivery_count > limit) {
      this.deadLetter({ ...row, delivery_count: deliveryCount }, 'delivery_limit', tx);
      return;
    }
    this.sql(
      `UPDATE messages SET delivery_count = ?, redelivered = 1, lease_owner = NULL, lease_pid = NULL,
       lease_expires_at = NULL WHERE seq = ?`,
    ).run(deliveryCount, row.seq);
  }

  /**
   * Removes the message and, in the same transaction, publishes it through the queue's dead-letter
   * exchange with a death record. As on RabbitMQ, a queue without a dead-letter exchange (or one
   * that routes nowhere) drops it. The copy keeps its delivery count, so a dead letter shows how
   * many attempts it had, and is not marked redelivered: it is new to its queue.
   */
  private deadLetter(row: MessageRow, reason: DeathReason, tx: Transaction): void {
    this.sql('DELETE FROM messages WHERE seq = ?').run(row.seq);
    const args = this.queueArguments(row.queue, tx);
    const exchange = args?.['x-dead-letter-exchange'];
    if (exchange === undefined) return;
    const routingKey = args?.['x-dead-letter-routing-key'] ?? row.routing_key;
    const queues = this.route(exchange, routingKey, tx) ?? [];
    const deaths = recordDeath(parseDeaths(row.deaths), {
      queue: row.queue,
      reason,
      exchange: row.exchange,
      routingKeys: [row.routing_key],
      time: tx.now,
    });
    const payload: Payload = {
      message_id: row.message_id,
      exchange,
      routing_key: routingKey,
      body: row.body,
      headers: row.headers,
      properties: row.properties,
      published_at: row.published_at,
      delivery_count: row.delivery_count,
      deaths: JSON.stringify(deaths),
    };
    for (const queue of queues) this.enqueue(queue, payload, tx);
  }

  /**
   * Time- and process-driven events: leases whose process is gone come back at once, leases past
   * their expiry come back (both count a delivery, as a closed channel does on RabbitMQ), and
   * messages past their TTL are dead-lettered as `expired`. Reads first, so an idle broker is
   * never locked for nothing.
   */
  maintain(): void {
    const now = Date.now();
    const holders = this.sql(
      'SELECT DISTINCT lease_pid FROM messages WHERE lease_owner IS NOT NULL',
    )
      .pluck()
      .all() as number[];
    const goneHolders = holders.filter((pid) => !isProcessAlive(pid));
    const registered = this.sql('SELECT pid FROM consumers UNION SELECT pid FROM taps')
      .pluck()
      .all() as number[];
    const goneRegistered = registered.filter((pid) => !isProcessAlive(pid));
    const leaseExpired =
      this.sql(
        'SELECT 1 FROM messages WHERE lease_owner IS NOT NULL AND lease_expires_at <= ? LIMIT 1',
      ).get(now) !== undefined;
    const ttlExpired =
      this.sql('SELECT 1 FROM messages WHERE lease_owner IS NULL AND expires_at <= ? LIMIT 1').get(
        now,
      ) !== undefined;
    if (goneHolders.length === 0 && goneRegistered.length === 0 && !leaseExpired && !ttlExpired)
      return;
    this.lightly((tx) => {
      const reclaimed = [
        ...goneHolders.flatMap(
          (pid) =>
            this.sql(
              'SELECT * FROM messages WHERE lease_owner IS NOT NULL AND lease_pid = ? ORDER BY seq',
            ).all(pid) as MessageRow[],
        ),
        ...(this.sql(
          'SELECT * FROM messages WHERE lease_owner IS NOT NULL AND lease_expires_at <= ? ORDER BY seq',
        ).all(tx.now) as MessageRow[]),
      ];
      const seen = new Set<number>();
      for (const row of reclaimed) {
        if (seen.has(row.seq)) continue;
        seen.add(row.seq);
        this.giveBack(row, true, tx);
      }
      const expired = this.sql(
        'SELECT * FROM messages WHERE lease_owner IS NULL AND expires_at <= ? ORDER BY seq',
      ).all(tx.now) as MessageRow[];
      for (const row of expired) this.deadLetter(row, 'expired', tx);
      for (const pid of goneRegistered) {
        this.sql('DELETE FROM consumers WHERE pid = ?').run(pid);
        const taps = this.sql('SELECT id FROM taps WHERE pid = ?').pluck().all(pid) as number[];
        for (const tap of taps) this.deleteTap(tap);
      }
    });
  }

  // ---- inspection ----------------------------------------------------------------------------

  /** The first `limit` ready messages, untouched. */
  peek(queue: string, limit: number): InboundMessage[] {
    this.requireQueue(queue);
    this.maintain();
    const rows = this.sql(
      `SELECT * FROM messages WHERE queue = ? AND lease_owner IS NULL
       AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT ?`,
    ).all(queue, Date.now(), limit) as MessageRow[];
    return rows.map((row) => toInbound(row, queue));
  }

  createTap(queue: string): number {
    this.requireQueue(queue);
    return this.lightly(
      (tx) =>
        this.sql('INSERT INTO taps (queue, pid, created_at) VALUES (?, ?, ?)').run(
          queue,
          process.pid,
          tx.now,
        ).lastInsertRowid as number,
    );
  }

  /** Up to `limit` of the tap's copies, oldest first, removed from the tap. */
  takeFromTap(tap: number, queue: string, limit: number): InboundMessage[] {
    const rows = this.sql('SELECT * FROM tap_messages WHERE tap_id = ? ORDER BY seq LIMIT ?').all(
      tap,
      limit,
    ) as (Payload & { seq: number })[];
    const last = rows.at(-1);
    if (last === undefined) return [];
    this.lightly(() =>
      this.sql('DELETE FROM tap_messages WHERE tap_id = ? AND seq <= ?').run(tap, last.seq),
    );
    return rows.map((row) => toInbound({ ...row, redelivered: 0 }, queue));
  }

  dropTap(tap: number): void {
    this.lightly(() => this.deleteTap(tap));
  }

  private deleteTap(tap: number): void {
    this.sql('DELETE FROM tap_messages WHERE tap_id = ?').run(tap);
    this.sql('DELETE FROM taps WHERE id = ?').run(tap);
  }

  describe(name: string): QueueInfo {
    this.requireQueue(name);
    this.maintain();
    return this.queueInfos((queue) => queue === name)[0]!;
  }

  list(pattern?: string): QueueInfo[] {
    this.maintain();
    const wanted = pattern === undefined ? null : globToRegExp(pattern);
    return this.queueInfos((queue) => wanted === null || wanted.test(queue));
  }

  private queueInfos(wanted: (queue: string) => boolean): QueueInfo[] {
    const queues = (
      this.sql('SELECT name, arguments FROM queues ORDER BY name').all() as QueueRow[]
    ).filter((queue) => wanted(queue.name));
    const countBy = (sql: string) =>
      new Map(
        (this.sql(sql).all() as { queue: string; n: number }[]).map((row) => [row.queue, row.n]),
      );
    const ready = countBy(
      'SELECT queue, count(*) AS n FROM messages WHERE lease_owner IS NULL GROUP BY queue',
    );
    const unacked = countBy(
      'SELECT queue, count(*) AS n FROM messages WHERE lease_owner IS NOT NULL GROUP BY queue',
    );
    const consumers = new Map<string, number>();
    const registered = this.sql('SELECT queue, pid FROM consumers').all() as {
      queue: string;
      pid: number;
    }[];
    for (const consumer of registered) {
      if (isProcessAlive(consumer.pid))
        consumers.set(consumer.queue, (consumers.get(consumer.queue) ?? 0) + 1);
    }
    const tx = new Transaction(Date.now());
    return queues.map((queue) => {
      const args = JSON.parse(queue.arguments) as QueueArguments;
      const bindings = this.sql(
        'SELECT exchange, routing_key FROM bindings WHERE queue = ? ORDER BY exchange, routing_key',
      ).all(queue.name) as { exchange: string; routing_key: string }[];
      const limit = args['x-delivery-limit'];
      return {
        name: queue.name,
        kind: 'queue',
        type: args['x-queue-type'] === 'quorum' ? 'quorum' : 'classic',
        ready: ready.get(queue.name) ?? 0,
        unacked: unacked.get(queue.name) ?? 0,
        consumers: consumers.get(queue.name) ?? 0,
        deadLetterExchange: args['x-dead-letter-exchange'] ?? null,
        deadLetterQueue: this.deadLetterQueue(args, tx),
        maxDeliveries: limit === undefined ? null : limit + 1,
        messageTtlMs: args['x-message-ttl'] ?? null,
        bindings: bindings.map((b) => ({ exchange: b.exchange, routingKey: b.routing_key })),
        sampled: false,
      } satisfies QueueInfo;
    });
  }

  /**
   * The one queue the dead-letter exchange routes this queue's dead-letter routing key to. Without
   * a fixed key, dead letters follow each message's own routing key: no single answer.
   */
  private deadLetterQueue(args: QueueArguments, tx: Transaction): string | null {
    const exchange = args['x-dead-letter-exchange'];
    const routingKey = args['x-dead-letter-routing-key'];
    if (exchange === undefined || routingKey === undefined) return null;
    const queues = this.route(exchange, routingKey, tx) ?? [];
    return queues.length === 1 ? queues[0]! : null;
  }
}

type StoredMessage = Payload & Pick<MessageRow, 'redelivered'>;

function toInbound(row: StoredMessage, source: string): InboundMessage {
  const headers = decodeHeaders(row.headers);
  const properties = decodeProperties(row.properties);
  return {
    id: row.message_id,
    source,
    exchange: row.exchange,
    routingKey: row.routing_key,
    partition: null,
    offset: null,
    timestamp: properties.timestamp ?? row.published_at,
    redelivered: row.redelivered === 1,
    deliveryCount: row.delivery_count,
    death: toDeathRecord(parseDeaths(row.deaths), headers),
    body: row.body,
    headers,
    properties,
  };
}

function receiptsOf(
  routed: readonly { messageId: string; routed: boolean }[],
  confirmLatencyMs: number,
): PublishReceipt[] {
  return routed.map(({ messageId, routed: reached }) => ({
    messageId,
    status: reached ? 'confirmed' : 'unroutable',
    confirmLatencyMs,
  }));
}
