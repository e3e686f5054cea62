import type { TopologySnapshot } from '../../config/topology-export.js';
import { topicMatches } from '../../brokers/matching.js';

/**
 * The queues a message published to `exchange` with `routingKey` reaches, by the live bindings, so
 * that `--via-exchange` can name every queue that will get a copy. Null when the snapshot cannot
 * tell: an exchange it does not hold, a headers or plugin exchange, or a binding to another
 * exchange (which would need that exchange's bindings followed, with their arguments).
 */
export function queuesReached(
  snapshot: TopologySnapshot,
  exchange: string,
  routingKey: string,
): string[] | null {
  if (exchange === '') {
    return snapshot.queues.some((queue) => queue.name === routingKey) ? [routingKey] : [];
  }
  const type = snapshot.exchanges.find((candidate) => candidate.name === exchange)?.type;
  const matches =
    type === 'fanout'
      ? () => true
      : type === 'direct'
        ? (bindingKey: string) => bindingKey === routingKey
        : type === 'topic'
          ? (bindingKey: string) => topicMatches(bindingKey, routingKey)
          : null;
  if (matches === null) return null;
  const bindings = snapshot.bindings.filter(
    (binding) => binding.exchange === exchange && matches(binding.routingKey),
  );
  if (bindings.some((binding) => binding.destinationType === 'exchange')) return null;
  return [...new Set(bindings.map((binding) => binding.destination))].sort();
}
