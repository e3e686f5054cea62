/**
 * bin/load-cli.js: the bundle's compiled code is cached in the user's cache directory, privately,
 * and a cache that is missing, corrupt or switched off never changes what mq does.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runMq } from '../helpers/cli.js';

const FIXTURE = 'fixtures/order.placed.json';

function cacheHome() {
  const home = mkdtempSync(join(tmpdir(), 'mq-cache-'));
  return { home, directory: join(home, 'mq', 'compile-cache') };
}

/** The same command's output on every run, whatever state the cache is in. */
const dryRun = (env: Record<string, string>) =>
  runMq(['publish', 'order.placed', FIXTURE, '--dry-run', '--json'], {
    env: { ...isolatedEnv(), ...env },
  });

describe('the compile cache', () => {
  it('is written on the first run, private to the user, and read on the next', async () => {
    const { home, directory } = cacheHome();
    const first = await dryRun({ XDG_CACHE_HOME: home });
    expect(first.code).toBe(0);
    const files = readdirSync(directory);
    expect(files).toEqual([expect.stringMatching(/^main-[0-9a-f]{16}-v[\d.]+-\w+\.v8$/)]);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    const file = join(directory, files[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = statSync(file).mtimeMs;

    const second = await dryRun({ XDG_CACHE_HOME: home });
    expect(second).toMatchObject({ code: 0, stderr: first.stderr });
    expect(JSON.parse(second.stdout)).toMatchObject({
      exchange: 'order_events',
      routingKey: 'order.placed',
    });
    // Accepted as it was: not written again.
    expect(statSync(file).mtimeMs).toBe(written);
  });

  it('caches kafkajs apart, only for a command that loads it, and reads it back', async () => {
    const { home, directory } = cacheHome();
    expect((await dryRun({ XDG_CACHE_HOME: home })).code).toBe(0);
    expect(readdirSync(directory)).toEqual([expect.stringMatching(/^main-/)]);
    // Nothing listens on port 1: the adapter loads kafkajs, and connecting fails at once.
    const unreachable = () =>
      runMq(['--broker', 'kafka://127.0.0.1:1', '--connect-timeout', '1s', 'ls'], {
        env: { ...isolatedEnv(), XDG_CACHE_HOME: home },
      });
    const first = await unreachable();
    expect(first.code).toBe(3);
    const vendor = readdirSync(directory).find((name) => name.startsWith('kafkajs-'));
    expect(vendor).toMatch(/^kafkajs-[0-9a-f]{16}-v[\d.]+-\w+\.v8$/);
    const file = join(directory, vendor!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = statSync(file).mtimeMs;
    const second = await unreachable();
    expect(second).toMatchObject({ code: 3, stderr: first.stderr });
    expect(statSync(file).mtimeMs).toBe(written);
  });

  it('replaces a corrupt cache and runs as if there were none', async () => {
    const { home, directory } = cacheHome();
    expect((await dryRun({ XDG_CACHE_HOME: home })).code).toBe(0);
    const file = join(directory, readdirSync(directory)[0]!);
    writeFileSync(file, 'not V8 code cache data');
    const run = await dryRun({ XDG_CACHE_HOME: home });
    expect(run.code).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(1000);
  });

  it('is neither read nor written with NODE_DISABLE_COMPILE_CACHE=1', async () => {
    const { home, directory } = cacheHome();
    const run = await dryRun({ XDG_CACHE_HOME: home, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(run.code).toBe(0);
    expect(() => readdirSync(directory)).toThrow(/ENOENT/);
  });

  it('is not kept in the working directory when the base directory is relative or empty', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mq-cache-cwd-'));
    for (const env of [{ XDG_CACHE_HOME: 'relative' }, { XDG_CACHE_HOME: '', HOME: '' }]) {
      const run = await runMq(
        ['publish', 'order.placed', join(process.cwd(), FIXTURE), '--dry-run'],
        {
          cwd,
          env: { ...isolatedEnv(), ...env },
        },
      );
      expect(run.code).toBe(0);
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('costs nothing but time when it cannot be written', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mq-cache-'));
    // A file where the cache directory should be.
    writeFileSync(join(home, 'mq'), '');
    const run = await dryRun({ XDG_CACHE_HOME: home });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^dry run: 1 message\(s\) would go to exchange order_events/);
    expect(run.stderr.split('\n')).toHaveLength(2);
  });
});
