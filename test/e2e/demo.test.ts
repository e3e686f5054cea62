import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';

describe('mq demo', () => {
  it('tells the whole story on a throwaway embedded broker, exits 0 and leaves nothing behind', async () => {
    const demo = await runMq(['demo'], { env: isolatedEnv() });
    expect(demo.code).toBe(0);
    const home = /throwaway embedded broker in (\S+)/.exec(demo.stdout)?.[1];
    expect(home).toBeDefined();
    expect(existsSync(home!)).toBe(false);
    // The story, step by step: one order, three copies, a dead letter, a redrive, the bench.
    expect(demo.stderr).toMatch(/published 1\/1 to exchange order_events/);
    expect(demo.stderr).toMatch(/sms_service_queue: requeue 1[\s\S]*sms_service_queue: requeue 1/);
    expect(demo.stdout).toMatch(
      /delivery_limit\t1\tsms_service_queue ← order_events order\.placed/,
    );
    expect(demo.stderr).toMatch(
      /moved 1 of sms_service_queue\.dlq \(1 to queue sms_service_queue\)/,
    );
    expect(demo.stderr).toMatch(/sms_service_queue: ack 1/);
    expect(demo.stdout).toMatch(/^completed\t50\t50$/m);
    expect(demo.stdout).toMatch(/That is the story/);
  });

  it('--json: the steps as one JSON document on stdout, everything else on stderr', async () => {
    const demo = await runMq(['demo', '--json'], { env: isolatedEnv() });
    expect(demo.code).toBe(0);
    const { broker, steps } = JSON.parse(demo.stdout) as {
      broker: string;
      steps: { command: string; exitCode: number }[];
    };
    expect(broker).toBe('local');
    expect(steps.map((step) => step.exitCode)).toEqual(steps.map(() => 0));
    expect(steps.map((step) => step.command)).toContain('mq dlq redrive sms_service_queue --yes');
    expect(demo.stderr).toMatch(/That is the story/);
  });
});
