import { Command, Option } from 'commander';
import { parseBrokerUrl, type TlsOptions } from '../../config/broker-url.js';
import { collect } from '../../config/parse-args.js';
import { writeUserConfig, type Context } from '../../config/user-config.js';
import { UsageError } from '../../errors.js';
import type { Factory } from '../../factory.js';
import { readAll } from '../../io/read-all.js';
import { registerSecret } from '../../secrets.js';
import { addJsonOptions, jsonChoice, type JsonChoice } from '../../io/json-fields.js';
import { CONTEXT_FIELDS, placeholderReferences, viewContext, writeContextJson } from './shared.js';

export interface ContextAddOptions {
  f: Factory;
  name: string;
  context: Context;
  passwordFromStdin: boolean;
  use: boolean;
  overwrite: boolean;
  json: JsonChoice;
}

interface AddFlags {
  passwordEnv?: string;
  passwordStdin: boolean;
  node?: string[];
  ca?: string;
  cert?: string;
  key?: string;
  insecure: boolean;
  use: boolean;
  force: boolean;
  json: boolean;
  fields?: string;
}

export function newContextAddCommand(f: Factory, runF = contextAddRun): Command {
  const command = new Command('add')
    .summary('save a named broker connection')
    .argument('<name>', 'context name')
    .argument(
      '<url>',
      'broker URL: amqp[s]://…, kafka[+ssl]://… or local[:dir] (may contain ${VAR} references)',
    )
    .option(
      '--password-env <var>',
      'take the password from this environment variable when used (stored as ${VAR})',
    )
    .option(
      '--password-stdin',
      'read the password from stdin and store it (the file is mode 0600)',
      false,
    )
    .option('--node <url>', 'a further RabbitMQ cluster node (repeatable)', collect)
    .option('--ca <file>', 'CA certificate (PEM) for TLS')
    .option('--cert <file>', 'client certificate (PEM) for TLS')
    .option('--key <file>', 'client key (PEM) for TLS')
    .option('--insecure', 'do not verify the server certificate', false)
    .option('--use', 'make it the current context', false)
    .addOption(new Option('--force', 'replace a context of the same name').default(false));
  return addJsonOptions(command, CONTEXT_FIELDS, 'print the saved context as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ mq context add dev amqp://guest:guest@localhost:5672/ --use
  $ mq context add prod amqp://app@rabbit-1.internal/orders --password-env RABBIT_PASSWORD \\
      --node amqp://app@rabbit-2.internal/orders
  $ printf '%s' "$PW" | mq context add events 'kafka://app@kafka:9094?sasl=scram-sha-256' --password-stdin`,
    )
    .action(async (name: string, url: string, flags: AddFlags) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
        throw new UsageError(`invalid context name "${name}"`, {
          hint: 'use letters, digits, ".", "_" and "-"',
        });
      }
      if (flags.passwordEnv !== undefined && flags.passwordStdin) {
        throw new UsageError('--password-env and --password-stdin cannot be used together');
      }
      if (flags.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.passwordEnv)) {
        throw new UsageError(`invalid environment variable name "${flags.passwordEnv}"`);
      }
      const tls: TlsOptions = {
        ...(flags.ca ? { ca: flags.ca } : {}),
        ...(flags.cert ? { cert: flags.cert } : {}),
        ...(flags.key ? { key: flags.key } : {}),
        // The root command takes --insecure too, wherever it stands on the line.
        ...(flags.insecure || f.globals.insecure === true ? { insecure: true } : {}),
      };
      const context: Context = {
        broker: url,
        ...(flags.passwordEnv ? { password: `\${${flags.passwordEnv}}` } : {}),
        ...(flags.node ? { nodes: flags.node } : {}),
        // The global --management-url (parsed by the root command) is saved with the context.
        ...(f.globals.managementUrl ? { managementUrl: f.globals.managementUrl } : {}),
        ...(Object.keys(tls).length > 0 ? { tls } : {}),
      };
      const laterPassword = flags.passwordEnv !== undefined || flags.passwordStdin;
      const checkOptions = { env: f.env, cwd: f.cwd, ...(laterPassword ? { password: 'x' } : {}) };
      // Checked now, with ${VAR} parts stood in for, so a typo fails here and not at first use.
      parseBrokerUrl(placeholderReferences(url), checkOptions);
      for (const node of flags.node ?? [])
        parseBrokerUrl(placeholderReferences(node), checkOptions);
      await runF({
        f,
        name,
        context,
        passwordFromStdin: flags.passwordStdin,
        use: flags.use,
        overwrite: flags.force,
        json: jsonChoice(flags, CONTEXT_FIELDS),
      });
    });
}

export async function contextAddRun(opts: ContextAddOptions): Promise<void> {
  const { f, name } = opts;
  const config = await f.userConfig();
  if (config.contexts[name] && !opts.overwrite) {
    throw new UsageError(`a context named "${name}" already exists`, {
      hint: 'pass --force to replace it',
    });
  }
  const context = { ...opts.context };
  if (opts.passwordFromStdin) {
    const password = (await readAll(f.io.in)).toString('utf8').replace(/\r?\n$/, '');
    if (password === '') throw new UsageError('--password-stdin read an empty password');
    registerSecret(password);
    context.password = password;
  }
  const updated = {
    ...config,
    contexts: { ...config.contexts, [name]: context },
    ...(opts.use ? { current: name } : {}),
  };
  await writeUserConfig(f.userConfigPath(), updated);
  f.io.notice(
    `saved context "${name}"${opts.use ? ' and made it current' : ''} in ${f.userConfigPath()}`,
  );
  writeContextJson(f, viewContext(name, context, updated.current === name), opts.json);
}
