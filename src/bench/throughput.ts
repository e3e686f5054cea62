/**
 * `mq bench throughput`: how fast a broker takes and gives messages of a given size, through mq's
 * own adapter. For `durationMs` a publisher sends windows of `window` messages (one publish, one
 * wait for confirms each) while a consumer takes and acks them; afterwards the consumer drains what
 * is left. Each body starts with its send time, so the consumer measures publish-to-consume latency
 * on the same clock. Everything goes through a queue or topic of the run's own, deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { benchBroker, withBroker } from './broker.js';
import { requireCapability, type BrokerAdapter, type Route } from '../brokers/types.js';
import type { BrokerSpec } from '../config/broker-url.js';
import type { Topology } from '../config/topology.js';
import { MqError } from '../errors.js';

export interface ThroughputOptions {
  broker: BrokerSpec;
  sizeBytes: number;
  window: number;
  durationMs: number;
  signal: AbortSignal;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ThroughputResult {
  version: 1;
  broker: BrokerSpec['kind'];
  sizeBytes: number;
  window: number;
  durationMs: number;
  publish: { messages: number; perSec: number; confirmMs: Percentiles };
  consume: { messages: number; perSec: number; latencyMs: Percentiles };
}

/** Room for the send time at the front of every body. */
const STAMP_BYTES = 8;
/** How long the consumer may take to drain what was published once publishing stopped. */
const DRAIN_TIMEOUT_MS = 60_000;

export async function runThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { spec, throwaway, discard } = benchBroker(options.broker);
  const name = `mq-bench-${randomUUID().slice(0, 8)}`;
  const declared = scratchTopology(spec.kind, name);
  try {
    return await withBroker(spec, async (broker) => {
      const topology = requireCapability(broker, 'topology');
      await topology.apply(declared);
      try {
        return await measure(broker, spec.kind, name, options);
      } finally {
        if (!throwaway) await topology.remove?.(declared);
      }
    });
  } finally {
    discard();
  }
}

function scratchTopology(kind: BrokerSpec['kind'], name: string): Topology {
  if (kind === 'kafka') {
    return {
      exchanges: [],
      queues: [],
      bindings: [],
      topics: [{ name, partitions: 1, retentionMs: null, deadLetterTopic: null }],
    };
  }
  return {
    exchanges: [],
    queues: [
      {
        name,
        arguments: {
          'x-queue-type': 'classic',
          // Gone after this long unused on a server broker, should the bench die before it deletes it.
          ...(kind === 'local' ? {} : { 'x-expires': 10 * 60_000 }),
        },
      },
    ],
    bindings: [],
    topics: [],
  };
}

async function measure(
  broker: BrokerAdapter,
  kind: BrokerSpec['kind'],
  name: string,
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const route: Route =
    kind === 'kafka' ? { kind: 'topic', topic: name } : { kind: 'queue', queue: name };
  const confirms = createHistogram();
  const latencies = createHistogram();
  const body = Buffer.alloc(Math.max(STAMP_BYTES, options.sizeBytes), 'x');
  let published = 0;
  let consumed = 0;
  let publishing = true;
  const stopConsuming = new AbortController();
  const stop = () => stopConsuming.abort();
  options.signal.addEventListener('abort', stop, { once: true });

  const consuming: Promise<void> = (async () => {
    const group = kind === 'kafka' ? `${name}.consumer` : undefined;
    for await (const delivery of broker.consume(name, {
      signal: stopConsuming.signal,
      prefetch: options.window,
      group,
    })) {
      const sentAt = Buffer.from(delivery.message.body).readDoubleBE(0);
      record(latencies, performance.now() - sentAt);
      await delivery.ack();
      consumed += 1;
      if (!publishing && consumed >= published) stopConsuming.abort();
    }
  })();

  // Awaited below, after publishing; until then its failure must not count as unhandled.
  consuming.catch(() => undefined);
  const started = performance.now();
  while (performance.now() - started < options.durationMs && !options.signal.aborted) {
    const sentAt = performance.now();
    const messages = Array.from({ length: options.window }, () => {
      const stamped = Buffer.from(body);
      stamped.writeDoubleBE(sentAt, 0);
      return { body: stamped };
    });
    const receipts = await broker.publish(route, messages);
    const confirmed = receipts.filter((receipt) => receipt.status === 'confirmed').length;
    if (confirmed < messages.length) {
      throw new MqError(
        `${messages.length - confirmed} of a window of ${messages.length} were not confirmed`,
      );
    }
    record(confirms, performance.now() - sentAt);
    published += confirmed;
  }
  const publishMs = performance.now() - started;
  publishing = false;
  if (consumed >= published) stopConsuming.abort();
  const drainTimer = setTimeout(stop, DRAIN_TIMEOUT_MS);
  try {
    await consuming;
  } finally {
    clearTimeout(drainTimer);
    options.signal.removeEventListener('abort', stop);
  }
  const consumeMs = performance.now() - started;
  return {
    version: 1,
    broker: kind,
    sizeBytes: body.length,
    window: options.window,
    durationMs: Math.round(publishMs),
    publish: {
      messages: published,
      perSec: Math.round((published / publishMs) * 1000),
      confirmMs: percentiles(confirms),
    },
    consume: {
      messages: consumed,
      perSec: Math.round((consumed / consumeMs) * 1000),
      latencyMs: percentiles(latencies),
    },
  };
}

/** In microseconds: the histogram takes integers. */
function record(histogram: RecordableHistogram, ms: number): void {
  histogram.record(Math.max(1, Math.round(ms * 1000)));
}

function percentiles(histogram: RecordableHistogram): Percentiles {
  if (histogram.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  const ms = (microseconds: number) => Math.round(microseconds / 100) / 10;
  return {
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  };
}
