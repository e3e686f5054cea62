import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { openLocal } from '../../../../src/brokers/local/index.js';
import type { BrokerAdapter } from '../../../../src/brokers/types.js';
import type { ExchangeDecl, ProjectFile, QueueDecl } from '../../../../src/config/project-file.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..', '..');

export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function project(queues: QueueDecl[], exchanges: ExchangeDecl[] = []): ProjectFile {
  return { path: 'mq.config.json', exchanges, queues, topics: [], events: {} };
}

export async function openBroker(
  dataDir: string,
  projectFile: ProjectFile | null = null,
): Promise<BrokerAdapter> {
  const broker = openLocal(
    { kind: 'local', dataDir, display: `local:${dataDir}` },
    {
      project: projectFile,
    },
  );
  await broker.connect();
  return broker;
}

/**
 * A child `node` process driving the local broker, so a test can have a second process publish,
 * tail or hold a lease, and can kill it. The adapter is bundled from src/ with esbuild (tests
 * run TypeScript through vitest; a plain child process cannot), better-sqlite3 imported by its
 * absolute path so the bundle works from a temporary directory.
 */
const CHILD_SCRIPT = `
const [bundle, dataDir, mode, queue, count] = process.argv.slice(2);
const { openLocal } = await import(bundle);
const broker = openLocal({ kind: 'local', dataDir, display: dataDir }, { project: null });
await broker.connect();
const say = (line) => process.stdout.write(line + '\\n');
if (mode === 'lease') {
  // Take one message and hold it: the generator stays suspended, the lease stays in place.
  const deliveries = broker.consume(queue, { signal: new AbortController().signal })[Symbol.asyncIterator]();
  const first = await deliveries.next();
  say('leased ' + first.value.message.id);
  setInterval(() => {}, 60_000);
} else if (mode === 'publish') {
  for (let i = 0; i < Number(count); i += 1) {
    await broker.publish({ kind: 'queue', queue }, [
      { body: Buffer.from(String(i)), properties: { messageId: 'm-' + i } },
    ]);
  }
  await broker.close();
  say('published ' + count);
} else if (mode === 'tail') {
  let seen = 0;
  const signal = new AbortController().signal;
  for await (const message of broker.inspection.tail(queue, { signal, onReady: () => say('ready') })) {
    say('seen ' + message.id);
    if (++seen === Number(count)) break;
  }
  await broker.close();
}
`;

export interface Child {
  process: ChildProcessWithoutNullStreams;
  /** Resolves with the next stdout line (rejects if the child exits first). */
  line(): Promise<string>;
  exited: Promise<number | null>;
}

export class ChildBroker {
  private constructor(
    private readonly bundle: string,
    private readonly script: string,
  ) {}

  /** Children load the built adapter (`npm run build` makes it), as the CLI would. */
  static build(directory: string): ChildBroker {
    const script = join(directory, 'child.mjs');
    writeFileSync(script, CHILD_SCRIPT);
    return new ChildBroker(join(REPO_ROOT, 'dist', 'brokers', 'local', 'index.js'), script);
  }

  spawn(dataDir: string, mode: 'lease' | 'publish' | 'tail', queue: string, count = 0): Child {
    const child = spawn(
      process.execPath,
      [this.script, this.bundle, dataDir, mode, queue, String(count)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const stderr: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return {
      process: child,
      exited,
      async line() {
        const next = await lines.next();
        if (next.done) throw new Error(`child exited before writing a line: ${stderr.join('')}`);
        return next.value;
      },
    };
  }
}
