/** Exit codes are public API (DESIGN.md §5): changing one is a breaking change. */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  Connection: 3,
  Partial: 4,
  Timeout: 5,
  Interrupted: 130,
  /** An interruption by SIGTERM, as shells report it (128 + 15). */
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The `code` of a `--json` error object (DESIGN.md §4). */
export type ErrorCode =
  | 'usage'
  | 'invalid_input'
  | 'not_found'
  | 'connect'
  | 'refused'
  | 'partial'
  | 'timeout'
  | 'interrupted'
  | 'unsupported'
  | 'internal';

export interface MqErrorOptions {
  cause?: unknown;
  hint?: string;
}

/** Every failure the CLI reports on purpose. `main.ts` maps these to exit codes, nothing else does. */
export class MqError extends Error {
  readonly exitCode: ExitCode = ExitCode.Error;
  readonly code: ErrorCode = 'internal';
  readonly hint: string | undefined;

  constructor(message: string, options: MqErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Wrong flags or arguments. */
export class UsageError extends MqError {
  override readonly exitCode = ExitCode.Usage;
  override readonly code = 'usage';
}

/** A position in a file the user gave us, for the compiler-style `<file>:<line>:<col>:` form. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** Bad content in a file or argument: a fixture, a project file, a filter. Nothing was sent. */
export class InputError extends MqError {
  override readonly exitCode = ExitCode.Usage;
  override readonly code = 'invalid_input';
  readonly position: SourcePosition | undefined;

  constructor(message: string, options: MqErrorOptions & { position?: SourcePosition } = {}) {
    super(message, options);
    this.position = options.position;
  }
}

/** A safety rule said no (the browse rule, a reject without a dead-letter exchange). */
export class RefusedError extends MqError {
  override readonly exitCode = ExitCode.Usage;
  override readonly code = 'refused';
}

/** A queue, topic, context or message that does not exist. */
export class NotFoundError extends MqError {
  override readonly code = 'not_found';
}

/** Cannot connect, authenticate or negotiate TLS, or never connected before the deadline. */
export class ConnectError extends MqError {
  override readonly exitCode = ExitCode.Connection;
  override readonly code = 'connect';
}

/** Some messages were not confirmed, were unroutable, or were not moved. */
export class PartialError extends MqError {
  override readonly exitCode = ExitCode.Partial;
  override readonly code = 'partial';
}

/** `--count` or an expectation not met by `--timeout`. */
export class TimeoutError extends MqError {
  override readonly exitCode = ExitCode.Timeout;
  override readonly code = 'timeout';
}

/** Ctrl-C where stopping early is not a normal end (consume, redrive, a prompt). */
export class InterruptedError extends MqError {
  override readonly exitCode = ExitCode.Interrupted;
  override readonly code = 'interrupted';

  constructor(message = 'interrupted') {
    super(message);
  }
}

/** A broker that cannot do what was asked (a capability it lacks, a plugin it does not run). */
export class UnsupportedError extends MqError {
  override readonly code = 'unsupported';
}
