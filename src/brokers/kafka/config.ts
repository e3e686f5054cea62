/**
 * Every kafkajs client mq makes is configured here, so that one unit test can check the rules
 * DESIGN.md §5.2 sets for all of them: no topic is ever created as a side effect
 * (`allowAutoTopicCreation: false` on every producer, consumer and admin), no idempotent producer
 * (kafkajs retries those forever), bounded retries, and kafkajs's own logger silenced.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type {
  AdminConfig,
  ConsumerConfig,
  KafkaConfig,
  ProducerConfig,
  RetryOptions,
  SASLOptions,
} from 'kafkajs';
import type { KafkaSpec, TlsOptions } from '../../config/broker-url.js';
import { UsageError } from '../../errors.js';
import { mqVersion } from '../../version.js';

/** kafkajs's `logLevel.NOTHING`, as a number so this module does not load kafkajs. */
const LOG_NOTHING = 0;

/**
 * Quick retries for about 7 s, then a clear failure: kafkajs's defaults (5 retries, up to 30 s
 * apart) make an unreachable broker look like a hang, while a broker's first consumer group waits
 * a few seconds for `__consumer_offsets` to be created. Connecting is bounded by the connect
 * timeout on top of this.
 */
export const RETRY: RetryOptions = { retries: 6, initialRetryTime: 200, maxRetryTime: 2_000 };

/** Prefix of the throwaway consumer groups one-off reads use (DESIGN.md §5.2). */
export const EPHEMERAL_GROUP_PREFIX = 'mq-ephemeral';
/** Kafka's default session timeout for a consumer; a broker accepts 6 s to 5 min by default. */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 3_000;

export function ephemeralGroupId(prefix = EPHEMERAL_GROUP_PREFIX): string {
  return `${prefix}-${randomUUID()}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * True for a group `ephemeralGroupId` made, `<prefix>-<uuid>`: `mq groups` hides those. A name
 * merely starting with the prefix is someone's own group, and so are mq's named ones (`mq-dlq.*`).
 */
export function isEphemeralGroupId(groupId: string, prefix = EPHEMERAL_GROUP_PREFIX): boolean {
  return groupId.startsWith(`${prefix}-`) && UUID.test(groupId.slice(prefix.length + 1));
}

/**
 * How long a fetch waits at the broker for new records. Stopping a consumer waits for the fetch
 * under way, so this is also what the end of every read and consume costs; 100 ms costs an empty
 * fetch ten times a second while a topic is quiet.
 */
export const FETCH_WAIT_MS = 100;

/** The client: brokers, TLS, SASL, timeouts. */
export function clientConfig(spec: KafkaSpec, connectTimeoutMs: number): KafkaConfig {
  return {
    clientId: `mq/${mqVersion()}`,
    brokers: spec.brokers,
    connectionTimeout: connectTimeoutMs,
    authenticationTimeout: connectTimeoutMs,
    requestTimeout: 30_000,
    enforceRequestTimeout: true,
    retry: RETRY,
    logLevel: LOG_NOTHING,
    ...(spec.ssl ? { ssl: tlsOptions(spec.tls ?? {}) } : {}),
    ...(spec.sasl ? { sasl: saslOptions(spec.sasl) } : {}),
  };
}

function saslOptions(sasl: NonNullable<KafkaSpec['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function tlsOptions(tls: TlsOptions): ConnectionOptions {
  const read = (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new UsageError(`cannot read the TLS ${what} ${path}: ${(error as Error).message}`);
    }
  };
  const options: ConnectionOptions = { rejectUnauthorized: !tls.insecure };
  const ca = read('CA certificate', tls.ca);
  const cert = read('certificate', tls.cert);
  const key = read('key', tls.key);
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  return options;
}

/** acks=-1 is per send; here: plain (non-idempotent) producer, bounded retries, no topic creation. */
export function producerConfig(): ProducerConfig {
  return {
    allowAutoTopicCreation: false,
    idempotent: false,
    retry: RETRY,
  };
}

/**
 * A consumer that commits only when told to (readers run it with `autoCommit: false` and never
 * commit) and gives up instead of restarting after a failure, so an error reaches the user.
 * Heartbeats go at a third of the session timeout, as Kafka advises.
 */
export function consumerConfig(
  groupId: string,
  sessionTimeoutMs = DEFAULT_SESSION_TIMEOUT_MS,
): ConsumerConfig {
  return {
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: FETCH_WAIT_MS,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(DEFAULT_HEARTBEAT_MS, Math.floor(sessionTimeoutMs / 3)),
    retry: { ...RETRY, restartOnFailure: () => Promise.resolve(false) },
  };
}

export function adminConfig(): AdminConfig & { allowAutoTopicCreation: false } {
  // kafkajs 2.2 hard-wires false for its admin's cluster (src/index.js) and its AdminConfig type
  // lacks the option; it is stated anyway, so the rule holds if that ever changes.
  return { allowAutoTopicCreation: false, retry: RETRY };
}
