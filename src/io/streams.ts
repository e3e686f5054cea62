import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { truthy } from '../env.js';
import { createColors, type Colors } from './colors.js';

/**
 * All terminal I/O goes through one of these (cli/cli's iostreams): stdout carries data only,
 * chatter and prompts go to stderr, and decorations appear only where a person is watching.
 */
export interface IOStreams {
  readonly in: Readable;
  readonly out: Writable;
  readonly err: Writable;
  isStdinTTY(): boolean;
  isStdoutTTY(): boolean;
  isStderrTTY(): boolean;
  /** Level 0 when colour is off. */
  readonly colors: Colors;
  /** Stdin and stdout are terminals and prompts are not disabled (`--no-input`, `MQ_NO_INPUT`, `CI`). */
  canPrompt(): boolean;
  /** Stderr, on a terminal only: chatter a script does not want. */
  status(line: string): void;
  /** Stderr, always: `ready:` lines, warnings, summaries. */
  notice(line: string): void;
  /** A spinner on a terminal; the bare task anywhere else, so logs get no spinner frames. */
  withSpinner<T>(label: string, task: () => Promise<T>): Promise<T>;
}

export interface IOSettings {
  stdinTTY: boolean;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  color: boolean;
  prompts: boolean;
}

export interface StdStreams {
  in: Readable;
  out: Writable;
  err: Writable;
}

export function createIO(settings: IOSettings, std: StdStreams): IOStreams {
  const colors = createColors(settings.color);
  return {
    // Read on use: touching process.stdin creates its stream, which most commands never need.
    get in() {
      return std.in;
    },
    out: std.out,
    err: std.err,
    isStdinTTY: () => settings.stdinTTY,
    isStdoutTTY: () => settings.stdoutTTY,
    isStderrTTY: () => settings.stderrTTY,
    colors,
    canPrompt: () => settings.prompts && settings.stdinTTY && settings.stdoutTTY,
    status(line) {
      if (settings.stderrTTY) std.err.write(`${line}\n`);
    },
    notice(line) {
      std.err.write(`${line}\n`);
    },
    async withSpinner(label, task) {
      if (!settings.stderrTTY) return task();
      const { default: ora } = await import('ora');
      const spinner = ora({ text: label, stream: std.err, color: 'cyan' }).start();
      try {
        return await task();
      } finally {
        spinner.stop();
      }
    },
  };
}

export function systemIO(
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): IOStreams {
  // A reader that stops early (`mq tail … | head`) is a normal end, not a crash (gh does the same).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exitCode = 0;
    process.stdout.destroy();
  });
  const stdoutTTY = Boolean(process.stdout.isTTY) || truthy(env.MQ_FORCE_TTY);
  // Colour is settled before argument parsing, so --no-color is looked for here directly.
  const color =
    argv.includes('--no-color') || (env.NO_COLOR ?? '') !== ''
      ? false
      : env.FORCE_COLOR !== undefined
        ? truthy(env.FORCE_COLOR)
        : stdoutTTY;
  return createIO(
    {
      stdinTTY: isatty(0),
      stdoutTTY,
      stderrTTY: Boolean(process.stderr.isTTY),
      color,
      prompts: !argv.includes('--no-input') && !truthy(env.MQ_NO_INPUT) && !truthy(env.CI),
    },
    {
      get in() {
        return process.stdin;
      },
      out: process.stdout,
      err: process.stderr,
    },
  );
}
