/**
 * `mq topology export`: a broker's live topology written back as a project file. This is
 * `desiredTopology` run backwards, so that applying the file it writes to the same broker changes
 * nothing: the `<exchange>.dlx` exchanges, the classic DLQs and their bindings that DESIGN.md §3's
 * wiring derives are folded back into `deadLetterQueue`, `x-delivery-limit` into `maxDeliveries`,
 * and a dead-letter topic like its topic into `deadLetterTopic`. What a project file cannot say is
 * left out with a warning naming it, never dropped without a word.
 */
import type { ExchangeDecl, ExchangeType, QueueDecl, TopicDecl } from './project-file.js';
import { deadLetterExchangeFor, type TopicDeclaration } from './topology.js';

export interface LiveExchange {
  name: string;
  /** As the broker names it: plugin types such as `x-delayed-message` included. */
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface LiveQueue {
  name: string;
  /** Every argument the broker holds, `x-queue-type` included (absent means classic). */
  arguments: Record<string, unknown>;
  durable: boolean;
  /** Owned by one connection (a `tail` tap, a reply queue): gone when it closes. */
  exclusive: boolean;
  autoDelete: boolean;
  /** What a policy sets on the queue, by the policy's key names: not the project file's to say. */
  policy: Record<string, unknown>;
}

export interface LiveBinding {
  /** '' for the default exchange, which binds every queue by its name. */
  exchange: string;
  destination: string;
  destinationType: 'queue' | 'exchange';
  routingKey: string;
  arguments: Record<string, unknown>;
}

/** What a broker holds, as `TopologyManagement.export()` reads it. */
export interface TopologySnapshot {
  exchanges: LiveExchange[];
  queues: LiveQueue[];
  bindings: LiveBinding[];
  /** With `retentionMs` null where the topic inherits the broker's retention. */
  topics: TopicDeclaration[];
}

/** A project file's topology part, in the key order `mq.config.json` uses. */
export interface ExportedProject {
  exchanges: ExchangeDecl[];
  queues: QueueDecl[];
  topics: TopicDecl[];
  events: Record<string, never>;
}

export interface TopologyExport {
  project: ExportedProject;
  /** One line each for what the file cannot say, naming it. */
  warnings: string[];
}

const EXCHANGE_TYPES: ReadonlySet<string> = new Set<ExchangeType>([
  'topic',
  'direct',
  'fanout',
  'headers',
]);

/** The queue arguments a project file can say, each by the field that stands for it. */
const REPRESENTED_ARGUMENTS: ReadonlySet<string> = new Set([
  'x-queue-type',
  'x-delivery-limit',
  'x-message-ttl',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
]);

/** Accepted and ignored by RabbitMQ (DESIGN.md §3): nothing is lost by leaving it out. */
const IGNORED_ARGUMENTS: ReadonlySet<string> = new Set(['x-max-retries']);

const isBuiltInExchange = (name: string) => name === '' || name.startsWith('amq.');

const RETENTION_UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `604800000` as `7d`: the largest unit that says it exactly. */
export function retentionText(ms: number): string {
  const unit = RETENTION_UNITS.find(([, size]) => ms > 0 && ms % size === 0);
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
}

interface DeadLetterPair {
  queue: LiveQueue;
  exchange: string;
  deadLetterQueue: string;
}

export function exportTopology(snapshot: TopologySnapshot): TopologyExport {
  const warnings: string[] = [];
  const exchanges = new Map(
    snapshot.exchanges.filter((e) => !isBuiltInExchange(e.name)).map((e) => [e.name, e]),
  );
  const queues = new Map(snapshot.queues.map((q) => [q.name, q]));

  const exclusive = snapshot.queues.filter((q) => q.exclusive).map((q) => q.name);
  if (exclusive.length > 0) {
    warnings.push(
      `left out ${exclusive.length} exclusive queue(s) that belong to one connection: ${exclusive.join(', ')}`,
    );
  }
  for (const queue of snapshot.queues) {
    if (queue.exclusive) {
      queues.delete(queue.name);
    } else if (!['classic', 'quorum'].includes(queueType(queue))) {
      warnings.push(
        `queue "${queue.name}" is a ${queueType(queue)} queue, which mq.config.json cannot declare; left out`,
      );
      queues.delete(queue.name);
    }
  }
  for (const exchange of exchanges.values()) {
    if (!EXCHANGE_TYPES.has(exchange.type)) {
      warnings.push(
        `exchange "${exchange.name}" is of type ${exchange.type}, which mq.config.json cannot declare; left out with its bindings`,
      );
      exchanges.delete(exchange.name);
    }
  }

  const bindings = usableBindings(snapshot.bindings, exchanges, queues, warnings);
  const pairs = deadLetterPairs(queues, exchanges, bindings, warnings);
  const derivedBinding = (b: LiveBinding) =>
    pairs.some((p) => p.exchange === b.exchange && p.deadLetterQueue === b.destination) &&
    b.routingKey === b.destination;
  const derivedExchanges = new Set(
    pairs
      .map((p) => exchanges.get(p.exchange)!)
      .filter((e) => isPlainDeadLetterExchange(e, bindings, derivedBinding))
      .map((e) => e.name),
  );
  const derivedQueues = new Set(
    pairs
      .map((p) => queues.get(p.deadLetterQueue)!)
      .filter((q) => isPlainDeadLetterQueue(q, bindings, derivedBinding))
      .map((q) => q.name),
  );

  const project: ExportedProject = {
    exchanges: [...exchanges.values()]
      .filter((e) => !derivedExchanges.has(e.name))
      .map((e) => exchangeDecl(e, warnings)),
    queues: [...queues.values()]
      .filter((q) => !derivedQueues.has(q.name))
      .map((q) =>
        queueDecl(
          q,
          pairs.find((p) => p.queue === q),
          bindings.filter((b) => b.destination === q.name && !derivedBinding(b)),
          warnings,
        ),
      ),
    topics: topicDecls(snapshot.topics, warnings),
    events: {},
  };
  return { project, warnings };
}

function queueType(queue: LiveQueue): string {
  const type = queue.arguments['x-queue-type'];
  return typeof type === 'string' ? type : 'classic';
}

/** Queue bindings from exchanges the file declares (or every vhost has), without arguments. */
function usableBindings(
  live: readonly LiveBinding[],
  exchanges: ReadonlyMap<string, LiveExchange>,
  queues: ReadonlyMap<string, LiveQueue>,
  warnings: string[],
): LiveBinding[] {
  const usable: LiveBinding[] = [];
  for (const binding of live) {
    const name = `${binding.exchange} -> ${binding.destination} (${binding.routingKey})`;
    const knownSource = exchanges.has(binding.exchange) || binding.exchange.startsWith('amq.');
    if (binding.exchange === '' || !knownSource) continue;
    if (binding.destinationType === 'exchange') {
      warnings.push(
        `binding ${name} binds an exchange to an exchange, which mq.config.json cannot declare; left out`,
      );
    } else if (Object.keys(binding.arguments).length > 0) {
      warnings.push(
        `binding ${name} has arguments (${Object.keys(binding.arguments).join(', ')}), which mq.config.json cannot declare; left out`,
      );
    } else if (queues.has(binding.destination)) {
      usable.push(binding);
    }
  }
  return usable;
}

/**
 * The queues whose dead-lettering is DESIGN.md §3's wiring: `x-dead-letter-exchange` is
 * `<exchange>.dlx` for one of the queue's own exchanges (itself when unbound), a durable direct
 * exchange routing the `x-dead-letter-routing-key` to a classic queue of that name.
 */
function deadLetterPairs(
  queues: ReadonlyMap<string, LiveQueue>,
  exchanges: ReadonlyMap<string, LiveExchange>,
  bindings: readonly LiveBinding[],
  warnings: string[],
): DeadLetterPair[] {
  // A DLQ's binding from the dead-letter exchange is derived, not one of its own (a DLQ may have
  // a DLQ of its own, named after its own first binding).
  const deadLetterBinding = (b: LiveBinding) =>
    b.routingKey === b.destination &&
    [...queues.values()].some(
      (other) =>
        other.arguments['x-dead-letter-exchange'] === b.exchange &&
        other.arguments['x-dead-letter-routing-key'] === b.destination,
    );
  const pairs: DeadLetterPair[] = [];
  for (const queue of queues.values()) {
    const exchange = queue.arguments['x-dead-letter-exchange'];
    const routingKey = queue.arguments['x-dead-letter-routing-key'];
    if (exchange === undefined && routingKey === undefined) continue;
    const own = bindings
      .filter((b) => b.destination === queue.name && !deadLetterBinding(b))
      .map((b) => b.exchange);
    const sources = own.length > 0 ? own : [queue.name];
    const dlx = typeof exchange === 'string' ? exchanges.get(exchange) : undefined;
    const dlq = typeof routingKey === 'string' ? queues.get(routingKey) : undefined;
    const wired =
      dlx !== undefined &&
      dlq !== undefined &&
      dlq !== queue &&
      sources.some((source) => deadLetterExchangeFor(source) === dlx.name) &&
      dlx.type === 'direct' &&
      dlx.durable &&
      queueType(dlq) === 'classic' &&
      bindings.some(
        (b) => b.exchange === dlx.name && b.destination === dlq.name && b.routingKey === dlq.name,
      );
    if (wired) {
      pairs.push({ queue, exchange: dlx.name, deadLetterQueue: dlq.name });
    } else {
      warnings.push(
        `queue "${queue.name}" dead-letters to exchange ${JSON.stringify(exchange ?? '')} with routing key ${JSON.stringify(routingKey ?? null)}, ` +
          `which is not the wiring mq.config.json declares (a direct <exchange>.dlx routing <dlq> to a classic <dlq>); its deadLetterQueue is left out`,
      );
    }
  }
  return pairs;
}

/** A dead-letter exchange the file derives whole: direct, durable, routing only to its DLQs. */
function isPlainDeadLetterExchange(
  exchange: LiveExchange,
  bindings: readonly LiveBinding[],
  derivedBinding: (b: LiveBinding) => boolean,
): boolean {
  return (
    !exchange.autoDelete &&
    !exchange.internal &&
    Object.keys(exchange.arguments).length === 0 &&
    bindings.filter((b) => b.exchange === exchange.name).every(derivedBinding)
  );
}

/** A DLQ the file derives whole: a plain durable classic queue bound only by its dead-letter exchange. */
function isPlainDeadLetterQueue(
  queue: LiveQueue,
  bindings: readonly LiveBinding[],
  derivedBinding: (b: LiveBinding) => boolean,
): boolean {
  const extraArguments = Object.keys(queue.arguments).filter((name) => name !== 'x-queue-type');
  return (
    queue.durable &&
    !queue.autoDelete &&
    extraArguments.length === 0 &&
    bindings.filter((b) => b.destination === queue.name).every(derivedBinding)
  );
}

function exchangeDecl(exchange: LiveExchange, warnings: string[]): ExchangeDecl {
  const unsaid = [
    ...(exchange.autoDelete ? ['auto-delete'] : []),
    ...(exchange.internal ? ['internal'] : []),
    ...Object.keys(exchange.arguments),
  ];
  if (unsaid.length > 0) {
    warnings.push(
      `exchange "${exchange.name}": ${unsaid.join(', ')} cannot be declared in mq.config.json; left out`,
    );
  }
  return {
    name: exchange.name,
    type: exchange.type as ExchangeType,
    ...(exchange.durable ? {} : { durable: false }),
  };
}

function queueDecl(
  queue: LiveQueue,
  pair: DeadLetterPair | undefined,
  bindings: readonly LiveBinding[],
  warnings: string[],
): QueueDecl {
  const args = queue.arguments;
  const type = queueType(queue) as 'classic' | 'quorum';
  // desiredTopology names the DLX after the first binding's exchange: that binding goes first.
  const first = pair
    ? bindings.findIndex((b) => deadLetterExchangeFor(b.exchange) === pair.exchange)
    : -1;
  const ordered =
    first > 0 ? [bindings[first]!, ...bindings.filter((_, index) => index !== first)] : bindings;
  const deliveryLimit = args['x-delivery-limit'];
  const ttl = args['x-message-ttl'];
  const policyKeys = Object.keys(queue.policy);
  if (policyKeys.length > 0) {
    warnings.push(
      `queue "${queue.name}": a policy sets ${policyKeys.join(', ')}; policies are not part of mq.config.json (rabbitmqctl list_policies shows them)`,
    );
  }
  const unsaid = [
    ...(queue.durable ? [] : ['non-durable']),
    ...(queue.autoDelete ? ['auto-delete'] : []),
    ...Object.keys(args).filter(
      (name) => !REPRESENTED_ARGUMENTS.has(name) && !IGNORED_ARGUMENTS.has(name),
    ),
    ...(deliveryLimit !== undefined && (type !== 'quorum' || !isCount(deliveryLimit))
      ? [`x-delivery-limit ${JSON.stringify(deliveryLimit)}`]
      : []),
    ...(ttl !== undefined && !isCount(ttl) ? [`x-message-ttl ${JSON.stringify(ttl)}`] : []),
  ];
  if (unsaid.length > 0) {
    warnings.push(
      `queue "${queue.name}": ${unsaid.join(', ')} cannot be declared in mq.config.json; left out (topology plan will show the difference)`,
    );
  }
  return {
    name: queue.name,
    type,
    ...(ordered.length > 0
      ? {
          bindings: ordered.map((b) => ({
            exchange: b.exchange,
            ...(b.routingKey === '' ? {} : { pattern: b.routingKey }),
          })),
        }
      : {}),
    ...(type === 'quorum' && isCount(deliveryLimit) ? { maxDeliveries: deliveryLimit + 1 } : {}),
    ...(isCount(ttl) ? { messageTtl: ttl } : {}),
    ...(pair ? { deadLetterQueue: pair.deadLetterQueue } : {}),
  };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * Topics, each dead-letter topic folded into its topic's `deadLetterTopic` when desiredTopology
 * would derive it as it is (the topic's partitions and retention), declared itself otherwise.
 */
function topicDecls(topics: readonly TopicDeclaration[], warnings: string[]): TopicDecl[] {
  const byName = new Map(topics.map((t) => [t.name, t]));
  const derived = new Set(
    topics.flatMap((topic) => {
      const dlt = topic.deadLetterTopic === null ? undefined : byName.get(topic.deadLetterTopic);
      const same =
        dlt !== undefined &&
        dlt.partitions === topic.partitions &&
        dlt.retentionMs === topic.retentionMs &&
        dlt.deadLetterTopic === null;
      return same ? [dlt.name] : [];
    }),
  );
  return topics
    .filter((topic) => !derived.has(topic.name))
    .map((topic) => {
      const forever = topic.retentionMs !== null && topic.retentionMs < 0;
      if (forever) {
        warnings.push(
          `topic "${topic.name}" keeps records forever (retention.ms ${topic.retentionMs}), which mq.config.json cannot declare; its retention is left out`,
        );
      }
      return {
        name: topic.name,
        partitions: topic.partitions,
        ...(topic.retentionMs === null || forever
          ? {}
          : { retention: retentionText(topic.retentionMs) }),
        ...(topic.deadLetterTopic !== null && byName.has(topic.deadLetterTopic)
          ? { deadLetterTopic: topic.deadLetterTopic }
          : {}),
      };
    });
}
