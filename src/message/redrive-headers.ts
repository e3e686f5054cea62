/**
 * The headers of a redriven message (DESIGN.md §7). The broker's death headers go: RabbitMQ would
 * otherwise count the old deaths into the next one, and `CC`/`BCC` would copy the message to the
 * queues they name again. What they said is kept as JSON text in `mq-death-history`, oldest first,
 * with mq's own record of where and when it moved the message. Every name mq sets starts with
 * `mq-`: `x-` headers belong to the broker (RabbitMQ 4 ignores a client's `x-death`).
 */
import type { Headers } from '../brokers/types.js';
import { REDRIVE_COUNT_HEADER } from './death.js';
import type { DeathRecord } from './envelope.js';

export const DEATH_HISTORY_HEADER = 'mq-death-history';
export const REDRIVEN_AT_HEADER = 'mq-redriven-at';
export const REDRIVEN_FROM_HEADER = 'mq-redriven-from';
export const ORIGINAL_EXCHANGE_HEADER = 'mq-original-exchange';
export const ORIGINAL_ROUTING_KEY_HEADER = 'mq-original-routing-key';

const BROKER_DEATH_HEADERS = /^(x-death|x-first-death-.*|x-last-death-.*|CC|BCC)$/i;

export interface RedriveStamp {
  /** The dead-letter queue the message is taken from. */
  from: string;
  /** When it moves. */
  at: Date;
}

export function redrivenHeaders(
  headers: Headers | undefined,
  death: DeathRecord | null,
  stamp: RedriveStamp,
): Headers {
  const kept: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!BROKER_DEATH_HEADERS.test(name)) kept[name] = value;
  }
  const history = earlierDeaths(headers?.[DEATH_HISTORY_HEADER]);
  if (death !== null) history.push(death);
  kept[DEATH_HISTORY_HEADER] = JSON.stringify(history);
  kept[REDRIVE_COUNT_HEADER] = (death?.redriveCount ?? 0) + 1;
  kept[REDRIVEN_AT_HEADER] = stamp.at.toISOString();
  kept[REDRIVEN_FROM_HEADER] = stamp.from;
  if (death?.exchange != null) kept[ORIGINAL_EXCHANGE_HEADER] = death.exchange;
  // The first routing key is the one it was published with; the others came from CC and BCC.
  const routingKey = death?.routingKeys[0];
  if (routingKey !== undefined) kept[ORIGINAL_ROUTING_KEY_HEADER] = routingKey;
  return kept;
}

/** The history an earlier redrive wrote; anything else there (a hand-written value) is kept as one entry. */
function earlierDeaths(value: Headers[string] | undefined): unknown[] {
  if (value === undefined || value === null) return [];
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Uint8Array
        ? Buffer.from(value).toString('utf8')
        : null;
  if (text === null) return [value];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [text];
  }
}
