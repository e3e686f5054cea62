import { describe } from 'vitest';
import { openRabbitMq } from '../../src/brokers/rabbitmq/index.js';
import { parseServerVersion, releaseCountsOnQuorum } from '../../src/brokers/rabbitmq/version.js';
import {
  createVhost,
  deleteVhost,
  rabbitMqAvailable,
  rabbitMqSpec,
  serverVersion,
} from '../helpers/rabbitmq.js';
import { brokerContract } from './contract.js';

const ready = await rabbitMqAvailable();
// One vhost for the whole suite: every test declares its own uniquely named queues, and deleting
// the vhost at the end removes them all.
const vhost = ready ? await createVhost() : '';
const version = ready ? parseServerVersion(await serverVersion()) : null;

describe.runIf(ready)('rabbitmq', () => {
  brokerContract(
    'rabbitmq',
    async () => {
      const broker = openRabbitMq(rabbitMqSpec(vhost), { connectTimeoutMs: 5_000, project: null });
      await broker.connect();
      return broker;
    },
    {
      deadLetters: 'hold',
      releaseCounts: releaseCountsOnQuorum(version),
      afterAll: () => deleteVhost(vhost),
    },
  );
});
