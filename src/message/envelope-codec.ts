/**
 * Between the broker contract's messages and the envelope (DESIGN.md §4): `toEnvelope` for what
 * was read, `fromEnvelope` plus a route for what is replayed (`mq publish --from`, redrive).
 */
import type {
  InboundMessage,
  MessageProperties,
  OutboundMessage,
  Route,
} from '../brokers/types.js';
import { bytesFromJson, bytesToJson, decodeBody, encodeBody } from './bytes.js';
import { decodeDeath } from './death.js';
import type { BrokerKind, Envelope } from './envelope.js';
import { headersFromJson, headersToJson } from './headers.js';
import { isoFromMilliseconds } from './time.js';

/**
 * The AMQP basic properties an envelope may carry, in the order they are written, with their JSON
 * type. Also the allow-list when an envelope is read.
 */
export const PROPERTY_TYPES = {
  contentType: 'string',
  contentEncoding: 'string',
  messageId: 'string',
  correlationId: 'string',
  replyTo: 'string',
  expiration: 'string',
  type: 'string',
  appId: 'string',
  userId: 'string',
  priority: 'number',
  deliveryMode: 'number',
  timestamp: 'number',
} as const satisfies Record<keyof MessageProperties, 'string' | 'number'>;

export interface EnvelopeContext {
  broker: BrokerKind;
  /**
   * Whether `message.source` names a queue or a topic (the local broker has both); null for a
   * message read from neither, such as one a `publish --dry-run` shows: queue and topic are null.
   */
  sourceKind: 'queue' | 'topic' | null;
}

/**
 * The envelope of a message that was read, every field present and in `ENVELOPE_FIELDS` order.
 * Kafka has no redelivered flag and no properties: both are null there. The death record is the
 * adapter's when it has one (the local broker), else decoded from the headers.
 */
export function toEnvelope(message: InboundMessage, context: EnvelopeContext): Envelope {
  const headers = message.headers ?? {};
  const isKafka = context.broker === 'kafka';
  return {
    v: 1,
    id: message.id,
    broker: context.broker,
    queue: context.sourceKind === 'queue' ? message.source : null,
    topic: context.sourceKind === 'topic' ? message.source : null,
    exchange: message.exchange,
    routingKey: message.routingKey,
    partition: message.partition,
    offset: message.offset,
    key: message.key === undefined ? null : bytesToJson(message.key),
    timestamp: message.timestamp === null ? null : isoFromMilliseconds(message.timestamp),
    redelivered: isKafka ? null : message.redelivered,
    deliveryCount: message.deliveryCount,
    headers: headersToJson(headers, context.broker),
    properties: isKafka ? null : propertiesToJson(message.properties ?? {}),
    ...encodeBody(message.body),
    death: message.death ?? decodeDeath(headers),
  };
}

/** Set properties only, in `PROPERTY_TYPES` order, so that the same message gives the same line. */
function propertiesToJson(properties: MessageProperties): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const name of propertyNames()) {
    const value = properties[name];
    if (value !== undefined && value !== null) json[name] = value;
  }
  return json;
}

function propertyNames(): (keyof MessageProperties)[] {
  return Object.keys(PROPERTY_TYPES) as (keyof MessageProperties)[];
}

/**
 * The message to publish for an envelope: the exact body bytes, the key and the headers in driver
 * form (bytes as Buffers), and the AMQP properties that have the right type.
 */
export function fromEnvelope(envelope: Envelope): OutboundMessage {
  const message: OutboundMessage = {
    body: decodeBody(envelope.body, envelope.bodyEncoding),
    headers: headersFromJson(envelope.headers),
  };
  if (envelope.key !== null) message.key = bytesFromJson(envelope.key);
  if (envelope.properties !== null) message.properties = propertiesFromJson(envelope.properties);
  return message;
}

function propertiesFromJson(json: Record<string, unknown>): MessageProperties {
  const properties: Record<string, string | number> = {};
  for (const name of propertyNames()) {
    const value = json[name];
    if (typeof value === PROPERTY_TYPES[name]) properties[name] = value as string | number;
  }
  return properties;
}

/**
 * The route the message was read from, for a replay through it: the topic (and partition) on
 * Kafka, the exchange and routing key as delivered on AMQP, else the queue itself. Null when the
 * envelope names none of them.
 */
export function recordedRoute(envelope: Envelope): Route | null {
  if (envelope.topic !== null) return topicRoute(envelope.topic, envelope.partition);
  if (envelope.exchange !== null && envelope.routingKey !== null) {
    return { kind: 'exchange', exchange: envelope.exchange, routingKey: envelope.routingKey };
  }
  if (envelope.queue !== null) return { kind: 'queue', queue: envelope.queue };
  return null;
}

/**
 * Where a dead letter failed, for a redrive (DESIGN.md §7): the queue that dead-lettered it,
 * alone, or the original topic and partition. Null for a message with no death record, or one
 * whose record names neither.
 */
export function deathRoute(envelope: Envelope): Route | null {
  const death = envelope.death;
  if (death === null) return null;
  if (death.queue !== null) return { kind: 'queue', queue: death.queue };
  if (death.originalTopic !== null) return topicRoute(death.originalTopic, death.originalPartition);
  return null;
}

function topicRoute(topic: string, partition: number | null): Route {
  return partition === null ? { kind: 'topic', topic } : { kind: 'topic', topic, partition };
}
