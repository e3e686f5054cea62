/**
 * A message's death history, kept beside it the way RabbitMQ keeps `x-death`: one entry per
 * (queue, reason), most recent first; dying again the same way increments that entry's count.
 */
import type { DeathRecord } from '../../message/envelope.js';
import { REDRIVE_COUNT_HEADER } from '../../message/death.js';
import { headerCount } from './codec.js';
import type { Headers } from '../types.js';

export type DeathReason = 'rejected' | 'expired' | 'delivery_limit';

export interface DeathEntry {
  queue: string;
  reason: DeathReason;
  count: number;
  /** Where the message had been published to when it died, as RabbitMQ's `x-death` says. */
  exchange: string;
  routingKeys: string[];
  /** Milliseconds since the epoch. */
  firstTime: number;
  lastTime: number;
}

export interface Death {
  queue: string;
  reason: DeathReason;
  exchange: string;
  routingKeys: string[];
  time: number;
}

export function parseDeaths(text: string | null): DeathEntry[] {
  return text === null ? [] : (JSON.parse(text) as DeathEntry[]);
}

/** The history after one more death, the entry it touched moved to the front. */
export function recordDeath(history: readonly DeathEntry[], death: Death): DeathEntry[] {
  const previous = history.find(
    (entry) => entry.queue === death.queue && entry.reason === death.reason,
  );
  const entry: DeathEntry = previous
    ? { ...previous, count: previous.count + 1, lastTime: death.time }
    : {
        queue: death.queue,
        reason: death.reason,
        count: 1,
        exchange: death.exchange,
        routingKeys: death.routingKeys,
        firstTime: death.time,
        lastTime: death.time,
      };
  return [entry, ...history.filter((other) => other !== previous)];
}

/** The envelope's death record: the newest entry, with the first death's time over all entries. */
export function toDeathRecord(
  history: readonly DeathEntry[],
  headers: Headers,
): DeathRecord | null {
  const newest = history[0];
  if (newest === undefined) return null;
  const firstTime = Math.min(...history.map((entry) => entry.firstTime));
  return {
    reason: newest.reason,
    count: newest.count,
    queue: newest.queue,
    exchange: newest.exchange,
    routingKeys: [...newest.routingKeys],
    time: new Date(newest.lastTime).toISOString(),
    firstTime: new Date(firstTime).toISOString(),
    originalTopic: null,
    originalPartition: null,
    originalOffset: null,
    originalConsumerGroup: null,
    exception: null,
    redriveCount: headerCount(headers[REDRIVE_COUNT_HEADER]) ?? 0,
  };
}
