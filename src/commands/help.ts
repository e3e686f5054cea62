import { Command } from 'commander';
import { NotFoundError } from '../errors.js';
import type { Factory } from '../factory.js';

/** Exit codes are public API; this page and README.md list the same table. */
export const EXIT_CODES_PAGE = `Exit codes

  0    success (an empty result is success)
  1    error, including a queue, topic or context that does not exist
  2    usage or invalid input, or a refusal under a safety rule (the browse rule,
       --reject without a dead-letter exchange); nothing was sent or changed
  3    cannot connect, authenticate or negotiate TLS, or never connected before
       --connect-timeout
  4    partial failure: some messages not confirmed, unroutable, or not moved
  5    timeout: --count or an expectation not met by --timeout (without --count,
       reaching --timeout is success)
  130  interrupted: Ctrl-C during consume, redrive or a prompt (Ctrl-C during
       tail or peek is a normal end, exit 0)

With --json, errors are printed to stderr as one line:
  {"error":{"code":"…","message":"…"}}
where code is one of usage, invalid_input, not_found, connect, refused,
partial, timeout, interrupted, internal.
`;

export const ENVIRONMENT_PAGE = `Environment variables

  MQ_BROKER        broker URL, used when neither --broker nor --context is given
                   (local, local:<dir>, amqp[s]://user:pass@host:5672/vhost,
                   kafka[+ssl]://host:9092[,host:9092])
  MQ_CONTEXT       context name, used when MQ_BROKER is not set
  MQ_CONFIG        the user config file with contexts
                   (default $XDG_CONFIG_HOME/mq/config.json, else ~/.config/mq/config.json)
  MQ_HOME          the embedded broker's directory
                   (default $XDG_DATA_HOME/mq, else ~/.local/share/mq)
  MQ_NO_INPUT      set to 1 to never prompt (as --no-input)
  MQ_DEBUG         set to 1 to print stack traces and causes (credentials stay redacted)
  MQ_FORCE_TTY     set to 1 to format stdout as if it were a terminal
  NO_COLOR         disable colour (https://no-color.org)
  FORCE_COLOR      force colour on (1) or off (0)
  CI               when set (and not "false" or "0"), prompts are off, as with --no-input
  XDG_CONFIG_HOME, XDG_DATA_HOME
                   base directories for the user config and the embedded broker

Broker choice, first that applies: --broker, --context, MQ_BROKER, MQ_CONTEXT,
the current context of the user config, the embedded local broker.

Context passwords may be written as \${VAR} references, expanded from the
environment when the context is used.
`;

const TOPICS: Record<string, string> = {
  'exit-codes': EXIT_CODES_PAGE,
  environment: ENVIRONMENT_PAGE,
};

export function newHelpCommand(f: Factory, root: Command): Command {
  return new Command('help')
    .summary('show help for a command or a topic (exit-codes, environment)')
    .argument(
      '[topic...]',
      'a command path (publish, context add) or a topic: exit-codes, environment',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq help exit-codes\n  $ mq help environment\n  $ mq help context add',
    )
    .action((topic: string[]) => {
      const [first] = topic;
      if (first === undefined) {
        f.io.out.write(root.helpInformation());
        return;
      }
      const page = TOPICS[first];
      if (page !== undefined && topic.length === 1) {
        f.io.out.write(page);
        return;
      }
      let command = root;
      for (const name of topic) {
        const next = command.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!next) {
          throw new NotFoundError(`no help for "${topic.join(' ')}"`, {
            hint: `topics: ${Object.keys(TOPICS).join(', ')}; commands: ${root.commands.map((c) => c.name()).join(', ')}`,
          });
        }
        command = next;
      }
      f.io.out.write(command.helpInformation());
    });
}
