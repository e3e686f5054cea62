/**
 * The one message shape mq prints and reads for every broker (DESIGN.md §4). Field order is part
 * of the format: `encodeEnvelopeLine` (ndjson.ts) writes them in `ENVELOPE_FIELDS` order.
 */
export type BrokerKind = 'local' | 'rabbitmq' | 'kafka';

/** Bytes that are not valid UTF-8, in JSON. */
export interface EncodedBytes {
  base64: string;
}

/** An AMQP field value whose wire type must survive a round trip, in amqplib's own notation. */
export interface TypedHeader {
  '!': string;
  value: unknown;
}

/** A header value as JSON: AMQP values as amqplib decodes them, Kafka values as strings. */
export type HeaderJson =
  | string
  | number
  | boolean
  | null
  | EncodedBytes
  | TypedHeader
  | HeaderJson[]
  | { [key: string]: HeaderJson };

export type BodyEncoding = 'utf8' | 'base64';

/** Why and where a message was dead-lettered, decoded from whichever headers the broker or framework wrote (DESIGN.md §7). */
export interface DeathRecord {
  /** `rejected`, `expired`, `maxlen`, `delivery_limit`, or a framework's own word. */
  reason: string | null;
  /** How many times it died this way (RabbitMQ `x-death` count), null where unknown. */
  count: number | null;
  queue: string | null;
  exchange: string | null;
  routingKeys: string[];
  /** The newest death, ISO 8601. */
  time: string | null;
  /** The first death, where the broker records it. */
  firstTime: string | null;
  originalTopic: string | null;
  originalPartition: number | null;
  /** int64 as a decimal string. */
  originalOffset: string | null;
  originalConsumerGroup: string | null;
  /** The failing consumer's exception: class and message where known. */
  exception: string | null;
  /** How many times mq has redriven this message before (`mq-redrive-count`). */
  redriveCount: number;
}

export interface Envelope {
  v: 1;
  id: string;
  broker: BrokerKind;
  queue: string | null;
  topic: string | null;
  exchange: string | null;
  routingKey: string | null;
  partition: number | null;
  /** Kafka offset, int64 as a decimal string. */
  offset: string | null;
  key: string | EncodedBytes | null;
  timestamp: string | null;
  redelivered: boolean | null;
  deliveryCount: number | null;
  headers: Record<string, HeaderJson>;
  /** AMQP basic properties (contentType, messageId, correlationId, deliveryMode, …); null on Kafka. */
  properties: Record<string, unknown> | null;
  body: string;
  bodyEncoding: BodyEncoding;
  death: DeathRecord | null;
}

/** The envelope fields in their printed order; also the allow-list for `--fields`. */
export const ENVELOPE_FIELDS = [
  'v',
  'id',
  'broker',
  'queue',
  'topic',
  'exchange',
  'routingKey',
  'partition',
  'offset',
  'key',
  'timestamp',
  'redelivered',
  'deliveryCount',
  'headers',
  'properties',
  'body',
  'bodyEncoding',
  'death',
] as const satisfies readonly (keyof Envelope)[];

/** The death record fields in their printed order; also the allow-list when an envelope is read. */
export const DEATH_FIELDS = [
  'reason',
  'count',
  'queue',
  'exchange',
  'routingKeys',
  'time',
  'firstTime',
  'originalTopic',
  'originalPartition',
  'originalOffset',
  'originalConsumerGroup',
  'exception',
  'redriveCount',
] as const satisfies readonly (keyof DeathRecord)[];
