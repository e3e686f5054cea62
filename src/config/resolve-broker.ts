import { UsageError } from '../errors.js';
import { parseBrokerUrl, type BrokerSpec } from './broker-url.js';
import {
  expandEnvReferences,
  knownContextsHint,
  unknownContextMessage,
  type UserConfig,
} from './user-config.js';

/** Where the broker came from, for `using …` lines and error messages. */
export type BrokerSource =
  '--broker' | '--context' | 'MQ_BROKER' | 'MQ_CONTEXT' | 'current context' | 'default';

export interface BrokerChoice {
  source: BrokerSource;
  contextName: string | null;
  spec: BrokerSpec;
}

export interface BrokerFlags {
  broker?: string;
  context?: string;
  managementUrl?: string;
  insecure?: boolean;
}

/**
 * DESIGN.md §2 precedence, the only implementation of it: `--broker` > `--context` > `MQ_BROKER` >
 * `MQ_CONTEXT` > the current context > `local`. The user config is read only when a context is
 * needed, so a broken config file never blocks `--broker`.
 */
export async function resolveBroker(
  flags: BrokerFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
  loadConfig: () => Promise<UserConfig>,
): Promise<BrokerChoice> {
  if (flags.broker !== undefined && flags.context !== undefined) {
    throw new UsageError('--broker and --context cannot be used together', {
      hint: 'pass one: --broker <url> or --context <name>',
    });
  }
  const urlOptions = {
    env,
    cwd,
    ...(flags.managementUrl ? { managementUrl: flags.managementUrl } : {}),
    ...(flags.insecure === true ? { tls: { insecure: true } } : {}),
  };
  const fromUrl = (source: BrokerSource, url: string): BrokerChoice => ({
    source,
    contextName: null,
    spec: parseBrokerUrl(url, urlOptions),
  });
  const fromContext = async (source: BrokerSource, name: string): Promise<BrokerChoice> => {
    const config = await loadConfig();
    const context = config.contexts[name];
    if (!context)
      throw new UsageError(unknownContextMessage(name, source), {
        hint: knownContextsHint(config),
      });
    const where = `context "${name}"`;
    const password =
      context.password === undefined
        ? undefined
        : expandEnvReferences(context.password, env, where);
    const spec = parseBrokerUrl(expandEnvReferences(context.broker, env, where), {
      ...urlOptions,
      ...(password === undefined ? {} : { password }),
      ...(context.nodes
        ? { extraNodes: context.nodes.map((node) => expandEnvReferences(node, env, where)) }
        : {}),
      ...(context.tls || flags.insecure === true
        ? { tls: { ...context.tls, ...(flags.insecure === true ? { insecure: true } : {}) } }
        : {}),
      ...((flags.managementUrl ?? context.managementUrl)
        ? { managementUrl: flags.managementUrl ?? context.managementUrl }
        : {}),
    });
    return { source, contextName: name, spec };
  };

  if (flags.broker !== undefined) return fromUrl('--broker', flags.broker);
  if (flags.context !== undefined) return fromContext('--context', flags.context);
  if (env.MQ_BROKER) return fromUrl('MQ_BROKER', env.MQ_BROKER);
  if (env.MQ_CONTEXT) return fromContext('MQ_CONTEXT', env.MQ_CONTEXT);
  const config = await loadConfig();
  if (config.current !== undefined) return fromContext('current context', config.current);
  return fromUrl('default', 'local');
}
