import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { MQ_BIN, REPO_ROOT } from './cli.js';

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * `mq` running in a real pseudo-terminal (tmux, on its own server socket), driven by keystrokes
 * and read off the screen, as a person would use it. CI=true is removed for the driven process
 * only, so its prompts are on.
 */
export class TerminalSession {
  private readonly socket = `mq-test-${randomUUID().slice(0, 8)}`;
  private readonly session = 'mq';
  readonly exitFile: string;

  constructor(args: readonly string[], env: Record<string, string>, exitFile: string) {
    this.exitFile = exitFile;
    const assignments = Object.entries({ ...env, NO_COLOR: '1' }).map(
      ([key, value]) => `${key}=${shellQuote(value)}`,
    );
    const command =
      `cd ${shellQuote(REPO_ROOT)} && env -u CI ${assignments.join(' ')} ${shellQuote(process.execPath)} ` +
      `${shellQuote(MQ_BIN)} ${args.map(shellQuote).join(' ')}; echo $? > ${shellQuote(exitFile)}; sleep 30`;
    this.tmux('new-session', '-d', '-s', this.session, '-x', '160', '-y', '50', command);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session, '-S', '-200');
  }

  /** Waits until the screen shows `pattern` `times` times (prompts repeat on one screen). */
  async waitFor(pattern: RegExp, times = 1, timeoutMs = 15_000): Promise<string> {
    const global = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
    const started = Date.now();
    for (;;) {
      const screen = this.screen();
      if ((screen.match(global)?.length ?? 0) >= times) return screen;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`screen never showed ${String(pattern)} ×${times}:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  /** The pid of the mq process in the pane (the shell's child). */
  mqPid(): number {
    const shell = this.tmux('display-message', '-p', '-t', this.session, '#{pane_pid}').trim();
    const child = execFileSync('pgrep', ['-P', shell, '-f', MQ_BIN], { encoding: 'utf8' })
      .trim()
      .split('\n')[0];
    return Number(child);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}
