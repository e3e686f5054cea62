import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError, NotFoundError, UsageError } from '../errors.js';
import type { TlsOptions } from './broker-url.js';

/**
 * A named broker connection. Secrets are either stored (the file is kept 0600) or `${ENV_VAR}`
 * references expanded when the context is used, so the file can be shared without them.
 */
export interface Context {
  /** `amqp://user@host:5672/vhost`, `kafka://host:9092,host2:9092` or `local[:dir]`. */
  broker: string;
  /** Replaces the URL's password; may be `${ENV_VAR}`. */
  password?: string;
  /** Further RabbitMQ cluster nodes, tried in order after `broker`. */
  nodes?: string[];
  managementUrl?: string;
  tls?: TlsOptions;
}

export interface UserConfig {
  current?: string;
  contexts: Record<string, Context>;
}

export function userConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.MQ_CONFIG) return env.MQ_CONFIG;
  const base = env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return join(base, 'mq', 'config.json');
}

export async function readUserConfig(path: string): Promise<UserConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw new UsageError(`cannot read the user config ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Parse errors quote the text they trip on, which may be a password: only the position is
    // reported, found by the position-aware parser (loaded only on this path).
    const { parseJsonDocument } = await import('../fixtures/json-source.js');
    let position = { file: path, line: 1, column: 1 };
    try {
      parseJsonDocument(text, path);
    } catch (error) {
      if (error instanceof InputError && error.position) position = error.position;
    }
    throw new InputError('not valid JSON here', {
      position,
      hint: `fix ${path} or remove it (mq context add writes a new one)`,
    });
  }
  return checkUserConfig(parsed, path);
}

/** Hand-written guards: the file is small, and a broken one must name the key that is wrong. */
function checkUserConfig(value: unknown, path: string): UserConfig {
  const fail = (key: string, want: string) =>
    new UsageError(`${path}: ${key} must be ${want}`, { hint: `fix or remove ${path}` });
  if (!isRecord(value)) throw fail('the top level', 'an object');
  const { current, contexts = {} } = value;
  if (current !== undefined && typeof current !== 'string') throw fail('current', 'a string');
  if (!isRecord(contexts)) throw fail('contexts', 'an object');
  const checked: Record<string, Context> = {};
  for (const [name, context] of Object.entries(contexts)) {
    const key = `contexts.${name}`;
    if (!isRecord(context)) throw fail(key, 'an object');
    if (typeof context.broker !== 'string') throw fail(`${key}.broker`, 'a broker URL string');
    for (const field of ['password', 'managementUrl'] as const) {
      if (context[field] !== undefined && typeof context[field] !== 'string')
        throw fail(`${key}.${field}`, 'a string');
    }
    if (
      context.nodes !== undefined &&
      !(Array.isArray(context.nodes) && context.nodes.every((n) => typeof n === 'string'))
    ) {
      throw fail(`${key}.nodes`, 'a list of URLs');
    }
    if (context.tls !== undefined) checkTls(context.tls, `${key}.tls`, fail);
    checked[name] = context as unknown as Context;
  }
  return { ...(current === undefined ? {} : { current }), contexts: checked };
}

function checkTls(tls: unknown, key: string, fail: (key: string, want: string) => Error): void {
  if (!isRecord(tls)) throw fail(key, 'an object');
  for (const field of ['ca', 'cert', 'key'] as const) {
    if (tls[field] !== undefined && typeof tls[field] !== 'string')
      throw fail(`${key}.${field}`, 'a file path');
  }
  if (tls.insecure !== undefined && typeof tls.insecure !== 'boolean')
    throw fail(`${key}.insecure`, 'true or false');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes atomically with mode 0600: the file may hold passwords. */
export async function writeUserConfig(path: string, config: UserConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export function unknownContextMessage(name: string, source: string): string {
  return `no context named "${name}" (from ${source})`;
}

export function knownContextsHint(config: UserConfig): string {
  const known = Object.keys(config.contexts);
  return known.length > 0
    ? `known contexts: ${known.join(', ')}`
    : 'create one with mq context add <name> <url>';
}

/** For commands that manage contexts: a missing one is "not found" (exit 1), not a usage error. */
export function requireContext(config: UserConfig, name: string): Context {
  const context = config.contexts[name];
  if (!context)
    throw new NotFoundError(unknownContextMessage(name, 'the user config'), {
      hint: knownContextsHint(config),
    });
  return context;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Expands `${VAR}` references; an unset variable is an error that names it. */
export function expandEnvReferences(text: string, env: NodeJS.ProcessEnv, where: string): string {
  return text.replace(ENV_REFERENCE, (_, name: string) => {
    const value = env[name];
    if (value === undefined) {
      throw new UsageError(`${where} refers to \${${name}}, which is not set`, {
        hint: `export ${name}=… before running mq`,
      });
    }
    return value;
  });
}
