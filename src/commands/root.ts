import { Command, Option } from 'commander';
import type { Factory, GlobalOptions } from '../factory.js';
import { parseDuration } from '../config/parse-args.js';
import { mqVersion } from '../version.js';
import { newBenchCommand } from './bench.js';
import { newContextCommand } from './context/index.js';
import { newDemoCommand } from './demo.js';
import { newHelpCommand } from './help.js';
import { newConsumeCommand } from './consume.js';
import { newDescribeCommand } from './describe.js';
import { newDlqCommand } from './dlq/index.js';
import { newExpectCommand } from './expect.js';
import { newGroupsCommand } from './groups.js';
import { newLsCommand } from './ls.js';
import { newOffsetsCommand } from './offsets.js';
import { newPeekCommand } from './peek.js';
import { newPublishCommand } from './publish.js';
import { newTailCommand } from './tail.js';
import { newTopologyCommand } from './topology/index.js';

/** Commands that never talk to a broker: they validate explicit broker flags but do not resolve one. */
const BROKERLESS = new Set(['context', 'help']);

/** Every subcommand but `help`, which needs the whole tree, in the order `mq --help` lists them. */
const SUBCOMMANDS: Record<string, (f: Factory) => Command> = {
  publish: newPublishCommand,
  peek: newPeekCommand,
  tail: newTailCommand,
  consume: newConsumeCommand,
  expect: newExpectCommand,
  ls: newLsCommand,
  describe: newDescribeCommand,
  groups: newGroupsCommand,
  offsets: newOffsetsCommand,
  dlq: newDlqCommand,
  topology: newTopologyCommand,
  context: newContextCommand,
  bench: newBenchCommand,
  demo: newDemoCommand,
};

/** The root options that take a value, so that the value is not taken for a subcommand name. */
const VALUED_ROOT_OPTIONS = new Set([
  '-b',
  '--broker',
  '-c',
  '--context',
  '--config',
  '--management-url',
  '--connect-timeout',
]);

/** The subcommand `argv` runs, when it names one of SUBCOMMANDS; null for help, typos and none. */
function invokedSubcommand(args: readonly string[]): string | null {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (VALUED_ROOT_OPTIONS.has(arg)) index += 1;
    else if (!arg.startsWith('-')) return Object.hasOwn(SUBCOMMANDS, arg) ? arg : null;
  }
  return null;
}

/**
 * The command tree. Given the arguments, only the subcommand they run is built: building every
 * command's options and help is most of the start-up of a one-shot `mq publish`. Without them,
 * or for `help`, a typo or nothing, the whole tree is built, for listings and suggestions.
 */
export function newRootCommand(f: Factory, args?: readonly string[]): Command {
  const program = new Command('mq')
    .description(
      'Produce, consume and inspect messages on RabbitMQ, Kafka and an embedded local broker',
    )
    .version(mqVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(
      new Option(
        '-b, --broker <url>',
        'broker URL: local[:dir], amqp[s]://…, kafka[+ssl]://… (env: MQ_BROKER)',
      ),
    )
    .addOption(
      new Option('-c, --context <name>', 'named connection from the user config (env: MQ_CONTEXT)'),
    )
    .addOption(
      new Option(
        '--config <file>',
        'project file (default: mq.config.json found upwards from here)',
      ),
    )
    .addOption(
      new Option('--management-url <url>', 'RabbitMQ management API (default http://<host>:15672)'),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'give up connecting after this long')
        .default(10_000, '10s')
        .argParser(parseDuration),
    )
    .option('--insecure', 'skip TLS certificate verification (a test broker only)')
    .option('--no-color', 'disable colour (env: NO_COLOR)')
    .option('--no-input', 'never prompt (env: MQ_NO_INPUT, CI)')
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  $ mq publish order.placed fixtures/order.placed.json --dry-run --json
  $ mq --broker amqp://guest:guest@localhost publish order.placed fixtures/order.placed.json
  $ mq context add prod amqp://app@rabbit.internal/orders --password-env RABBIT_PASSWORD
  $ mq help exit-codes

With no broker chosen, mq uses the embedded local broker: no server needed.`,
    );

  // Before the subcommand parses its own arguments, so a bad --broker, --context or --config is
  // the error reported, whatever else is wrong.
  program.hook('preSubcommand', async (_root, subcommand) => {
    const flags = program.opts<GlobalOptions & { color: boolean; input: boolean }>();
    f.globals = {
      connectTimeout: flags.connectTimeout,
      ...(flags.broker === undefined ? {} : { broker: flags.broker }),
      ...(flags.context === undefined ? {} : { context: flags.context }),
      ...(flags.config === undefined ? {} : { config: flags.config }),
      ...(flags.managementUrl === undefined ? {} : { managementUrl: flags.managementUrl }),
      ...(flags.insecure === true ? { insecure: true } : {}),
    };
    const usesBroker = !BROKERLESS.has(subcommand.name());
    if (usesBroker || flags.broker !== undefined || flags.context !== undefined) {
      const choice = await f.brokerChoice();
      if (usesBroker) f.io.status(f.io.colors.dim(`using ${choice.spec.display}`));
    }
    if (flags.config !== undefined) await f.project();
  });

  const only = args === undefined ? null : invokedSubcommand(args);
  if (only !== null) {
    program.addCommand(SUBCOMMANDS[only]!(f));
  } else {
    for (const build of Object.values(SUBCOMMANDS)) program.addCommand(build(f));
    program.addCommand(newHelpCommand(f, program));
  }

  configureEverywhere(program, f);
  return program;
}

/** `addCommand()` does not pass exitOverride or output settings down (commander 14), so set them on every node. */
function configureEverywhere(command: Command, f: Factory): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => f.io.out.write(text),
    writeErr: (text) => f.io.err.write(text),
    // main.ts prints parse errors itself, in the one error format.
    outputError: () => {},
  });
  for (const child of command.commands) configureEverywhere(child, f);
}
