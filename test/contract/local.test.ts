import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocal } from '../../src/brokers/local/index.js';
import { brokerContract } from './contract.js';

// One broker directory for the whole suite: every test declares its own uniquely named queues.
const dataDir = mkdtempSync(join(tmpdir(), 'mq-contract-local-'));

brokerContract(
  'local',
  async () => {
    const broker = openLocal(
      { kind: 'local', dataDir, display: `local:${dataDir}` },
      { project: null },
    );
    await broker.connect();
    return broker;
  },
  {
    deadLetters: 'holdAndMove',
    afterAll: () => {
      rmSync(dataDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  },
);
