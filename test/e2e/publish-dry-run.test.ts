import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, isolatedEnv, runMq } from '../helpers/cli.js';

const fixture = join('fixtures', 'order.placed.json');
const fixtureText = readFileSync(join(REPO_ROOT, fixture), 'utf8');

function onlyLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('mq publish --dry-run', () => {
  it('prints the envelope that would go to the catalog route on the local broker', async () => {
    const result = await runMq(['publish', 'order.placed', fixture, '--dry-run', '--json'], {
      env: isolatedEnv(),
    });
    expect(result.code).toBe(0);
    const envelope = onlyLine(result.stdout);
    expect(envelope).toMatchObject({
      v: 1,
      broker: 'local',
      exchange: 'order_events',
      routingKey: 'order.placed',
      topic: null,
      key: null,
      body: fixtureText.trim(),
      bodyEncoding: 'utf8',
      death: null,
    });
    expect(Object.keys(envelope)).toEqual([
      'v',
      'id',
      'broker',
      'queue',
      'topic',
      'exchange',
      'routingKey',
      'partition',
      'offset',
      'key',
      'timestamp',
      'redelivered',
      'deliveryCount',
      'headers',
      'properties',
      'body',
      'bodyEncoding',
      'death',
    ]);
    expect(envelope.properties).toMatchObject({
      contentType: 'application/json',
      deliveryMode: 2,
      messageId: envelope.id,
    });
    expect(result.stderr).toContain('nothing was sent');
  });

  it('routes to the catalog topic with the key field on Kafka, without connecting', async () => {
    const result = await runMq(
      [
        '--broker',
        'kafka://127.0.0.1:1',
        'publish',
        'order.placed',
        fixture,
        '--dry-run',
        '--json',
      ],
      { env: isolatedEnv() },
    );
    expect(result.code).toBe(0);
    expect(onlyLine(result.stdout)).toMatchObject({
      broker: 'kafka',
      topic: 'order-events',
      key: 'ord-789',
      exchange: null,
      routingKey: null,
      properties: null,
      body: fixtureText.trim(),
    });
  });

  it('uses the defaults, with a warning, for an event missing from the catalog', async () => {
    const result = await runMq(['publish', 'order.cancelled', fixture, '--dry-run', '--json'], {
      env: isolatedEnv(),
    });
    expect(result.code).toBe(0);
    expect(onlyLine(result.stdout)).toMatchObject({
      exchange: 'amq.topic',
      routingKey: 'order.cancelled',
    });
    expect(result.stderr).toContain('warning: event "order.cancelled" is not in');
  });

  it('lets flags override the catalog route and add headers', async () => {
    const result = await runMq(
      [
        'publish',
        'order.placed',
        fixture,
        '--dry-run',
        '--json',
        '--exchange',
        'audit',
        '--routing-key',
        'x.y',
        '--header',
        'trace=abc',
      ],
      { env: isolatedEnv() },
    );
    expect(onlyLine(result.stdout)).toMatchObject({
      exchange: 'audit',
      routingKey: 'x.y',
      headers: { trace: 'abc' },
    });
  });

  it('refuses a --config file that does not exist before reading any input', async () => {
    const result = await runMq(
      ['--config', 'none.json', 'publish', 'order.placed', fixture, '--dry-run'],
      {
        env: isolatedEnv(),
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^error: cannot read the project file .*none\.json: no such file\n/,
    );
    expect(result.stdout).toBe('');
  });

  it('renders templates per message from stdin, across --repeat, with no project file', async () => {
    const result = await runMq(
      ['publish', 'demo.event', '-', '--dry-run', '--json', '--repeat', '3'],
      {
        env: isolatedEnv(),
        cwd: '/',
        stdin: '{"n":{{seq}},"id":"{{uuid}}"}\n',
      },
    );
    expect(result.code).toBe(0);
    const bodies = result.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse((JSON.parse(line) as { body: string }).body) as { n: number; id: string },
      );
    expect(bodies.map((body) => body.n)).toEqual([1, 2, 3]);
    expect(new Set(bodies.map((body) => body.id)).size).toBe(3);
    expect(result.stderr).not.toContain('warning');
  });

  it('escapes terminal control sequences from a message body in human output', async () => {
    const result = await runMq(['publish', 'demo.event', '-', '--dry-run'], {
      env: isolatedEnv(),
      cwd: '/',
      stdin: '\u001b[31mRED\u001b]0;pwned\u0007 and \u009b2J',
    });
    expect(result.code).toBe(0);
    const controls = [...result.stdout].filter(
      (c) => c !== '\n' && (c < ' ' || (c >= '\u007f' && c <= '\u009f')),
    );
    expect(controls).toEqual([]);
    expect(result.stdout).toContain('\\x1b[31mRED\\x1b]0;pwned\\x07');
  });

  it('keeps numbers and bytes exactly as written', async () => {
    const result = await runMq(['publish', 'demo.event', '-', '--dry-run', '--json'], {
      env: isolatedEnv(),
      cwd: '/',
      stdin: '{"a":1.0,"n":12345678901234567890}',
    });
    expect(onlyLine(result.stdout)).toMatchObject({
      body: '{"a":1.0,"n":12345678901234567890}',
      bodyEncoding: 'utf8',
    });
  });
});
