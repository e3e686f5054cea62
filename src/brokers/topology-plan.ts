/** Comparing a declared topology with what the local broker has (`mq topology plan`, apply on open). */
import type { BindingDeclaration, QueueArguments, Topology } from '../config/topology.js';
import { UnsupportedError } from '../errors.js';
import type { TopologyChange } from './types.js';

export interface LiveExchange {
  type: string;
  durable: boolean;
}

/** What the broker has now, looked up one name at a time. */
export interface LiveTopology {
  exchange(name: string): LiveExchange | undefined;
  queueArguments(name: string): QueueArguments | undefined;
  hasBinding(binding: BindingDeclaration): boolean;
}

export function bindingName(binding: BindingDeclaration): string {
  return `${binding.exchange} -> ${binding.queue} (${binding.routingKey})`;
}

/** Declared arguments without unset keys; a queue without a type is a classic queue, as on RabbitMQ. */
function normalise(args: QueueArguments): Record<string, unknown> {
  const set = Object.entries(args).filter(([, value]) => value !== undefined);
  return { 'x-queue-type': 'classic', ...Object.fromEntries(set) };
}

function show(value: unknown): string {
  if (value === undefined) return 'none';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `x-delivery-limit: live 2, declared 4` for each argument that differs, by name. */
export function argumentDifferences(live: QueueArguments, declared: QueueArguments): string[] {
  const a = normalise(live);
  const b = normalise(declared);
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.flatMap((name) =>
    show(a[name]) === show(b[name])
      ? []
      : [`${name}: live ${show(a[name])}, declared ${show(b[name])}`],
  );
}

/**
 * One change per declared exchange, queue and binding, in that order. Kafka topics belong to the
 * log model, which the local broker does not have yet: they are left out.
 */
export function planTopology(topology: Topology, live: LiveTopology): TopologyChange[] {
  const changes: TopologyChange[] = [];
  const declaredExchanges = new Set<string>();
  for (const exchange of topology.exchanges) {
    if (exchange.type === 'headers') {
      throw new UnsupportedError(
        `the local broker has no headers exchanges ("${exchange.name}" is one)`,
        { hint: 'use a topic, direct or fanout exchange, or a RabbitMQ broker' },
      );
    }
    declaredExchanges.add(exchange.name);
    const found = live.exchange(exchange.name);
    const differences = found
      ? [
          ...(found.type === exchange.type
            ? []
            : [`type: live ${found.type}, declared ${exchange.type}`]),
          ...(found.durable === exchange.durable
            ? []
            : [`durable: live ${found.durable}, declared ${exchange.durable}`]),
        ]
      : [];
    changes.push(change('exchange', exchange.name, found === undefined, differences));
  }
  const declaredQueues = new Set<string>();
  for (const queue of topology.queues) {
    declaredQueues.add(queue.name);
    const found = live.queueArguments(queue.name);
    const differences = found ? argumentDifferences(found, queue.arguments) : [];
    changes.push(change('queue', queue.name, found === undefined, differences));
  }
  for (const binding of topology.bindings) {
    const missing = [
      ...(declaredExchanges.has(binding.exchange) || live.exchange(binding.exchange)
        ? []
        : [`exchange "${binding.exchange}" does not exist`]),
      ...(declaredQueues.has(binding.queue) || live.queueArguments(binding.queue)
        ? []
        : [`queue "${binding.queue}" does not exist`]),
    ];
    changes.push(change('binding', bindingName(binding), !live.hasBinding(binding), missing));
  }
  return changes;
}

/** One line of a plan: a conflict when there are problems, else create or unchanged. */
export function change(
  kind: TopologyChange['kind'],
  name: string,
  absent: boolean,
  problems: string[],
): TopologyChange {
  if (problems.length > 0) return { action: 'conflict', kind, name, detail: problems.join('; ') };
  return { action: absent ? 'create' : 'unchanged', kind, name, detail: null };
}

/** The refusal's one line: each conflict with what differs. */
export function describeConflicts(conflicts: readonly TopologyChange[]): string {
  return conflicts
    .map((conflict) =>
      conflict.kind === 'binding'
        ? `binding ${conflict.name}: ${conflict.detail}`
        : `${conflict.kind} "${conflict.name}" already exists with different settings: ${conflict.detail}`,
    )
    .join('; ');
}
