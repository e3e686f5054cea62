import type { BrokerAdapter } from './brokers/types.js';
import { ExitCode } from './errors.js';
import { resolveBroker, type BrokerChoice } from './config/resolve-broker.js';
import { readUserConfig, userConfigPath, type UserConfig } from './config/user-config.js';
import type { ProjectFile } from './config/project-file.js';
import { inquirerPrompter, type Prompter } from './io/prompter.js';
import { systemIO, type IOStreams } from './io/streams.js';

/** Flags every command accepts, parsed by the root command. */
export interface GlobalOptions {
  broker?: string;
  context?: string;
  config?: string;
  managementUrl?: string;
  /** Skip TLS certificate verification, whatever the context says. */
  insecure?: boolean;
  /** Milliseconds. */
  connectTimeout: number;
}

/**
 * The dependencies a command may use, each built on first use so that `--help` and flag errors
 * never read config files, load drivers or connect (cli/cli's cmdutil.Factory).
 */
export interface Factory {
  readonly io: IOStreams;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Aborted by Ctrl-C; long-running commands stop on it. */
  readonly signal: AbortSignal;
  readonly prompter: Prompter;
  /** True once a command was asked for `--json`: errors are then printed as JSON too. */
  json: boolean;
  /** Set by the root command before any command runs. */
  globals: GlobalOptions;
  userConfigPath(): string;
  userConfig(): Promise<UserConfig>;
  brokerChoice(): Promise<BrokerChoice>;
  /** The project file (`--config`, else found by walking up from the working directory), or null. */
  project(): Promise<ProjectFile | null>;
  /** The chosen broker, connected. Closed by `closeBrokers()` when the command ends. */
  broker(): Promise<BrokerAdapter>;
  closeBrokers(): Promise<void>;
}

export interface FactoryOptions {
  io?: IOStreams;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  prompter?: Prompter;
  argv?: readonly string[];
}

function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= build());
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Ctrl-C aborts this signal so that commands can stop cleanly (release what they hold, say what
 * was done); each command decides whether that is a normal end (tail, peek) or an interruption
 * (consume, redrive). A second Ctrl-C does not wait.
 */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.exit(name === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted);
    }
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

export function createFactory(options: FactoryOptions = {}): Factory {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const io = options.io ?? systemIO(options.argv ?? process.argv, env);
  const opened: BrokerAdapter[] = [];
  let prompter = options.prompter;

  const factory: Factory = {
    io,
    env,
    cwd,
    signal: options.signal ?? interruptSignal(),
    get prompter() {
      return (prompter ??= inquirerPrompter(io));
    },
    json: false,
    globals: { connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS },
    userConfigPath: () => userConfigPath(env),
    userConfig: once(() => readUserConfig(userConfigPath(env))),
    brokerChoice: once(() => resolveBroker(factory.globals, env, cwd, () => factory.userConfig())),
    project: once(async () => {
      const { findProjectFile, loadProjectFile } = await import('./config/project-file.js');
      const path = factory.globals.config ?? (await findProjectFile(cwd));
      return path === null ? null : loadProjectFile(path);
    }),
    broker: once(async () => {
      const { openBroker } = await import('./brokers/open.js');
      const choice = await factory.brokerChoice();
      const adapter = await openBroker(choice.spec, {
        connectTimeoutMs: factory.globals.connectTimeout,
        project: await factory.project(),
      });
      opened.push(adapter);
      await adapter.connect();
      // Which node of several answered is worth a line: the others may be down.
      if (adapter.connectedTo) io.notice(io.colors.dim(`connected to ${adapter.connectedTo}`));
      return adapter;
    }),
    async closeBrokers() {
      await Promise.allSettled(opened.splice(0).map((adapter) => adapter.close()));
    },
  };
  return factory;
}
