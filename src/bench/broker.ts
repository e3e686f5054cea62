import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBroker } from '../brokers/open.js';
import type { BrokerAdapter } from '../brokers/types.js';
import type { BrokerSpec } from '../config/broker-url.js';

/**
 * Where a benchmark runs: the server broker the user chose, or instead of the embedded one a
 * throwaway one in a temporary directory (the user's own is never touched), which `discard()`
 * deletes.
 */
export function benchBroker(chosen: BrokerSpec): {
  spec: BrokerSpec;
  throwaway: boolean;
  discard: () => void;
} {
  if (chosen.kind !== 'local') return { spec: chosen, throwaway: false, discard: () => {} };
  const dataDir = mkdtempSync(join(tmpdir(), 'mq-bench-'));
  return {
    spec: { kind: 'local', dataDir, display: `local:${dataDir}` },
    throwaway: true,
    discard: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** `work` on a connected adapter of `spec`, closed afterwards. */
export async function withBroker<T>(
  spec: BrokerSpec,
  work: (broker: BrokerAdapter) => Promise<T>,
): Promise<T> {
  const broker = await openBroker(spec, { connectTimeoutMs: 10_000, project: null });
  try {
    await broker.connect();
    return await work(broker);
  } finally {
    await broker.close();
  }
}
