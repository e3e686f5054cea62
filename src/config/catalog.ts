import { UsageError } from '../errors.js';
import type { Route } from '../brokers/types.js';
import type { BrokerKind } from '../message/envelope.js';
import type { EventDecl, ProjectFile } from './project-file.js';

/** Route flags of `mq publish`; each applies to one family of brokers. */
export interface RouteFlags {
  exchange?: string;
  routingKey?: string;
  topic?: string;
  partition?: number;
}

export interface PublishTarget {
  route: Route;
  /** The catalog entry, when the event is in the project file. */
  event: EventDecl | null;
  /** Said on stderr: the event is missing from an existing catalog. */
  warning: string | null;
}

export const DEFAULT_EXCHANGE = 'amq.topic';

/**
 * Where `mq publish <event>` sends (DESIGN.md §3): flags > the catalog entry > defaults (AMQP: exchange
 * `amq.topic`, routing key = event name; Kafka: a topic named after the event).
 */
export function resolvePublishTarget(
  eventName: string,
  flags: RouteFlags,
  project: ProjectFile | null,
  broker: BrokerKind,
): PublishTarget {
  const logBroker = broker === 'kafka';
  const misplaced = logBroker
    ? (['exchange', 'routingKey'] as const).filter((flag) => flags[flag] !== undefined)
    : (['topic', 'partition'] as const).filter((flag) => flags[flag] !== undefined);
  if (misplaced.length > 0) {
    const names = misplaced.map(
      (flag) => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    );
    throw new UsageError(
      `${names.join(' and ')} ${names.length > 1 ? 'apply' : 'applies'} to ${logBroker ? 'AMQP brokers' : 'Kafka'}, not to the ${broker} broker`,
      {
        hint: logBroker
          ? 'use --topic, --key and --partition for Kafka'
          : 'use --exchange and --routing-key',
      },
    );
  }
  const event = project?.events[eventName] ?? null;
  const warning =
    project !== null && event === null
      ? `event "${eventName}" is not in ${project.path}: publishing with the defaults`
      : null;
  const route: Route = logBroker
    ? {
        kind: 'topic',
        topic: flags.topic ?? event?.topic ?? eventName,
        ...(flags.partition === undefined ? {} : { partition: flags.partition }),
      }
    : {
        kind: 'exchange',
        exchange: flags.exchange ?? event?.exchange ?? DEFAULT_EXCHANGE,
        routingKey: flags.routingKey ?? event?.routingKey ?? eventName,
      };
  return { route, event, warning };
}
