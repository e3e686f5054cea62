import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { MASK, redact, registerSecret } from '../secrets.js';

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface TlsOptions {
  /** Paths to PEM files. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Skip certificate verification (`--insecure`). */
  insecure?: boolean;
}

export interface LocalSpec {
  kind: 'local';
  dataDir: string;
  display: string;
}

export interface RabbitMqSpec {
  kind: 'rabbitmq';
  /** One URL per cluster node, credentials included: tried in order, first that answers wins. */
  urls: string[];
  username: string;
  vhost: string;
  tls: TlsOptions | null;
  /** `http://host:15672` unless the context or `--management-url` says otherwise. */
  managementUrl: string;
  display: string;
}

export interface KafkaSpec {
  kind: 'kafka';
  brokers: string[];
  ssl: boolean;
  tls: TlsOptions | null;
  sasl: { mechanism: KafkaSaslMechanism; username: string; password: string } | null;
  display: string;
}

/** A broker to talk to, fully resolved: everything an adapter needs to connect. */
export type BrokerSpec = LocalSpec | RabbitMqSpec | KafkaSpec;

const SUPPORTED_FORMS =
  'local, local:<dir>, amqp[s]://user:pass@host:5672/vhost or kafka[+ssl]://host:9092[,host:9092]';

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env.MQ_HOME) return resolve(env.MQ_HOME);
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'mq');
  return join(homedir(), '.local', 'share', 'mq');
}

/** Masks `user:secret@` even without a scheme: a URL that failed to parse may lack one. */
function shown(raw: string): string {
  return redact(raw).replace(/^([^\s:/@]*):[^\s]*@/, `$1:${MASK}@`);
}

function invalid(raw: string, reason: string): UsageError {
  return new UsageError(`invalid broker URL "${shown(raw)}": ${reason}`, {
    hint: `use ${SUPPORTED_FORMS}`,
  });
}

export interface ParseUrlOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Replaces the URL's password (a context's stored or `${ENV}` password). */
  password?: string;
  managementUrl?: string;
  tls?: TlsOptions;
  /** Further cluster nodes (a context's `nodes`). */
  extraNodes?: readonly string[];
}

/** Parses a `--broker`/`MQ_BROKER`/context URL. Every password it sees is registered for redaction first. */
export function parseBrokerUrl(raw: string, options: ParseUrlOptions): BrokerSpec {
  const trimmed = raw.trim();
  if (trimmed === 'local') {
    return { kind: 'local', dataDir: defaultDataDir(options.env), display: 'local' };
  }
  if (trimmed.startsWith('local:')) {
    const dir = trimmed.slice('local:'.length);
    if (dir === '') throw invalid(raw, 'local: needs a directory after the colon');
    const expanded = dir.startsWith('~/') ? join(homedir(), dir.slice(2)) : dir;
    const dataDir = isAbsolute(expanded) ? expanded : resolve(options.cwd, expanded);
    return { kind: 'local', dataDir, display: `local:${dataDir}` };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'amqp' || scheme === 'amqps') return parseAmqp(trimmed, options);
  if (scheme === 'kafka' || scheme === 'kafka+ssl') return parseKafka(trimmed, options);
  registerSecret(passwordLike(trimmed));
  if (scheme === undefined) throw invalid(raw, 'not a URL');
  throw invalid(raw, `unsupported scheme "${scheme}"`);
}

/** The text between `user:` and `@` of something URL-shaped, so a URL that fails to parse still has its password masked. */
function passwordLike(raw: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s]*)@/i.exec(raw)?.[1];
}

function parseAmqp(raw: string, options: ParseUrlOptions): RabbitMqSpec {
  const first = parseAmqpNode(raw, options.password);
  const nodes = [
    first,
    ...(options.extraNodes ?? []).map((node) => parseAmqpNode(node, options.password)),
  ];
  const tls = first.url.protocol === 'amqps:' ? { ...options.tls } : null;
  return {
    kind: 'rabbitmq',
    urls: nodes.map((node) => node.url.toString()),
    username: first.username,
    vhost: first.vhost,
    tls,
    managementUrl: options.managementUrl ?? `http://${first.url.hostname}:15672`,
    display: nodes.map((node) => node.display).join(','),
  };
}

function parseAmqpNode(raw: string, passwordOverride: string | undefined) {
  registerSecret(passwordLike(raw));
  registerSecret(passwordOverride);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(
      raw,
      'malformed URL (check the host, the port and %-encoding of special characters)',
    );
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:')
    throw invalid(raw, 'cluster nodes must all be amqp:// or amqps://');
  if (url.hostname === '') throw invalid(raw, 'no host');
  const username = safeDecode(url.username, raw) || 'guest';
  const password = passwordOverride ?? (url.password ? safeDecode(url.password, raw) : 'guest');
  registerSecret(password);
  const vhostPath = url.pathname.replace(/^\//, '');
  const vhost = vhostPath === '' ? '/' : safeDecode(vhostPath, raw);
  if (vhost.includes('/') && vhost !== '/')
    throw invalid(raw, 'the vhost must be one path segment (write "/" as %2F)');
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  const shown = new URL(url.toString());
  shown.password = MASK;
  return { url, username, vhost, display: decodeURIComponent(shown.toString()) };
}

function safeDecode(value: string, raw: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalid(raw, 'bad %-encoding');
  }
}

const SASL_MECHANISMS: readonly KafkaSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** `kafka://[user:pass@]h1:9092,h2:9092[?sasl=scram-sha-256]`: a host list is not a WHATWG URL, so it is parsed here. */
function parseKafka(raw: string, options: ParseUrlOptions): KafkaSpec {
  registerSecret(passwordLike(raw));
  registerSecret(options.password);
  const ssl = raw.toLowerCase().startsWith('kafka+ssl://');
  const rest = raw.slice(raw.indexOf('://') + 3);
  const queryStart = rest.indexOf('?');
  const authority = (queryStart === -1 ? rest : rest.slice(0, queryStart)).replace(/\/$/, '');
  const query = new URLSearchParams(queryStart === -1 ? '' : rest.slice(queryStart + 1));
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at);
  const hostList = at === -1 ? authority : authority.slice(at + 1);
  if (hostList.includes('/')) throw invalid(raw, 'a Kafka URL has no path');
  const brokers = hostList.split(',').map((hostPort) => parseHostPort(hostPort, raw));

  const [user = '', urlPassword] = userinfo === '' ? [] : splitOnce(userinfo, ':');
  const username = safeDecode(user, raw);
  const password =
    options.password ?? (urlPassword === undefined ? undefined : safeDecode(urlPassword, raw));
  registerSecret(password);
  const mechanismParam = query.get('sasl')?.toLowerCase();
  if (
    mechanismParam !== undefined &&
    !SASL_MECHANISMS.includes(mechanismParam as KafkaSaslMechanism)
  ) {
    throw invalid(
      raw,
      `unknown SASL mechanism "${mechanismParam}" (use ${SASL_MECHANISMS.join(', ')})`,
    );
  }
  for (const key of query.keys()) {
    if (key !== 'sasl')
      throw invalid(raw, `unknown option "${key}" (the only option is sasl=<mechanism>)`);
  }
  let sasl: KafkaSpec['sasl'] = null;
  if (username !== '') {
    if (password === undefined) throw invalid(raw, `no password for SASL user "${username}"`);
    sasl = {
      mechanism: (mechanismParam as KafkaSaslMechanism | undefined) ?? 'plain',
      username,
      password,
    };
  } else if (mechanismParam !== undefined) {
    throw invalid(raw, 'sasl= needs a user name: kafka://user:pass@host:9092?sasl=…');
  }
  const who = sasl ? `${sasl.username}:${MASK}@` : '';
  const mechanism = sasl && mechanismParam ? `?sasl=${sasl.mechanism}` : '';
  return {
    kind: 'kafka',
    brokers,
    ssl,
    tls: ssl ? { ...options.tls } : null,
    sasl,
    display: `${ssl ? 'kafka+ssl' : 'kafka'}://${who}${brokers.join(',')}${mechanism}`,
  };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const index = text.indexOf(separator);
  return index === -1 ? [text, undefined] : [text.slice(0, index), text.slice(index + 1)];
}

function parseHostPort(hostPort: string, raw: string): string {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(hostPort);
  if (!match?.[1]) throw invalid(raw, `bad host "${hostPort}" (want host:port)`);
  const port = match[2] === undefined ? 9092 : Number(match[2]);
  if (port < 1 || port > 65535) throw invalid(raw, `port ${port} is out of range`);
  return `${match[1]}:${port}`;
}
