/**
 * The embedded local broker (DESIGN.md §6): RabbitMQ's queue model in one SQLite file,
 * `<dataDir>/mq.db`, shared safely by several mq processes. The reference implementation of the
 * broker contract: the contract suite passes here first.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { LocalSpec } from '../../config/broker-url.js';
import type { ProjectFile } from '../../config/project-file.js';
import { desiredTopology, type Topology } from '../../config/topology.js';
import { ConnectError, MqError } from '../../errors.js';
import {
  PublishStopped,
  type BrokerAdapter,
  type ConsumeOptions,
  type DeadLetterHandling,
  type DeadLetterMove,
  type Delivery,
  type Holding,
  type HoldOptions,
  type InboundMessage,
  type Inspection,
  type OutboundMessage,
  type PublishOptions,
  type PublishReceipt,
  type Route,
  type TopologyManagement,
} from '../types.js';
import { DATABASE_FILE, openDatabase } from './database.js';
import { LocalStore } from './store.js';
import { SettleOnceDelivery } from '../settle-once.js';

/** How long a lease lasts without renewal: the time a frozen or unreachable holder keeps a message. */
const LEASE_MS = 60_000;
/** Renewal well within the lease, so one late timer never loses it. */
const RENEW_EVERY_MS = 20_000;
/** How often a waiting consumer or tail checks the database's change counter. */
const POLL_MS = 25;
/** How often it looks for time-driven work anyway (expired leases and TTLs, dead processes). */
const RECHECK_MS = 1_000;
/** Unsettled deliveries per consumer when the caller does not say. */
const DEFAULT_PREFETCH = 10;
/** Tap copies read per transaction. */
const TAP_BATCH = 100;
/** Messages hold() takes between two turns of the event loop. */
const HOLD_YIELD_EVERY = 100;
/** Messages per durable publish transaction: one fsync for each group. */
const GROUP_COMMIT = 5000;

export function openLocal(
  spec: LocalSpec,
  options: { project: ProjectFile | null },
): BrokerAdapter {
  return new LocalAdapter(
    spec.dataDir,
    options.project === null ? null : desiredTopology(options.project),
  );
}

/** SQLite's own failures in mq's terms; mq's errors pass through. */
function translate(error: unknown): Error {
  if (!(error instanceof Database.SqliteError)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  const busy = error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED';
  return new MqError(
    busy
      ? 'the local broker is busy: another mq process held its database for too long'
      : `the local broker's database failed: ${error.message}`,
    {
      cause: error,
      hint: busy ? 'try again in a moment' : undefined,
    },
  );
}

/** Runs synchronous work as a settled promise, so its errors arrive as rejections. */
function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(translate(error));
  }
}

/** The same sequence, with SQLite's failures translated; `return()` still reaches the inner one. */
async function* translated<T>(inner: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* inner;
  } catch (error) {
    throw translate(error);
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** One hold()'s lease owner, and whether it was taken and closed. */
interface HoldState {
  owner: string;
  taken: boolean;
  ended: boolean;
  renewal: NodeJS.Timeout | undefined;
}

export class LocalAdapter implements BrokerAdapter {
  readonly kind = 'local';
  readonly inspection: Inspection;
  readonly topology: TopologyManagement;
  readonly deadLetters: DeadLetterHandling;
  private store: LocalStore | null = null;
  private closed = false;
  /** Aborted by close(), so a consumer or tail still suspended in a loop ends instead of touching a closed database. */
  private readonly closing = new AbortController();
  /** Lease owners (one per consume() or hold()) and taps this adapter holds, given back on close. */
  private readonly owners = new Set<string>();
  private readonly taps = new Set<number>();
  /** Where each message held by hold() is, and by whom, for move(). */
  private readonly holds = new WeakMap<Delivery, { seq: number; owner: string }>();

  constructor(
    private readonly dataDir: string,
    private readonly declared: Topology | null,
  ) {
    this.inspection = {
      peek: (source, options) => attempt(() => this.open().peek(source, options.limit)),
      tail: (source, options) => translated(this.tail(source, options)),
      list: (pattern) => attempt(() => this.open().list(pattern)),
      describe: (name) => attempt(() => this.open().describe(name)),
    };
    this.topology = {
      plan: (topology) => attempt(() => this.open().plan(topology)),
      apply: (topology) => attempt(() => this.open().apply(topology)),
      export: () => attempt(() => this.open().snapshot()),
    };
    this.deadLetters = {
      hold: (queue, options) => this.hold(queue, options),
      move: (moves) => attempt(() => this.move(moves)),
    };
  }

  /** The store, opened (and the project's topology applied) on first use. */
  private open(): LocalStore {
    if (this.closed) throw new MqError('the local broker connection is closed');
    if (this.store !== null) return this.store;
    let store: LocalStore;
    try {
      store = new LocalStore(openDatabase(this.dataDir), this.dataDir);
    } catch (error) {
      if (error instanceof MqError) throw error;
      throw new ConnectError(
        `cannot open the local broker's database ${this.dataDir}/${DATABASE_FILE}: ${(error as Error).message}`,
        {
          cause: error,
          hint: 'check the directory permissions, or choose another with --broker local:<dir>',
        },
      );
    }
    try {
      // The embedded broker mirrors the project file (DESIGN.md §3).
      if (this.declared !== null) store.apply(this.declared);
    } catch (error) {
      store.close();
      throw error;
    }
    this.store = store;
    return store;
  }

  connect(): Promise<void> {
    return attempt(() => {
      this.open();
    });
  }

  close(): Promise<void> {
    return attempt(() => {
      if (this.closed) return;
      this.closed = true;
      this.closing.abort();
      const store = this.store;
      if (store === null) return;
      try {
        for (const owner of this.owners) store.endConsumer(owner);
        for (const tap of this.taps) store.dropTap(tap);
      } finally {
        this.owners.clear();
        this.taps.clear();
        store.close();
      }
    });
  }

  /** A durable transaction per GROUP_COMMIT messages, yielding between them so Ctrl-C is heard. */
  async publish(
    route: Route,
    messages: readonly OutboundMessage[],
    options: PublishOptions = {},
  ): Promise<PublishReceipt[]> {
    const receipts: PublishReceipt[] = [];
    // Once at least, so that an empty publish still checks the route.
    for (let start = 0; start === 0 || start < messages.length; start += GROUP_COMMIT) {
      if (options.signal?.aborted) break;
      const group = messages.slice(start, start + GROUP_COMMIT);
      try {
        receipts.push(...(await attempt(() => this.open().publish(route, group))));
      } catch (error) {
        if (receipts.length === 0 || !(error instanceof MqError)) throw error;
        throw new PublishStopped(error.message, receipts, { cause: error, hint: error.hint });
      }
      options.onProgress?.(receipts.length);
      if (start + GROUP_COMMIT < messages.length) await setImmediatePromise();
    }
    return receipts;
  }

  consume(source: string, options: ConsumeOptions): AsyncIterable<Delivery> {
    return translated(this.deliveries(source, options));
  }

  /**
   * Leases one message per step, only when the caller asks for the next, so nothing sits leased
   * in a buffer; `prefetch` caps how many it holds unsettled at once.
   */
  private async *deliveries(queue: string, options: ConsumeOptions): AsyncGenerator<Delivery> {
    const store = this.open();
    const signal = AbortSignal.any([options.signal, this.closing.signal]);
    const prefetch = Math.max(1, options.prefetch ?? DEFAULT_PREFETCH);
    const owner = randomUUID();
    store.registerConsumer(owner, queue);
    this.owners.add(owner);
    const unsettled = new Set<number>();
    const renewal = setInterval(() => {
      try {
        store.renew(owner, LEASE_MS);
      } catch {
        // A busy or closed database: the lease may lapse, and settling then says so.
      }
    }, RENEW_EVERY_MS);
    renewal.unref();
    let ended = false;
    let flushing: NodeJS.Immediate | undefined;
    const flushSoon = () => {
      flushing ??= setImmediate(() => {
        flushing = undefined;
        try {
          if (!this.closed) store.flushAcks(owner);
        } catch {
          // A busy database: the acks are written with the next lease or when the consumer ends.
        }
      });
    };
    try {
      while (!signal.aborted) {
        const mark = store.changeMark();
        const leased = unsettled.size < prefetch ? store.lease(queue, owner, LEASE_MS) : null;
        if (leased === null) {
          await this.waitForChange(store, mark, signal);
          continue;
        }
        unsettled.add(leased.seq);
        yield new SettleOnceDelivery(
          leased.message,
          (how) => {
            // Once the consumer has ended its deliveries are back in the queue: release() has
            // nothing left to do, while an ack, retry or dead-letter can no longer happen.
            if (this.closed) {
              if (how === 'release') return;
              throw new MqError('the local broker connection is closed');
            }
            if (ended) {
              if (how === 'release') return;
              throw new MqError(
                `the consumer of ${queue} has ended: message ${leased.message.id} went back to the queue`,
              );
            }
            // An ack is written with the next lease, or soon after if none comes (flushAcks).
            const held =
              how === 'ack' ? store.ack(leased.seq, owner) : store.settle(leased.seq, owner, how);
            unsettled.delete(leased.seq);
            if (held && how === 'ack') flushSoon();
            if (!held && how !== 'release') {
              throw new MqError(`message ${leased.message.id} is no longer held by this consumer`, {
                hint: 'its lease was given back or expired, so it may have been delivered again',
              });
            }
          },
          translate,
        );
      }
    } finally {
      ended = true;
      clearInterval(renewal);
      clearImmediate(flushing);
      this.owners.delete(owner);
      if (!this.closed) store.endConsumer(owner);
    }
  }

  /**
   * Leases the queue's messages one by one, as many as asked and no more than are ready, with no
   * cap on how many stay leased: a redrive keeps skipped ones leased to the end. close() gives
   * back every lease at once, in place.
   */
  private hold(queue: string, options: HoldOptions): Holding {
    const state: HoldState = {
      owner: randomUUID(),
      taken: false,
      ended: false,
      renewal: undefined,
    };
    return {
      [Symbol.asyncIterator]: () => translated(this.takeHeld(queue, options, state)),
      close: () =>
        attempt(() => {
          if (state.ended) return;
          state.ended = true;
          clearInterval(state.renewal);
          if (!this.owners.delete(state.owner) || this.closed) return;
          this.open().endConsumer(state.owner);
        }),
    };
  }

  private async *takeHeld(
    queue: string,
    options: HoldOptions,
    state: HoldState,
  ): AsyncGenerator<Delivery> {
    if (state.taken) throw new MqError(`the hold on ${queue} was already taken`);
    state.taken = true;
    if (state.ended || options.limit <= 0) return;
    const store = this.open();
    const { owner } = state;
    store.registerConsumer(owner, queue);
    this.owners.add(owner);
    state.renewal = setInterval(() => {
      // The adapter's close() gave the leases back without knowing this timer.
      if (this.closed) {
        clearInterval(state.renewal);
        return;
      }
      try {
        store.renew(owner, LEASE_MS);
      } catch {
        // A busy database: the lease may lapse, and moving or settling then says so.
      }
    }, RENEW_EVERY_MS);
    state.renewal.unref();
    const signal = AbortSignal.any([options.signal, this.closing.signal]);
    for (let taken = 0; taken < options.limit && !signal.aborted && !state.ended; taken += 1) {
      const leased = store.lease(queue, owner, LEASE_MS);
      if (leased === null) return;
      const delivery = new SettleOnceDelivery(
        leased.message,
        (how) => {
          if (state.ended || this.closed) {
            if (how === 'release') return;
            throw new MqError(
              `the hold on ${queue} has ended: message ${leased.message.id} went back to the queue`,
            );
          }
          if (!store.settle(leased.seq, owner, how) && how !== 'release') {
            throw new MqError(`message ${leased.message.id} is no longer held`, {
              hint: 'its lease expired, so it may have been taken by someone else',
            });
          }
        },
        translate,
      );
      this.holds.set(delivery, { seq: leased.seq, owner });
      yield delivery;
      // Leasing and settling are synchronous: now and then, let a signal (Ctrl-C) be heard.
      if (taken % HOLD_YIELD_EVERY === HOLD_YIELD_EVERY - 1) await setImmediatePromise();
    }
  }

  /** Each window of moves in one durable transaction: published and removed together. */
  private move(moves: readonly DeadLetterMove[]): PublishReceipt[] {
    if (moves.length === 0) return [];
    const located = moves.map((move) => {
      const held = this.holds.get(move.delivery);
      if (held === undefined) {
        throw new MqError(`message ${move.delivery.message.id} was not taken by hold()`);
      }
      return { ...held, route: move.route, message: move.message };
    });
    return this.open().moveLeased(located);
  }

  /** Waits until the database changes (anyone's commit), at most RECHECK_MS, or the signal aborts. */
  private async waitForChange(store: LocalStore, mark: string, signal: AbortSignal): Promise<void> {
    const until = Date.now() + RECHECK_MS;
    while (Date.now() < until) {
      await pause(POLL_MS, signal);
      if (signal.aborted || store.changeMark() !== mark) return;
    }
  }

  private async *tail(
    queue: string,
    options: { signal: AbortSignal; onReady?: () => void },
  ): AsyncGenerator<InboundMessage> {
    const store = this.open();
    const signal = AbortSignal.any([options.signal, this.closing.signal]);
    const tap = store.createTap(queue);
    this.taps.add(tap);
    try {
      options.onReady?.();
      let maintainedAt = Date.now();
      while (!signal.aborted) {
        const mark = store.changeMark();
        const copies = store.takeFromTap(tap, queue, TAP_BATCH);
        for (const copy of copies) yield copy;
        if (copies.length > 0) continue;
        // Messages that expire into a tailed dead-letter queue show up without anyone consuming.
        if (Date.now() - maintainedAt >= RECHECK_MS) {
          store.maintain();
          maintainedAt = Date.now();
          continue;
        }
        await this.waitForChange(store, mark, signal);
      }
    } finally {
      this.taps.delete(tap);
      if (!this.closed) store.dropTap(tap);
    }
  }
}
