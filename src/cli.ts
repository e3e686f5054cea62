import { ExitCode, InputError, MqError, type ErrorCode } from './errors.js';
import type { Factory } from './factory.js';
import { redact } from './secrets.js';
import { truthy } from './env.js';

/**
 * Runs one mq invocation and returns its exit code. The one place where errors become exit codes
 * and error text (DESIGN.md §4): commands throw, nothing else prints an error or exits.
 */
export async function runCli(argv: readonly string[], factory?: Factory): Promise<number> {
  const args = argv.slice(2);
  const [{ createFactory }, { newRootCommand }] = await Promise.all([
    import('./factory.js'),
    import('./commands/root.js'),
  ]);
  const f = factory ?? createFactory({ argv });
  f.json ||= args.some(
    (arg) => arg === '--json' || arg === '--fields' || arg.startsWith('--fields='),
  );
  try {
    await newRootCommand(f, args).parseAsync([...argv]);
    return ExitCode.Ok;
  } catch (error) {
    return reportError(error, f);
  } finally {
    await f.closeBrokers();
  }
}

/** commander's parse errors, recognised without importing commander. */
function isCommanderError(error: unknown): error is Error & { exitCode: number; code: string } {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('commander.');
}

function reportError(error: unknown, f: Factory): number {
  // The reader went away (`mq peek … | head`): a normal end, as for gh.
  if ((error as NodeJS.ErrnoException | null)?.code === 'EPIPE') return ExitCode.Ok;
  if (isCommanderError(error)) {
    // --help, --version, and the help commander shows for `mq` or `mq context` alone.
    if (error.exitCode === 0 || error.code === 'commander.help') return ExitCode.Ok;
    const message = error.message.replace(/^error: /, '');
    printError(f, 'usage', message, 'run the command with --help to see its usage');
    return ExitCode.Usage;
  }
  if (error instanceof Error && error.name === 'ExitPromptError') {
    printError(f, 'interrupted', 'interrupted at a prompt; nothing was changed');
    return ExitCode.Interrupted;
  }
  if (error instanceof MqError) {
    const message =
      error instanceof InputError && error.position
        ? `${error.position.file}:${error.position.line}:${error.position.column}: ${error.message}`
        : error.message;
    printError(
      f,
      error.code,
      message,
      error.hint,
      error instanceof InputError && error.position !== undefined,
    );
    printDebug(f, error);
    if (error.exitCode === ExitCode.Interrupted && f.signal.reason === 'SIGTERM') {
      return ExitCode.Terminated;
    }
    return error.exitCode;
  }
  printError(
    f,
    'internal',
    `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    'rerun with MQ_DEBUG=1 for details, and report it',
  );
  printDebug(f, error);
  return ExitCode.Error;
}

/** One line (`error: …`, or the compiler form), an optional `hint:` line; JSON under --json. Always redacted. */
function printError(
  f: Factory,
  code: ErrorCode,
  message: string,
  hint?: string,
  compilerForm = false,
): void {
  const safeMessage = redact(message);
  if (f.json) {
    const body = { error: { code, message: safeMessage, ...(hint ? { hint: redact(hint) } : {}) } };
    f.io.err.write(`${JSON.stringify(body)}\n`);
    return;
  }
  const label = compilerForm ? '' : `${f.io.colors.red('error:')} `;
  f.io.err.write(
    `${label}${safeMessage}\n${hint ? `${f.io.colors.dim('hint:')} ${redact(hint)}\n` : ''}`,
  );
}

function printDebug(f: Factory, error: unknown): void {
  if (!truthy(f.env.MQ_DEBUG)) return;
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(current.stack ?? current.message);
    current = current.cause;
  }
  if (current !== undefined) parts.push(JSON.stringify(current) ?? 'undefined');
  f.io.err.write(`${redact(parts.join('\ncaused by: '))}\n`);
}
