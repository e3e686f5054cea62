import { Command } from 'commander';
import { NotFoundError } from '../errors.js';
import type { Factory } from '../factory.js';
import { writeJson } from '../io/json.js';

/** A reference page: a few lines of prose around a table that `--json` prints as data. */
interface ReferencePage {
  title: string;
  entries: { name: string; meaning: string }[];
  notes: string;
}

/** Exit codes are public API; README.md lists the same table. */
const EXIT_CODES: ReferencePage = {
  title: 'Exit codes',
  entries: [
    { name: '0', meaning: 'success (an empty result is success)' },
    { name: '1', meaning: 'error, including a queue, topic or context that does not exist' },
    {
      name: '2',
      meaning:
        'usage or invalid input, or a refusal under a safety rule (the browse rule, --reject without a dead-letter exchange, offsets reset of a group with members); nothing was sent or changed',
    },
    {
      name: '3',
      meaning:
        'cannot connect, authenticate or negotiate TLS, or never connected before --connect-timeout',
    },
    {
      name: '4',
      meaning: 'partial failure: some messages not confirmed, unroutable, or not moved',
    },
    {
      name: '5',
      meaning:
        'timeout: --count or an expectation not met by --timeout (without --count, reaching --timeout is success)',
    },
    {
      name: '130',
      meaning:
        'interrupted: Ctrl-C during consume, redrive or a prompt (Ctrl-C during tail or peek is a normal end, exit 0)',
    },
    {
      name: '143',
      meaning: 'terminated: as 130, by SIGTERM (kill) instead of Ctrl-C',
    },
  ],
  notes: `With --json, errors are printed to stderr as one line:
  {"error":{"code":"…","message":"…"}}
where code is one of usage, invalid_input, not_found, connect, refused,
partial, timeout, interrupted, unsupported, internal.`,
};

const ENVIRONMENT: ReferencePage = {
  title: 'Environment variables',
  entries: [
    {
      name: 'MQ_BROKER',
      meaning:
        'broker URL, used when neither --broker nor --context is given (local, local:<dir>, amqp[s]://user:pass@host:5672/vhost, kafka[+ssl]://host:9092[,host:9092])',
    },
    { name: 'MQ_CONTEXT', meaning: 'context name, used when MQ_BROKER is not set' },
    {
      name: 'MQ_CONFIG',
      meaning:
        'the user config file with contexts (default $XDG_CONFIG_HOME/mq/config.json, else ~/.config/mq/config.json)',
    },
    {
      name: 'MQ_HOME',
      meaning:
        "the embedded broker's directory (default $XDG_DATA_HOME/mq, else ~/.local/share/mq)",
    },
    { name: 'MQ_NO_INPUT', meaning: 'set to 1 to never prompt (as --no-input)' },
    {
      name: 'MQ_DEBUG',
      meaning: 'set to 1 to print stack traces and causes (credentials stay redacted)',
    },
    { name: 'MQ_FORCE_TTY', meaning: 'set to 1 to format stdout as if it were a terminal' },
    { name: 'NO_COLOR', meaning: 'disable colour (https://no-color.org)' },
    { name: 'FORCE_COLOR', meaning: 'force colour on (1) or off (0)' },
    {
      name: 'CI',
      meaning: 'when set (and not "false" or "0"), prompts are off, as with --no-input',
    },
    { name: 'XDG_CONFIG_HOME', meaning: 'base directory for the user config' },
    { name: 'XDG_DATA_HOME', meaning: 'base directory for the embedded broker' },
    {
      name: 'XDG_CACHE_HOME',
      meaning:
        "base directory for mq's compiled-code cache (default ~/.cache; the cache is $XDG_CACHE_HOME/mq/compile-cache)",
    },
    {
      name: 'NODE_DISABLE_COMPILE_CACHE',
      meaning: 'set to 1 to compile mq afresh on every start instead of using the cache',
    },
  ],
  notes: `Broker choice, first that applies: --broker, --context, MQ_BROKER, MQ_CONTEXT,
the current context of the user config, the embedded local broker.

Context passwords may be written as \${VAR} references, expanded from the
environment when the context is used.`,
};

const TOPICS: Record<string, ReferencePage> = {
  'exit-codes': EXIT_CODES,
  environment: ENVIRONMENT,
};

function renderPage(page: ReferencePage): string {
  const width = Math.max(...page.entries.map((entry) => entry.name.length)) + 2;
  const rows = page.entries.map((entry) => `  ${entry.name.padEnd(width)}${entry.meaning}`);
  return `${page.title}\n\n${rows.join('\n')}\n\n${page.notes}\n`;
}

export function newHelpCommand(f: Factory, root: Command): Command {
  return new Command('help')
    .option('--json', 'print a topic\'s table as JSON: [{"name": …, "meaning": …}]', false)
    .summary('show help for a command or a topic (exit-codes, environment)')
    .argument(
      '[topic...]',
      'a command path (publish, context add) or a topic: exit-codes, environment',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ mq help exit-codes\n  $ mq help environment\n  $ mq help context add',
    )
    .action((topic: string[], flags: { json: boolean }) => {
      const [first] = topic;
      if (first === undefined) {
        f.io.out.write(root.helpInformation());
        return;
      }
      const page = TOPICS[first];
      if (page !== undefined && topic.length === 1) {
        if (flags.json) writeJson(f.io, page.entries);
        else f.io.out.write(renderPage(page));
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
