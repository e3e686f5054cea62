import { describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';

const BROKER_CLIENTS_AND_HEAVY =
  /amqplib|kafkajs|better-sqlite3|@inquirer|inquirer|ora\/|ajv|cel-js|cli-table3/;

describe('help and start-up', () => {
  it.each([['--help'], ['--version']])(
    'mq %s loads no broker client, SQLite driver or prompt library',
    async (flag) => {
      const result = await runMq([flag], { env: { ...isolatedEnv(), NODE_DEBUG: 'module,esm' } });
      expect(result.code).toBe(0);
      // The debug log must list what was loaded, or this test would prove nothing. The bundle
      // (amqplib inside it runs only when first required) is not even read for --version.
      expect(result.stderr).toContain('bin/mq.js');
      expect(result.stderr.includes('dist/main.cjs')).toBe(flag === '--help');
      expect(result.stderr).not.toMatch(BROKER_CLIENTS_AND_HEAVY);
    },
  );

  it('prints the version', async () => {
    const result = await runMq(['--version'], { env: isolatedEnv() });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('lists the commands with examples', async () => {
    const result = await runMq(['--help'], { env: isolatedEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('publish');
    expect(result.stdout).toContain('context');
    expect(result.stdout).toContain('Examples:');
  });

  it.each([
    ['publish'],
    ['context', 'add'],
    ['context', 'ls'],
    ['context', 'use'],
    ['context', 'rm'],
    ['context', 'show'],
    ['help'],
  ])('mq %s --help has examples', async (...path: string[]) => {
    const result = await runMq([...path, '--help'], { env: isolatedEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('$ mq ');
  });

  it('has reference pages for exit codes and the environment', async () => {
    const codes = await runMq(['help', 'exit-codes'], { env: isolatedEnv() });
    expect(codes.code).toBe(0);
    for (const code of ['0 ', '1 ', '2 ', '3 ', '4 ', '5 ', '130', '143'])
      expect(codes.stdout).toContain(`  ${code}`);
    const environment = await runMq(['help', 'environment'], { env: isolatedEnv() });
    for (const name of [
      'MQ_BROKER',
      'MQ_CONTEXT',
      'MQ_CONFIG',
      'MQ_HOME',
      'MQ_NO_INPUT',
      'MQ_DEBUG',
      'NO_COLOR',
      'CI',
    ]) {
      expect(environment.stdout).toContain(name);
    }
  });

  it('shows a command help through mq help, and exits 1 for an unknown topic', async () => {
    expect((await runMq(['help', 'context', 'add'], { env: isolatedEnv() })).stdout).toContain(
      '--password-env',
    );
    const unknown = await runMq(['help', 'nope'], { env: isolatedEnv() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no help for "nope"');
  });
});
