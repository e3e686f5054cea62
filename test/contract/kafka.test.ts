import { afterAll, describe } from 'vitest';
import { openKafka } from '../../src/brokers/kafka/index.js';
import { deleteTopics, disconnectAdmin, kafkaAvailable, kafkaSpec } from '../helpers/kafka.js';
import { brokerContract } from './contract.js';

const ready = await kafkaAvailable();

describe.runIf(ready)('kafka', () => {
  afterAll(() => disconnectAdmin());
  brokerContract(
    'kafka',
    async () => {
      const broker = openKafka(kafkaSpec(), { connectTimeoutMs: 5_000, project: null });
      await broker.connect();
      return broker;
    },
    {
      model: 'log',
      deadLetters: 'none',
      // Each test's topics, and their dead-letter topics, go with it.
      removeTopology: (topology) => deleteTopics(topology.topics.map((topic) => topic.name)),
    },
  );
});
