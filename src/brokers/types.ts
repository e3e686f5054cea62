/**
 * The broker contract. Every adapter (local, RabbitMQ, Kafka) implements it and the same contract
 * suite (`test/contract/`) runs against each. Adapters move bytes: they never print, prompt or exit,
 * and their driver types (amqplib, kafkajs, better-sqlite3) never leave their folder.
 *
 * Meaning per broker is stated on each member. A capability that only some brokers have is an
 * optional member, so the type checker makes a command check for it (`requireCapability`).
 */
import { PartialError, UnsupportedError, type MqErrorOptions } from '../errors.js';
import type { TopologySnapshot } from '../config/topology-export.js';
import type { Topology } from '../config/topology.js';
import type { BrokerKind, DeathRecord, TypedHeader } from '../message/envelope.js';

/**
 * A header value as the driver gives it. AMQP: amqplib's decoded field values (typed ones in
 * `{ '!': type, value }` form, byte arrays as bytes, nested tables). Kafka: bytes, arrays for
 * repeated keys.
 */
export type HeaderValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | TypedHeader
  | HeaderValue[]
  | { [key: string]: HeaderValue };

export type Headers = Record<string, HeaderValue>;

/** AMQP basic properties mq sets or reads. Absent on Kafka. */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  type?: string;
  appId?: string;
  userId?: string;
  priority?: number;
  /** 2 = persistent. mq publishes persistent messages unless told otherwise. */
  deliveryMode?: number;
  /** Milliseconds since the epoch. */
  timestamp?: number;
}

export interface OutboundMessage {
  /** Exact bytes; never re-serialised. */
  body: Uint8Array;
  /** Kafka record key. */
  key?: Uint8Array;
  headers?: Headers;
  properties?: MessageProperties;
}

/** Where a publish goes. AMQP: exchange + routing key (mandatory always). Kafka: topic, optional partition. */
export type Route =
  | { kind: 'exchange'; exchange: string; routingKey: string }
  | { kind: 'queue'; queue: string }
  | { kind: 'topic'; topic: string; partition?: number };

export interface PublishReceipt {
  /** The message id mq set or the caller gave. */
  messageId: string;
  /** Confirmed by the broker and routed to at least one queue (AMQP), or acknowledged by all in-sync replicas (Kafka). */
  status: 'confirmed' | 'unroutable' | 'unconfirmed';
  /** Milliseconds from send to confirm. */
  confirmLatencyMs: number | null;
  /** Kafka position of the written record. */
  partition?: number;
  offset?: string;
}

export interface PublishOptions {
  signal?: AbortSignal;
  /** Called as the broker settles messages, with how many are settled so far (for a progress bar). */
  onProgress?: (settled: number) => void;
}

/**
 * The broker went away (or refused the rest) part-way through a publish: `receipts` covers the
 * messages written before that, in order, so the caller can say which were confirmed, which may
 * or may not have arrived, and which were never sent.
 */
export class PublishStopped extends PartialError {
  constructor(
    message: string,
    readonly receipts: PublishReceipt[],
    options?: MqErrorOptions,
  ) {
    super(message, options);
  }
}

export interface InboundMessage extends OutboundMessage {
  /** DESIGN.md §4: message_id, else a content hash; Kafka `topic/partition/offset`; local the message id. */
  id: string;
  /** The queue or topic it was read from. */
  source: string;
  exchange: string | null;
  routingKey: string | null;
  partition: number | null;
  offset: string | null;
  /** When the broker or publisher stamped it, ms since the epoch; null if nobody did. */
  timestamp: number | null;
  redelivered: boolean;
  /** Returns so far; null where the broker keeps no count (classic queues). */
  deliveryCount: number | null;
  death: DeathRecord | null;
}

/** A received message plus the means to settle it. Settle exactly once; every method is awaited. */
export interface Delivery {
  readonly message: InboundMessage;
  /** Done. RabbitMQ: basic.ack. Kafka: mark settled; the committed offset per partition is the
   *  highest contiguous settled offset + 1. Local: delete. */
  ack(): Promise<void>;
  /** Give up on it. RabbitMQ: reject(requeue=false), to the dead-letter exchange. Kafka: produce to
   *  the DLQ topic, then mark settled. Local: move to the dead-letter queue with a death record. */
  deadLetter(): Promise<void>;
  /** Return for another attempt; counts a delivery (RabbitMQ: reject(requeue=true); Kafka: seek back;
   *  Local: count, and dead-letter past `maxDeliveries`). */
  retry(): Promise<void>;
  /** Return untouched; does not count where the broker allows (RabbitMQ nack(requeue), which counts
   *  on quorum queues before 4.3; Kafka: seek back; Local: unlease). Once the consumer has ended
   *  (loop left, signal aborted, adapter closed) its unsettled deliveries are already returned:
   *  release() then does nothing, while ack(), retry() and deadLetter() reject. */
  release(): Promise<void>;
}

export interface ConsumeOptions {
  signal: AbortSignal;
  /** Unsettled deliveries in flight at once. */
  prefetch?: number;
  /** Kafka consumer group; required to commit. */
  group?: string;
  /** Kafka: how long the group waits for a silent member before giving its partitions away. */
  sessionTimeoutMs?: number;
}

export interface PeekOptions {
  limit: number;
  /** Browse even where it spends a delivery (DESIGN.md §5.1). */
  force?: boolean;
  signal?: AbortSignal;
  /** Logs only: one partition instead of all. */
  partition?: number;
}

/** Where a read of a log starts (`mq tail --from`); queues have no positions. */
export type LogPosition =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: string }
  /** The first record at or after this time (ms since the epoch), per partition. */
  | { kind: 'time'; timestamp: number };

export interface TailOptions {
  signal: AbortSignal;
  onReady?: () => void;
  /** Called when copies were dropped because the reader fell too far behind (RabbitMQ's tap
   *  holds 10,000), with the number dropped so far. The target queue keeps its messages. */
  onDropped?: (dropped: number) => void;
  /** Logs only: where to start (default: the end, so only new records). */
  from?: LogPosition;
  /** Logs only: one partition instead of all. */
  partition?: number;
}

/** One partition of a log, as `mq describe` shows it. */
export interface PartitionInfo {
  partition: number;
  /** Broker id of the leader, null when the partition has none. */
  leader: number | null;
  /** The first offset still kept (int64 as a decimal string). */
  earliestOffset: string;
  /** The offset the next record will get. */
  endOffset: string;
}

export interface QueueInfo {
  name: string;
  kind: 'queue' | 'topic';
  type: 'classic' | 'quorum' | 'stream' | 'log' | null;
  /** Messages waiting to be delivered. */
  ready: number | null;
  /** Delivered and not yet settled. */
  unacked: number | null;
  consumers: number | null;
  /** Where this queue's dead letters go: the exchange, and the queue it routes them to when known. */
  deadLetterExchange: string | null;
  deadLetterQueue: string | null;
  /** Deliveries before a message is dead-lettered (RabbitMQ x-delivery-limit + 1), null when unlimited. */
  maxDeliveries: number | null;
  messageTtlMs: number | null;
  /** Null when they cannot be known (RabbitMQ without its management API); then the dead-letter
   *  and limit settings, null too, are unknown rather than absent. */
  bindings: { exchange: string; routingKey: string }[] | null;
  /** True when the figures come from a sampling API (RabbitMQ management) rather than an exact declare. */
  sampled: boolean;
  /** Logs only (absent on queues): each partition with its offsets. */
  partitions?: PartitionInfo[];
  /** Logs only (absent on queues): the topic's configuration that differs from the broker's defaults. */
  configs?: Record<string, string>;
}

/** The `--json` fields of `mq ls` and `mq describe`, in order: public API. */
export const QUEUE_INFO_FIELDS = [
  'name',
  'kind',
  'type',
  'ready',
  'unacked',
  'consumers',
  'deadLetterExchange',
  'deadLetterQueue',
  'maxDeliveries',
  'messageTtlMs',
  'bindings',
  'sampled',
  'partitions',
  'configs',
] as const satisfies readonly (keyof QueueInfo)[];

/** Reading without removing: peek, tail, ls, describe and expect. None of these removes a message or spends a delivery. */
export interface Inspection {
  /** The first `limit` ready messages of a queue (the last N of a log), each left untouched.
   *  Where a browse would spend a delivery (DESIGN.md §5.1: RabbitMQ quorum queues before 4.3)
   *  it is a `RefusedError` unless `force`. */
  peek(source: string, options: PeekOptions): Promise<InboundMessage[]>;
  /**
   * Messages routed to `source` from now on, copied to a tap, so the queue keeps them (RabbitMQ: a
   * temporary exclusive queue bound like the target; local: a tap the broker fills on publish;
   * Kafka: an ephemeral consumer group that commits nothing, from `options.from`). Calls `onReady`
   * once the tap is in place. Yields until the signal aborts.
   */
  tail(source: string, options: TailOptions): AsyncIterable<InboundMessage>;
  /** Queues (and topics) whose names match a glob (`*`, `?`), sorted by name. */
  list(pattern?: string): Promise<QueueInfo[]>;
  /** One queue or topic; a missing one is a `NotFoundError` with a "did you mean" hint. */
  describe(name: string): Promise<QueueInfo>;
}

/** A difference between the declared and the live topology. */
export interface TopologyChange {
  action: 'create' | 'unchanged' | 'conflict';
  kind: 'exchange' | 'queue' | 'binding' | 'topic';
  name: string;
  /** For a conflict: the arguments that differ, e.g. `x-queue-type: live classic, declared quorum`. */
  detail: string | null;
}

/** Declaring what a project file describes (`mq topology plan|apply`). */
export interface TopologyManagement {
  /** What `apply` would do; changes nothing. */
  plan(topology: Topology): Promise<TopologyChange[]>;
  /** Creates what is missing, idempotently. A conflict changes nothing and is a `RefusedError` naming it. */
  apply(topology: Topology): Promise<TopologyChange[]>;
  /** What the broker holds now, for `mq topology export`: its built-in objects left in. */
  export(): Promise<TopologySnapshot>;
  /**
   * Deletes the queues and exchanges of `topology`, messages and all, where the broker can
   * (`mq bench`'s own, never a project's); what is already gone is no error.
   */
  remove?(topology: Topology): Promise<void>;
}

export interface HoldOptions {
  signal: AbortSignal;
  /** Hold at most this many: the queue's depth when the run started, so later arrivals stay. */
  limit: number;
  /** Messages delivered ahead of the caller (RabbitMQ's prefetch). Messages the caller holds on to
   *  unsettled never use it up: the window slides past them. */
  window: number;
}

/** One move of a held dead letter: published to `route` as `message`, removed from its queue. */
export interface DeadLetterMove {
  delivery: Delivery;
  route: Route;
  message: OutboundMessage;
}

/**
 * Messages held off a queue: iterate to take them, settle each (`ack()` removes it); `close()`
 * returns every one still unsettled to its place, in order, and must always be called. The
 * iteration ending (the limit reached, the queue run out, the signal) does not return anything:
 * until `close()`, a held message can still be settled, so a caller may publish its last window
 * after the loop.
 */
export interface Holding extends AsyncIterable<Delivery> {
  /** Idempotent. Stops taking, then gives back what is unsettled; settling afterwards rejects
   *  (release() does nothing). */
  close(): Promise<void>;
}

/** Taking messages off a queue in bulk, for `mq dlq redrive` and `mq dlq purge` (DESIGN.md §7). */
export interface DeadLetterHandling {
  /**
   * The first `limit` messages of `queue`, in order, each held until settled or until the
   * holding is closed. The iteration ends early when the queue runs out (another consumer took
   * some) or the signal aborts.
   */
  hold(queue: string, options: HoldOptions): Holding;
  /**
   * Publishes and removes held messages together, exactly once (local: one transaction for all of
   * them). Where a broker cannot (RabbitMQ), this is absent, and a move is a confirmed publish,
   * then `ack()`. An unroutable message is not removed.
   */
  move?(moves: readonly DeadLetterMove[]): Promise<PublishReceipt[]>;
}

/** A member of a consumer group, as its coordinator knows it. */
export interface GroupMember {
  clientId: string;
  /** Where the member connects from, as the broker sees it (`/10.0.0.7`). */
  host: string;
}

/** A consumer group's committed position in one partition. */
export interface GroupOffset {
  topic: string;
  partition: number;
  /** The committed offset: the next record the group reads (int64 as a decimal string). */
  committed: string;
  /** The partition's end offset; null when the topic no longer exists. */
  end: string | null;
  /** Records the group has still to read (end − committed); null when the end is unknown. */
  lag: number | null;
}

/** One consumer group, as `mq groups` shows it. */
export interface GroupInfo {
  group: string;
  /** Kafka's group state: Empty, Stable, PreparingRebalance, CompletingRebalance or Dead. */
  state: string;
  /** One of mq's throwaway read groups (DESIGN.md §5.2), hidden unless asked for. */
  ephemeral: boolean;
  members: GroupMember[];
  /** Each partition the group has committed an offset in, by topic, then partition. */
  offsets: GroupOffset[];
  /** The sum of the known lags; null when none is known. */
  totalLag: number | null;
}

/** The `--json` fields of `mq groups`, in order: public API. */
export const GROUP_INFO_FIELDS = [
  'group',
  'state',
  'ephemeral',
  'members',
  'offsets',
  'totalLag',
] as const satisfies readonly (keyof GroupInfo)[];

/** One partition of an offset reset: where the group was and where it is (or would be) now. */
export interface PartitionReset {
  partition: number;
  /** Committed before the reset; null when the group had never committed in this partition. */
  oldOffset: string | null;
  /** The offset committed by the reset, or that would be on a dry run. */
  newOffset: string;
  /** The first offset the partition keeps, and the one its next record gets. */
  earliestOffset: string;
  endOffset: string;
  /** The position asked for lay outside [earliest, end] and was moved to the nearer bound. */
  clamped: boolean;
}

/** What `mq offsets reset` did, or would do without `execute`. */
export interface OffsetResetResult {
  group: string;
  topic: string;
  /** False on a dry run: nothing was changed. */
  executed: boolean;
  partitions: PartitionReset[];
}

/** The `--json` fields of `mq offsets reset`, in order: public API. */
export const OFFSET_RESET_FIELDS = [
  'group',
  'topic',
  'executed',
  'partitions',
] as const satisfies readonly (keyof OffsetResetResult)[];

/** Consumer groups of a log (Kafka): their positions, and moving them for a replay. */
export interface ConsumerGroups {
  /** Groups whose ids match a glob (`*`, `?`), sorted by id, each with its committed offsets and lag. */
  list(pattern?: string): Promise<GroupInfo[]>;
  /**
   * Moves `group` in every partition of `topic` to `to`: `beginning` is the first offset kept,
   * `end` the end (skip everything), an offset is clamped into each partition's range, a time is
   * the first record at or after it (the end when there is none). Changes nothing unless
   * `execute`. A group with members, or whose membership cannot be told, is a `RefusedError`,
   * dry run or not; a group that never committed may be reset (that is how a new one is placed).
   * A missing topic is a `NotFoundError`.
   */
  resetOffsets(
    group: string,
    topic: string,
    to: LogPosition,
    options: { execute: boolean },
  ): Promise<OffsetResetResult>;
}

export interface BrokerAdapter {
  readonly kind: BrokerKind;
  /** Where several places to connect to were given (a RabbitMQ cluster's nodes, tried in order):
   *  the one that answered, redacted, with those passed over and why. Null or absent otherwise. */
  readonly connectedTo?: string | null;
  /** Connects, bounded by the connect timeout; a failure is a `ConnectError`. */
  connect(): Promise<void>;
  /** Idempotent. Waits for unconfirmed publishes, then releases sockets and files. */
  close(): Promise<void>;
  /** Resolves only after the broker confirms or refuses every message (confirm channel with
   *  mandatory, Kafka acks=-1, a durable SQLite commit). One receipt per message written, in order:
   *  all of them, unless `options.signal` aborts first. Rejects with `PublishStopped` when the
   *  broker goes away after some were written. */
  publish(
    route: Route,
    messages: readonly OutboundMessage[],
    options?: PublishOptions,
  ): Promise<PublishReceipt[]>;
  /** Deliveries until `options.signal` aborts; leaving the `for await` loop early stops the consumer
   *  and releases what was not settled. */
  consume(source: string, options: ConsumeOptions): AsyncIterable<Delivery>;
  readonly inspection?: Inspection;
  readonly topology?: TopologyManagement;
  readonly deadLetters?: DeadLetterHandling;
  readonly consumerGroups?: ConsumerGroups;
}

/** A typed capability check instead of stubs that throw "not implemented". */
export function requireCapability<K extends 'inspection' | 'topology' | 'deadLetters'>(
  broker: BrokerAdapter,
  capability: K,
): NonNullable<BrokerAdapter[K]> {
  const found = broker[capability];
  if (!found) throw new UnsupportedError(`the ${broker.kind} broker cannot do ${capability}`);
  return found;
}
