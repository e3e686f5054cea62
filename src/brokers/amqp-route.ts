import { UnsupportedError } from '../errors.js';
import type { Route } from './types.js';

/** Where an AMQP-model broker sends a route: an exchange and routing key (the default exchange for a queue). */
export interface ExchangeTarget {
  exchange: string;
  routingKey: string;
}

/** The queue brokers' reading of a route; `who` names the broker in the refusal of a Kafka topic. */
export function exchangeTarget(route: Route, who: string): ExchangeTarget {
  switch (route.kind) {
    case 'exchange':
      return { exchange: route.exchange, routingKey: route.routingKey };
    case 'queue':
      return { exchange: '', routingKey: route.queue };
    case 'topic':
      throw new UnsupportedError(
        `${who} has no Kafka-style topics (cannot publish to "${route.topic}")`,
        {
          hint: 'publish through an exchange (--exchange) or straight to a queue',
        },
      );
  }
}
