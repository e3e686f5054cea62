import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const MQ_BIN = join(REPO_ROOT, 'bin', 'mq.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string | Buffer;
  nodeArgs?: string[];
}

/** A private MQ_HOME and MQ_CONFIG, so a test never sees the user's brokers or contexts. */
export function isolatedEnv(): { MQ_HOME: string; MQ_CONFIG: string } {
  const home = mkdtempSync(join(tmpdir(), 'mq-test-'));
  return { MQ_HOME: join(home, 'data'), MQ_CONFIG: join(home, 'config.json') };
}

/** A CLI process still running: wait for a line on stderr (`ready: …`), then for its end. */
export interface RunningMq {
  pid: number;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

/** Runs the built CLI (`node bin/mq.js`) as users and CI scripts do, with prompts off (CI=true). */
export function runMq(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startMq(args, options).done;
}

export function startMq(args: readonly string[], options: CliOptions = {}): RunningMq {
  const env: Record<string, string | undefined> = {
    ...process.env,
    CI: 'true',
    NO_COLOR: '1',
    MQ_BROKER: undefined,
    MQ_CONTEXT: undefined,
    MQ_DEBUG: undefined,
    ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MQ_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const stderrText = () => Buffer.concat(stderr).toString('utf8');
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: stderrText(),
      }),
    );
  });
  child.stdin.end(options.stdin ?? '');
  return {
    pid: child.pid ?? -1,
    done,
    waitForStderr(pattern, timeoutMs = 15_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          if (!pattern.test(stderrText())) return false;
          cleanup();
          resolvePromise();
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no ${String(pattern)} on stderr within ${timeoutMs} ms; stderr: ${stderrText()}`,
            ),
          );
        }, timeoutMs);
        const onEnd = () => {
          if (check()) return;
          cleanup();
          reject(
            new Error(
              `exited before ${String(pattern)} appeared on stderr; stderr: ${stderrText()}`,
            ),
          );
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stderr.off('data', check);
          child.off('close', onEnd);
        };
        if (check()) return;
        child.stderr.on('data', check);
        child.on('close', onEnd);
      });
    },
  };
}
