import type { BrokerSpec } from '../config/broker-url.js';
import type { ProjectFile } from '../config/project-file.js';
import type { BrokerAdapter } from './types.js';

export interface OpenOptions {
  connectTimeoutMs: number;
  project: ProjectFile | null;
}

/** URL → adapter. Each adapter module is imported only here, and only when its broker is used. */
export async function openBroker(spec: BrokerSpec, options: OpenOptions): Promise<BrokerAdapter> {
  if (spec.kind === 'local') {
    // Loaded here, not at start-up: it brings in better-sqlite3.
    const { openLocal } = await import('./local/index.js');
    return openLocal(spec, { project: options.project });
  }
  if (spec.kind === 'rabbitmq') {
    // Loaded here, not at start-up: it brings in amqplib.
    const { openRabbitMq } = await import('./rabbitmq/index.js');
    return openRabbitMq(spec, options);
  }
  // Loaded here, not at start-up: it brings in kafkajs.
  const { openKafka } = await import('./kafka/index.js');
  return openKafka(spec, options);
}
