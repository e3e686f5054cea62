import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerAdapter, InboundMessage } from '../../../../src/brokers/types.js';
import { uniqueName } from '../../../helpers/brokers.js';
import { ChildBroker, openBroker, project, temporaryDirectory } from './helpers.js';

/** What the contract suite cannot show: several processes sharing one broker directory. */
describe('local broker: several processes', () => {
  const scratch = temporaryDirectory('mq-local-processes-');
  const dataDir = join(scratch.path, 'data');
  const queue = uniqueName('shared');
  let children: ChildBroker;
  let broker: BrokerAdapter;

  beforeAll(async () => {
    children = ChildBroker.build(scratch.path);
    broker = await openBroker(dataDir, project([{ name: queue }]));
  });

  afterAll(async () => {
    await broker.close();
    scratch.remove();
  });

  async function takeAll(count: number, timeoutMs = 10_000): Promise<InboundMessage[]> {
    const seen: InboundMessage[] = [];
    const signal = AbortSignal.timeout(timeoutMs);
    for await (const delivery of broker.consume(queue, { signal })) {
      seen.push(delivery.message);
      await delivery.ack();
      if (seen.length === count) break;
    }
    return seen;
  }

  it('gives a message back at once when the process holding its lease is killed', async () => {
    await broker.publish({ kind: 'queue', queue }, [
      { body: Buffer.from('held'), properties: { messageId: 'held-by-child' } },
    ]);
    const child = children.spawn(dataDir, 'lease', queue);
    expect(await child.line()).toBe('leased held-by-child');
    const info = await broker.inspection!.describe(queue);
    expect(info).toMatchObject({ ready: 0, unacked: 1, consumers: 1 });

    child.process.kill('SIGKILL');
    await child.exited;
    const started = performance.now();
    const [back] = await takeAll(1);
    // Far below the 60 s lease: the holder's pid is gone, so the lease is void.
    expect(performance.now() - started).toBeLessThan(1_000);
    // A holder that died counts a delivery, as a closed channel does on RabbitMQ.
    expect(back).toMatchObject({ id: 'held-by-child', redelivered: true, deliveryCount: 1 });
    expect(await broker.inspection!.describe(queue)).toMatchObject({ consumers: 0 });
  });

  it('consumes in order while another process publishes', async () => {
    const count = 200;
    const child = children.spawn(dataDir, 'publish', queue, count);
    const seen = await takeAll(count);
    expect(await child.line()).toBe(`published ${count}`);
    expect(await child.exited).toBe(0);
    expect(seen.map((m) => m.id)).toEqual(Array.from({ length: count }, (_, i) => `m-${i}`));
    expect(seen.map((m) => Buffer.from(m.body).toString())).toEqual(
      Array.from({ length: count }, (_, i) => String(i)),
    );
  });

  it('forgets the tap of a tail whose process was killed', async () => {
    const child = children.spawn(dataDir, 'tail', queue, 1);
    expect(await child.line()).toBe('ready');
    child.process.kill('SIGKILL');
    await child.exited;
    await broker.publish({ kind: 'queue', queue }, [
      { body: Buffer.from('after'), properties: { messageId: 'after-tail' } },
    ]);
    const db = new Database(join(dataDir, 'mq.db'), { readonly: true });
    const taps = db.prepare('SELECT count(*) FROM taps').pluck().get();
    const copies = db.prepare('SELECT count(*) FROM tap_messages').pluck().get();
    db.close();
    expect({ taps, copies }).toEqual({ taps: 0, copies: 0 });
    expect((await takeAll(1)).map((m) => m.id)).toEqual(['after-tail']);
  });

  it('lets another process tail what this one publishes, leaving the queue its messages', async () => {
    const child = children.spawn(dataDir, 'tail', queue, 2);
    expect(await child.line()).toBe('ready');
    await broker.publish({ kind: 'queue', queue }, [
      { body: Buffer.from('a'), properties: { messageId: 'tailed-a' } },
      { body: Buffer.from('b'), properties: { messageId: 'tailed-b' } },
    ]);
    expect([await child.line(), await child.line()]).toEqual(['seen tailed-a', 'seen tailed-b']);
    expect(await child.exited).toBe(0);
    expect((await takeAll(2)).map((m) => m.id)).toEqual(['tailed-a', 'tailed-b']);
  });
});
