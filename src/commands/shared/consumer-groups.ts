import type { BrokerAdapter, ConsumerGroups } from '../../brokers/types.js';
import { UsageError } from '../../errors.js';

/**
 * The broker's consumer groups, for `mq groups` and `mq offsets`. Queues have none: asking a
 * RabbitMQ or local broker is a usage error (exit 2), since no other broker choice was meant.
 */
export function requireConsumerGroups(broker: BrokerAdapter, command: string): ConsumerGroups {
  if (broker.consumerGroups) return broker.consumerGroups;
  throw new UsageError(
    `the ${broker.kind} broker has no consumer groups: ${command} works on Kafka only`,
    { hint: 'choose a Kafka broker with --broker kafka://host:9092 or --context <name>' },
  );
}
