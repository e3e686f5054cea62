/**
 * What `mq bench` says to its worker processes (src/bench/worker.ts) over the IPC channel, and
 * what they answer. A worker is one of the story's processes: the order service or one of the
 * three services (DESIGN.md §8). Broker specs travel here, not in argv, so a password never shows
 * in a process list.
 */
import type { Route } from '../brokers/types.js';
import type { BrokerSpec } from '../config/broker-url.js';

export type BenchMode = 'sync' | 'async';

/** Where the order service publishes in async mode, and where each service consumes from. */
export interface BenchTopology {
  route: Route;
  /** Per service name: the queue or topic it consumes, and its consumer group on Kafka. */
  sources: Record<string, { source: string; group: string | undefined }>;
}

export interface ServiceStart {
  role: 'service';
  name: string;
  mode: BenchMode;
  /** How long one piece of work takes, already scaled. */
  workMs: number;
  /** How many messages it works on at once in async mode. */
  concurrency: number;
  broker: BrokerSpec;
  topology: BenchTopology;
}

export interface OrderStart {
  role: 'order';
  mode: BenchMode;
  /** The services' URLs, called one after another in sync mode. */
  services: string[];
  broker: BrokerSpec;
  topology: BenchTopology;
}

export type WorkerStart = ServiceStart | OrderStart;

/** Worker → bench. */
export type WorkerReport =
  | { kind: 'ready'; url: string }
  /** A service's count of finished work so far. */
  | { kind: 'processed'; count: number }
  | { kind: 'failed'; message: string };

/**
 * Bench → worker, after the start. `begin` comes when the load starts: a service that is down
 * until then (ms since the epoch) answers 503, or does not consume, until that moment.
 */
export type WorkerCommand = { kind: 'begin'; downUntil: number | null } | { kind: 'stop' };
