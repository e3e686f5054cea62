/**
 * amqplib's errors in mq's terms. amqplib reports a broker's refusal as an Error whose `code` is
 * the AMQP reply code (404 NOT_FOUND, 406 PRECONDITION_FAILED…) and whose message ends with the
 * broker's reply text; everything that reaches a message goes through `redact` first.
 */
import { MqError } from '../../errors.js';
import { redact } from '../../secrets.js';

export const NOT_FOUND = 404;
export const PRECONDITION_FAILED = 406;

/** The AMQP reply code of a broker refusal, or null for any other failure. */
export function replyCode(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/** What the broker said (`NOT_FOUND - no queue 'x' in vhost 'y'`), else the error's own message. */
export function brokerText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const said = /with message "(.*)"$/s.exec(message)?.[1];
  return redact(said ?? message);
}

/** Any failure as an MqError; mq's own errors pass through unchanged. */
export function asMqError(error: unknown, doing: string): MqError {
  if (error instanceof MqError) return error;
  return new MqError(`${doing} failed: ${brokerText(error)}`, { cause: error });
}
