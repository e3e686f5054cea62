import { describe, expect, it } from 'vitest';
import { resolveBroker, type BrokerFlags } from '../../../src/config/resolve-broker.js';
import type { UserConfig } from '../../../src/config/user-config.js';

const config: UserConfig = {
  current: 'cur',
  contexts: {
    flagctx: { broker: 'amqp://flag-ctx-host' },
    envctx: { broker: 'kafka://env-ctx-host:9092' },
    cur: { broker: 'amqp://current-host' },
  },
};
const noCurrent: UserConfig = { contexts: config.contexts };

interface Row {
  name: string;
  flags: BrokerFlags;
  env: Record<string, string>;
  config: UserConfig;
  source: string;
  display: string;
}

// DESIGN.md §2: --broker > --context > MQ_BROKER > MQ_CONTEXT > current context > local.
const table: Row[] = [
  {
    name: '--broker beats everything',
    flags: { broker: 'amqp://flag-host' },
    env: { MQ_BROKER: 'amqp://env-host', MQ_CONTEXT: 'envctx' },
    config,
    source: '--broker',
    display: 'amqp://guest:***@flag-host',
  },
  {
    name: '--context beats the environment',
    flags: { context: 'flagctx' },
    env: { MQ_BROKER: 'amqp://env-host', MQ_CONTEXT: 'envctx' },
    config,
    source: '--context',
    display: 'amqp://guest:***@flag-ctx-host',
  },
  {
    name: 'MQ_BROKER beats MQ_CONTEXT',
    flags: {},
    env: { MQ_BROKER: 'amqp://env-host', MQ_CONTEXT: 'envctx' },
    config,
    source: 'MQ_BROKER',
    display: 'amqp://guest:***@env-host',
  },
  {
    name: 'MQ_CONTEXT beats the current context',
    flags: {},
    env: { MQ_CONTEXT: 'envctx' },
    config,
    source: 'MQ_CONTEXT',
    display: 'kafka://env-ctx-host:9092',
  },
  {
    name: 'the current context beats the default',
    flags: {},
    env: {},
    config,
    source: 'current context',
    display: 'amqp://guest:***@current-host',
  },
  {
    name: 'local when nothing is chosen',
    flags: {},
    env: {},
    config: noCurrent,
    source: 'default',
    display: 'local',
  },
];

describe('broker precedence', () => {
  it.each(table)('$name', async (row) => {
    const choice = await resolveBroker(row.flags, row.env, '/tmp', () =>
      Promise.resolve(row.config),
    );
    expect(choice.source).toBe(row.source);
    expect(choice.spec.display).toBe(row.display);
  });

  it('rejects --broker together with --context', async () => {
    await expect(
      resolveBroker({ broker: 'local', context: 'cur' }, {}, '/tmp', () => Promise.resolve(config)),
    ).rejects.toThrow('--broker and --context cannot be used together');
  });

  it('never reads the user config when --broker decides', async () => {
    const choice = await resolveBroker({ broker: 'local' }, {}, '/tmp', () =>
      Promise.reject(new Error('config read')),
    );
    expect(choice.spec.kind).toBe('local');
  });

  it('names an unknown context and the known ones', async () => {
    await expect(
      resolveBroker({ context: 'nope' }, {}, '/tmp', () => Promise.resolve(config)),
    ).rejects.toMatchObject({
      message: 'no context named "nope" (from --context)',
      hint: 'known contexts: flagctx, envctx, cur',
      exitCode: 2,
    });
  });

  it('expands ${VAR} passwords from the environment, and names a missing one', async () => {
    const withRef: UserConfig = {
      contexts: { prod: { broker: 'amqp://app@rabbit/orders', password: '${RABBIT_PW}' } },
    };
    const choice = await resolveBroker(
      { context: 'prod' },
      { RABBIT_PW: 'pa:ss@word' },
      '/tmp',
      () => Promise.resolve(withRef),
    );
    expect(choice.spec.kind === 'rabbitmq' && choice.spec.urls[0]).toBe(
      'amqp://app:pa%3Ass%40word@rabbit/orders',
    );
    expect(choice.spec.display).toBe('amqp://app:***@rabbit/orders');
    await expect(
      resolveBroker({ context: 'prod' }, {}, '/tmp', () => Promise.resolve(withRef)),
    ).rejects.toThrow('context "prod" refers to ${RABBIT_PW}, which is not set');
  });

  it('--insecure turns off certificate checks for a URL and over the TLS files of a context', async () => {
    const tlsContext: UserConfig = {
      contexts: { prod: { broker: 'amqps://rabbit/orders', tls: { ca: '/etc/ca.pem' } } },
    };
    const load = () => Promise.resolve(tlsContext);
    const fromUrl = await resolveBroker(
      { broker: 'amqps://rabbit', insecure: true },
      {},
      '/',
      load,
    );
    expect(fromUrl.spec.kind === 'rabbitmq' && fromUrl.spec.tls).toEqual({ insecure: true });
    const fromContext = await resolveBroker({ context: 'prod', insecure: true }, {}, '/', load);
    expect(fromContext.spec.kind === 'rabbitmq' && fromContext.spec.tls).toEqual({
      ca: '/etc/ca.pem',
      insecure: true,
    });
    const checked = await resolveBroker({ context: 'prod' }, {}, '/', load);
    expect(checked.spec.kind === 'rabbitmq' && checked.spec.tls).toEqual({ ca: '/etc/ca.pem' });
  });
});
