import type { BrokerSpec } from '../config/broker-url.js';
import type { ProjectFile } from '../config/project-file.js';
import { UnsupportedError } from '../errors.js';
import type { BrokerAdapter } from './types.js';

export interface OpenOptions {
  connectTimeoutMs: number;
  project: ProjectFile | null;
}

/** URL → adapter. Each adapter module is imported only here, and only when its broker is used. */
export function openBroker(spec: BrokerSpec, _options: OpenOptions): Promise<BrokerAdapter> {
  // TODO(#3): the embedded local broker; TODO(#4): RabbitMQ; TODO(#5): Kafka.
  return Promise.reject(
    new UnsupportedError(
      `this build of mq cannot send to or read from the ${spec.kind} broker yet`,
      {
        hint: 'mq publish --dry-run renders and validates messages without a broker',
      },
    ),
  );
}
