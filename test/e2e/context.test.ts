import { statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';

describe('mq context', () => {
  it('adds, lists, shows, switches and removes contexts without printing passwords', async () => {
    const env = isolatedEnv();
    const add = await runMq(
      ['context', 'add', 'dev', 'amqp://app:St0red-Secret@rabbit:5672/orders', '--use'],
      { env },
    );
    expect(add.code).toBe(0);
    expect(statSync(env.MQ_CONFIG).mode & 0o777).toBe(0o600);

    const addRef = await runMq(
      [
        'context',
        'add',
        'prod',
        'kafka://svc@k1:9094?sasl=scram-sha-256',
        '--password-env',
        'KAFKA_PW',
      ],
      { env },
    );
    expect(addRef.code).toBe(0);
    const viaStdin = await runMq(
      ['context', 'add', 'ci', 'amqp://ci@rabbit/', '--password-stdin'],
      { env, stdin: 'Piped-Secret\n' },
    );
    expect(viaStdin.code).toBe(0);

    const ls = await runMq(['context', 'ls'], { env });
    expect(ls.stdout).toBe(
      '*\tdev\trabbitmq\tamqp://app:***@rabbit:5672/orders\n\tprod\tkafka\tkafka://svc@k1:9094?sasl=scram-sha-256\n\tci\trabbitmq\tamqp://ci@rabbit/\n',
    );
    const shown = await runMq(['context', 'show', '--json'], { env });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: 'dev',
      current: true,
      kind: 'rabbitmq',
      broker: 'amqp://app:***@rabbit:5672/orders',
    });
    const prod = await runMq(['context', 'show', 'prod', '--json'], { env });
    expect(JSON.parse(prod.stdout)).toMatchObject({ password: '${KAFKA_PW}' });
    const ci = await runMq(['context', 'show', 'ci'], { env });
    expect(ci.stdout).toContain('password\t***');

    for (const result of [add, addRef, viaStdin, ls, shown, prod, ci]) {
      expect(result.stdout + result.stderr).not.toMatch(/St0red-Secret|Piped-Secret/);
    }

    expect((await runMq(['context', 'use', 'ci'], { env })).code).toBe(0);
    expect((await runMq(['context', 'show', '--json'], { env })).stdout).toContain('"name":"ci"');
    expect((await runMq(['context', 'rm', 'ci'], { env })).code).toBe(0);
    const after = await runMq(['context', 'ls', '--json'], { env });
    expect((JSON.parse(after.stdout) as { name: string }[]).map((c) => c.name)).toEqual([
      'dev',
      'prod',
    ]);
  });

  it('uses the current context, and says which variable a ${VAR} password needs', async () => {
    const env = isolatedEnv();
    await runMq(
      [
        'context',
        'add',
        'prod',
        'amqp://app@rabbit/orders',
        '--password-env',
        'RABBIT_PW',
        '--use',
      ],
      { env },
    );
    const missing = await runMq(
      ['publish', 'order.placed', 'fixtures/order.placed.json', '--dry-run'],
      { env },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('context "prod" refers to ${RABBIT_PW}, which is not set');

    const dryRun = await runMq(
      ['publish', 'order.placed', 'fixtures/order.placed.json', '--dry-run'],
      {
        env: { ...env, RABBIT_PW: 'Env-Secret' },
      },
    );
    expect(dryRun.code).toBe(0);
    expect(dryRun.stderr).toContain('on amqp://app:***@rabbit/orders');
    expect(dryRun.stdout + dryRun.stderr).not.toContain('Env-Secret');
  });

  it('exits 1 for a context that does not exist, and 2 for one named by --context', async () => {
    const env = isolatedEnv();
    const use = await runMq(['context', 'use', 'nope'], { env });
    expect(use.code).toBe(1);
    expect(use.stderr).toContain('no context named "nope"');
    const flag = await runMq(
      ['--context', 'nope', 'publish', 'order.placed', 'fixtures/order.placed.json', '--dry-run'],
      { env },
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('no context named "nope" (from --context)');
  });

  it('refuses a malformed broker URL when the context is added', async () => {
    const result = await runMq(['context', 'add', 'bad', 'amqp://u:Typo-Secret@host:port/'], {
      env: isolatedEnv(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('Typo-Secret');
  });

  it('never prints a management URL password or the text of a broken user config', async () => {
    const env = isolatedEnv();
    await runMq(
      [
        '--management-url',
        'http://admin:Mgmt-Secret@rabbit:15672',
        'context',
        'add',
        'm',
        'amqp://rabbit/',
      ],
      { env },
    );
    const shown = await runMq(['context', 'show', 'm', '--json'], { env });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      managementUrl: 'http://admin:***@rabbit:15672',
    });
    writeFileSync(
      env.MQ_CONFIG,
      '{"contexts":{"k":{"broker":"kafka://app@k1:9092","password":Pw0rd-Secret}}}',
    );
    const broken = await runMq(['context', 'ls'], { env });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/config\.json:1:61: not valid JSON here/);
    expect(broken.stdout + broken.stderr + shown.stdout + shown.stderr).not.toMatch(
      /Mgmt-Secret|Pw0rd-Secret/,
    );
  });
});
