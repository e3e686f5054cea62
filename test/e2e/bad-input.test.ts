import { describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';

const dryRun = (...args: string[]) => ['publish', 'order.placed', ...args, '--dry-run'];

/** Every bad input: one line (plus an optional hint), exit 2, nothing on stdout, no stack trace. */
function expectOneLineError(
  result: { code: number | null; stdout: string; stderr: string },
  pattern: RegExp,
) {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(pattern);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(lines[1]).toMatch(/^hint: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('bad input, run as a process', () => {
  it('reports a JSON syntax error in the compiler form', async () => {
    const result = await runMq(dryRun('test/fixtures-data/bad.json'), { env: isolatedEnv() });
    expectOneLineError(
      result,
      /^test\/fixtures-data\/bad\.json:2:17: expected a comma or closing brace$/,
    );
  });

  it('names the field that breaks the event schema', async () => {
    const result = await runMq(['publish', 'order.placed', '-', '--dry-run'], {
      env: isolatedEnv(),
      stdin:
        '{"eventType":"order.placed","orderId":"o1","userId":"u1",\n "items":[{"productId":"p","quantity":0,"price":1}],"totalAmount":1}\n',
    });
    expectOneLineError(result, /^<stdin>:2:39: items\[0\]\.quantity must be >= 1$/);
  });

  it('names a missing required field', async () => {
    const result = await runMq(dryRun('test/fixtures-data/order-missing-field.json'), {
      env: isolatedEnv(),
    });
    expectOneLineError(
      result,
      /^test\/fixtures-data\/order-missing-field\.json:1:1: missing required field userId/,
    );
  });

  it('points at an unknown template variable', async () => {
    const result = await runMq(dryRun('test/fixtures-data/unknown-template.json'), {
      env: isolatedEnv(),
    });
    expectOneLineError(
      result,
      /^test\/fixtures-data\/unknown-template\.json:4:15: unknown template variable "orderid"/,
    );
  });

  it('says what to do about a missing file', async () => {
    const result = await runMq(dryRun('missing.json'), { env: isolatedEnv() });
    expectOneLineError(result, /^error: cannot read missing\.json: no such file or directory$/);
  });

  it('refuses a publish with no fixture', async () => {
    const result = await runMq(['publish', 'order.placed'], { env: isolatedEnv() });
    expectOneLineError(result, /^error: no fixture given$/);
  });

  it.each([
    ['--broker', 'amqp://guest:Sup3rSecret@rabbit:99999/'],
    ['--broker', 'kafka://app:Sup3rSecret@k1:notaport'],
    ['--broker', 'redis://app:Sup3rSecret@cache'],
    ['--broker', 'app:Sup3rSecret@rabbit'],
  ])('rejects %s %s without ever printing the password', async (flag, url) => {
    for (const env of [isolatedEnv(), { ...isolatedEnv(), MQ_DEBUG: '1' }]) {
      const result = await runMq([flag, url, ...dryRun('fixtures/order.placed.json')], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('invalid broker URL');
      expect(result.stdout + result.stderr).not.toContain('Sup3rSecret');
    }
  });

  it('keeps the password out of a bad MQ_BROKER too, also under --json', async () => {
    const result = await runMq([...dryRun('fixtures/order.placed.json'), '--json'], {
      env: { ...isolatedEnv(), MQ_BROKER: 'amqp://u:Sup3rSecret@h:0x/' },
    });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'usage' } });
    expect(result.stderr).not.toContain('Sup3rSecret');
  });

  it('refuses --broker together with --context', async () => {
    const result = await runMq(
      ['--broker', 'local', '--context', 'dev', ...dryRun('fixtures/order.placed.json')],
      {
        env: isolatedEnv(),
      },
    );
    expectOneLineError(result, /^error: --broker and --context cannot be used together$/);
  });

  it('refuses an unknown option with a usage error', async () => {
    const result = await runMq([...dryRun('fixtures/order.placed.json'), '--nope'], {
      env: isolatedEnv(),
    });
    expectOneLineError(result, /^error: unknown option '--nope'$/);
  });

  it('prints errors as JSON under --json', async () => {
    const result = await runMq([...dryRun('test/fixtures-data/bad.json'), '--json'], {
      env: isolatedEnv(),
    });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({
      error: {
        code: 'invalid_input',
        message: 'test/fixtures-data/bad.json:2:17: expected a comma or closing brace',
      },
    });
  });

  it("checks the global flags before the command's own arguments", async () => {
    const result = await runMq(['--config', 'nowhere.json', 'publish'], { env: isolatedEnv() });
    expectOneLineError(
      result,
      /^error: cannot read the project file .*nowhere\.json: no such file$/,
    );
  });

  it('shows help and exits 0 when run with no command', async () => {
    const result = await runMq([], { env: isolatedEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toContain('Usage: mq');
    expect(result.stderr).not.toContain('error');
  });
});
