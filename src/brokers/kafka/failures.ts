/**
 * kafkajs's errors in mq's terms. kafkajs names its errors (`KafkaJSConnectionError`, …) and wraps
 * the one that gave up in `KafkaJSNumberOfRetriesExceeded` (with `cause`); protocol errors carry
 * the broker's error `type` (`UNKNOWN_TOPIC_OR_PARTITION`). Messages go through `redact`.
 */
import { ConnectError, MqError, NotFoundError } from '../../errors.js';
import { redact } from '../../secrets.js';

interface KafkaJsErrorLike {
  name?: string;
  type?: string;
  message?: string;
  cause?: unknown;
}

/** The error and every `cause` under it. */
function chain(error: unknown): KafkaJsErrorLike[] {
  const found: KafkaJsErrorLike[] = [];
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && found.length < 10) {
    found.push(current);
    current = (current as KafkaJsErrorLike).cause;
  }
  return found;
}

/** The broker's error type (`UNKNOWN_TOPIC_OR_PARTITION`) anywhere in the chain, or null. */
export function protocolType(error: unknown): string | null {
  return chain(error).find((e) => typeof e.type === 'string')?.type ?? null;
}

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSRequestTimeoutError',
]);

export function isConnectionFailure(error: unknown): boolean {
  return chain(error).some((e) => e.name !== undefined && CONNECTION_ERRORS.has(e.name));
}

export function isAuthenticationFailure(error: unknown): boolean {
  return chain(error).some(
    (e) =>
      e.name === 'KafkaJSSASLAuthenticationError' ||
      e.type === 'SASL_AUTHENTICATION_FAILED' ||
      e.type === 'ILLEGAL_SASL_STATE' ||
      e.type === 'UNSUPPORTED_SASL_MECHANISM',
  );
}

/** The innermost message: the one that says what happened. */
export function kafkaText(error: unknown): string {
  const errors = chain(error);
  const deepest = errors.reverse().find((e) => typeof e.message === 'string' && e.message !== '');
  return redact(deepest?.message ?? String(error));
}

/** A failure to reach or log in to the brokers named in `display`. */
export function connectFailure(error: unknown, display: string): ConnectError {
  if (isAuthenticationFailure(error)) {
    return new ConnectError(`Kafka at ${display} refused the login: ${kafkaText(error)}`, {
      cause: error,
      hint: 'check the user name, the password and ?sasl=<mechanism> of the broker URL',
    });
  }
  return new ConnectError(`cannot connect to Kafka at ${display}: ${kafkaText(error)}`, {
    cause: error,
    hint: 'check that the broker runs and the host and port are right (npm run brokers:up starts the test broker); --connect-timeout waits longer',
  });
}

/** Any failure as an MqError; mq's own errors pass through unchanged. */
export function asMqError(error: unknown, doing: string, display: string): MqError {
  if (error instanceof MqError) return error;
  if (isAuthenticationFailure(error)) return connectFailure(error, display);
  if (protocolType(error) === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new NotFoundError(`${doing} failed: the topic does not exist`, { cause: error });
  }
  if (isConnectionFailure(error)) {
    return new MqError(`${doing} failed: lost the connection to Kafka: ${kafkaText(error)}`, {
      cause: error,
    });
  }
  return new MqError(`${doing} failed: ${kafkaText(error)}`, { cause: error });
}
