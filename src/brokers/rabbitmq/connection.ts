/**
 * One AMQP connection to the first cluster node that answers, with the guards amqplib leaves to
 * its caller (DESIGN.md §10, "Known traps"): a connect timeout of our own, Nagle off, and an
 * `'error'` listener on the connection and on every channel, because amqplib emits `'error'` even
 * while a promise for the same failure is being awaited, and an unheard `'error'` kills the process.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { createSecureContext } from 'node:tls';
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type Options,
} from 'amqplib';
import type { RabbitMqSpec, TlsOptions } from '../../config/broker-url.js';
import { ConnectError, MqError } from '../../errors.js';
import { redact } from '../../secrets.js';
import { mqVersion } from '../../version.js';
import { brokerText } from './failures.js';
import { parseServerVersion, type ServerVersion } from './version.js';

/** Seconds between heartbeats: a person may sit at an interactive prompt for minutes. */
const HEARTBEAT_SECONDS = 30;
/** How often to look whether returned messages are back in their queue. */
const RETURN_POLL_MS = 20;
/** The ready count not growing for this long: the rest went to another consumer, or will come. */
const RETURN_STALL_MS = 250;

export interface AmqpNode {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  username: string;
  password: string;
  /** `amqp://host:5672`, for messages: no credentials. */
  display: string;
}

/** The cluster's nodes in the order the spec lists them, credentials decoded. */
export function nodesOf(spec: RabbitMqSpec): AmqpNode[] {
  return spec.urls.map((raw) => {
    const url = new URL(raw);
    const protocol = url.protocol === 'amqps:' ? 'amqps' : 'amqp';
    const port = url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port);
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return {
      protocol,
      hostname,
      port,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      display: `${protocol}://${url.hostname}:${port}`,
    };
  });
}

/** Why one node could not be used; `final` when no other node would do better (the same users and vhosts live on every node). */
interface NodeFailure {
  node: AmqpNode;
  reason: string;
  hint: string;
  final: boolean;
  cause: unknown;
}

class NodeTimeout extends Error {}

function classify(node: AmqpNode, error: unknown, spec: RabbitMqSpec, ms: number): NodeFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const failure = (reason: string, hint: string, final = false): NodeFailure => ({
    node,
    reason,
    hint,
    final,
    cause: error,
  });
  if (error instanceof NodeTimeout || code === 'ETIMEDOUT' || /ETIMEDOUT/.test(text)) {
    return failure(
      `no answer within ${ms} ms`,
      'check the host, the port and any firewall in between, or raise --connect-timeout',
    );
  }
  if (code === 'ECONNREFUSED') {
    return failure(
      'connection refused',
      `check that RabbitMQ is running and listens on ${node.hostname}:${node.port} (AMQP is 5672, AMQPS 5671)`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return failure(
      `unknown host "${node.hostname}"`,
      'check the host name in the broker URL or context',
    );
  }
  if (/ACCESS[-_]REFUSED|\b403\b/.test(text)) {
    return failure(
      `login refused for user "${spec.username}"`,
      'check the user name and password (in the URL, the context, or the variable the context names)',
      true,
    );
  }
  // RabbitMQ answers connection.open for an unknown vhost, or one the user may not use, with
  // connection.close 530 NOT_ALLOWED, which amqplib reports only as an unexpected frame.
  if (/NOT[-_]ALLOWED|\b530\b|Expected ConnectionOpenOk/.test(text)) {
    return failure(
      `vhost "${spec.vhost}" does not exist or user "${spec.username}" may not use it`,
      `check the vhost in the URL path (the default vhost "/" is written %2F), or grant access: rabbitmqctl set_permissions -p ${spec.vhost} ${spec.username} ".*" ".*" ".*"`,
      true,
    );
  }
  // What an HTTP server (the management port, a proxy) or an AMQP 1.0 listener answers.
  if (
    /Frame size \d+ exceeds|closed abruptly during opening handshake|Expected ConnectionStart/.test(
      text,
    )
  ) {
    return failure(
      'the server there does not speak AMQP 0-9-1',
      'check the port: AMQP is 5672 (AMQPS 5671); 15672 is the management API',
    );
  }
  if (typeof code === 'string' && /^ERR_SSL_\w+_ALERT_(BAD|UNKNOWN_CA|CERTIFICATE)/.test(code)) {
    return failure(
      'TLS negotiation failed: the broker refused the client certificate',
      "check that the context's certificate and key (mq context add --cert --key) are signed by a CA the broker trusts",
    );
  }
  if (
    typeof code === 'string' &&
    /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code)
  ) {
    return failure(
      `TLS negotiation failed: ${opensslReason(text)}`,
      'check the CA, certificate and key files of the context, or --insecure for a test broker',
    );
  }
  return failure(redact(text), 'check the broker URL, and that the port is an AMQP port');
}

/** OpenSSL's own text without its `<hex>:error:<code>:<library>:` prefix and source position. */
function opensslReason(text: string): string {
  const reason = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(text)?.[1] ?? text;
  return redact(reason.trim());
}

async function tlsSocketOptions(tls: TlsOptions | null): Promise<Record<string, unknown>> {
  if (tls === null) return {};
  const read = async (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConnectError(
        `cannot read the TLS ${what} file ${path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };
  const options = {
    ca: await read('CA', tls.ca),
    cert: await read('certificate', tls.cert),
    key: await read('key', tls.key),
    rejectUnauthorized: tls.insecure !== true,
  };
  // A bad file would otherwise surface mid-handshake as OpenSSL's text, naming no file.
  try {
    createSecureContext(options);
  } catch (error) {
    const files = [tls.ca, tls.cert, tls.key].filter((file) => file !== undefined).join(', ');
    throw new ConnectError(
      `cannot use the TLS files ${files}: ${opensslReason((error as Error).message)}`,
      {
        cause: error,
        hint: 'the certificate and key must be PEM files that belong together, and the CA a PEM certificate',
      },
    );
  }
  return options;
}

/** A channel that remembers why the broker closed it. */
export class TrackedChannel<C extends Channel = Channel> {
  /** The broker's reason (a 404 for a missing exchange…), null while open or after a clean close. */
  failure: Error | null = null;
  isOpen = true;
  readonly closed: Promise<void>;

  constructor(readonly channel: C) {
    channel.on('error', (error: Error) => {
      this.failure = error;
    });
    this.closed = new Promise((resolve) => {
      channel.on('close', () => {
        this.isOpen = false;
        resolve();
      });
    });
  }

  /** Closes it unless the broker or the connection already did. */
  async close(): Promise<void> {
    if (!this.isOpen) return;
    try {
      await this.channel.close();
    } catch {
      // Closed meanwhile, by the broker or with the connection: the same end.
    }
  }

  /**
   * Returns every message this channel holds unacked to `queue` (one basic.nack, multiple,
   * requeue: in delivery order) and closes it once the queue has them back. The broker answers
   * long before a classic queue has requeued thousands (7,500 take it 0.6 s here), so the next
   * command would find the queue short of them: `mq dlq redrive` right after `mq dlq ls` would
   * take only part of the dead letters. A passive declare cannot wait for the requeue (the queue
   * answers it ahead of its other work), so the ready count is watched until it has grown by
   * `count`, or has stopped growing for a while (another consumer may be taking them).
   */
  async returnAllAndClose(queue: string, count: number): Promise<void> {
    if (this.isOpen && count > 0) {
      try {
        const ready = async () => (await this.channel.checkQueue(queue)).messageCount;
        const target = (await ready()) + count;
        this.channel.nackAll(true);
        let last = -1;
        let stalledSince = performance.now();
        for (let now = await ready(); now < target; now = await ready()) {
          if (now > last) {
            last = now;
            stalledSince = performance.now();
          } else if (performance.now() - stalledSince > RETURN_STALL_MS) {
            break;
          }
          await delay(RETURN_POLL_MS);
        }
      } catch {
        // The channel or the queue went meanwhile: the broker returns what it held on its own.
      }
    }
    await this.close();
  }
}

export class AmqpConnection {
  /** Why the connection ended, when it ended without close(). */
  private lost: Error | null = null;
  private closing = false;

  private constructor(
    private readonly model: ChannelModel,
    readonly node: AmqpNode,
    /** The nodes tried before this one, and why each was passed over. */
    private readonly passedOver: readonly NodeFailure[],
  ) {
    model.on('error', (error: Error) => {
      this.lost = error;
    });
    model.on('close', (error?: Error) => {
      if (!this.closing) this.lost ??= error ?? new Error('closed by the broker');
    });
  }

  /** The node the connection answered on, e.g. `amqp://10.0.0.2:5672`. */
  get display(): string {
    return this.node.display;
  }

  /** The node, and the ones passed over before it: `amqp://b:5672 (amqp://a:5672: connection refused)`. */
  get describeFailover(): string {
    if (this.passedOver.length === 0) return this.display;
    const skipped = this.passedOver.map((failure) => `${failure.node.display}: ${failure.reason}`);
    return `${this.display} (${skipped.join('; ')})`;
  }

  /** Why the connection ended without close() (the broker or the network went away), else null. */
  get lostBecause(): Error | null {
    return this.lost;
  }

  get serverVersion(): ServerVersion | null {
    return parseServerVersion(this.model.connection.serverProperties.version);
  }

  /**
   * Tries the nodes in order, each with an equal share of what is left of `timeoutMs`, so that a
   * silent first node cannot use up the time the others need. A refused login or vhost ends the
   * search: every node of a cluster would say the same.
   */
  static async open(spec: RabbitMqSpec, timeoutMs: number): Promise<AmqpConnection> {
    const nodes = nodesOf(spec);
    const tls = await tlsSocketOptions(spec.tls);
    const deadline = Date.now() + timeoutMs;
    const failures: NodeFailure[] = [];
    for (const [index, node] of nodes.entries()) {
      const budget = Math.max(1, Math.floor((deadline - Date.now()) / (nodes.length - index)));
      try {
        const model = await connectWithin(node, spec.vhost, tls, budget);
        return new AmqpConnection(model, node, failures);
      } catch (error) {
        const failure = classify(node, error, spec, budget);
        failures.push(failure);
        if (failure.final) break;
      }
    }
    throw connectError(failures);
  }

  private usable(): void {
    if (this.closing) throw new MqError('the RabbitMQ connection is closed');
    if (this.lost !== null) {
      throw new MqError(
        `lost the connection to RabbitMQ at ${this.display}: ${brokerText(this.lost)}`,
        {
          cause: this.lost,
          hint: 'run the command again once the broker is back',
        },
      );
    }
  }

  async channel(): Promise<TrackedChannel> {
    this.usable();
    return new TrackedChannel(await this.model.createChannel());
  }

  async confirmChannel(): Promise<TrackedChannel<ConfirmChannel>> {
    this.usable();
    return new TrackedChannel(await this.model.createConfirmChannel());
  }

  /** A short-lived channel for passive checks: `checkQueue` on a missing queue closes its channel. */
  async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const tracked = await this.channel();
    try {
      return await work(tracked.channel);
    } finally {
      await tracked.close();
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.lost !== null) return;
    try {
      await this.model.close();
    } catch {
      // Already gone: nothing is left to release.
    }
  }
}

/** amqplib's connect raced against a timer; a connection that arrives after the race is closed. */
async function connectWithin(
  node: AmqpNode,
  vhost: string,
  tls: Record<string, unknown>,
  ms: number,
): Promise<ChannelModel> {
  const options: Options.Connect = {
    protocol: node.protocol,
    hostname: node.hostname,
    port: node.port,
    username: node.username,
    password: node.password,
    // amqplib unescapes the vhost it is given, so a `%` in a vhost name must reach it escaped.
    vhost: encodeURIComponent(vhost),
    heartbeat: HEARTBEAT_SECONDS,
  };
  const attempt = connect(options, {
    noDelay: true,
    // amqplib's own socket timeout ends a silent socket; the race below also covers DNS.
    timeout: ms,
    clientProperties: { connection_name: `mq ${mqVersion()} (pid ${process.pid})` },
    ...tls,
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NodeTimeout()), ms);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (error) {
    if (error instanceof NodeTimeout) {
      void attempt
        .then((late) => {
          late.on('error', () => {});
          return late.close();
        })
        .catch(() => {});
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function connectError(failures: NodeFailure[]): ConnectError {
  const [first] = failures;
  if (failures.length === 1 && first !== undefined) {
    return new ConnectError(
      `cannot connect to RabbitMQ at ${first.node.display}: ${first.reason}`,
      {
        cause: first.cause,
        hint: first.hint,
      },
    );
  }
  const last = failures.at(-1);
  return new ConnectError(
    `cannot connect to any RabbitMQ node: ${failures.map((f) => `${f.node.display}: ${f.reason}`).join('; ')}`,
    { cause: last?.cause, hint: last?.hint },
  );
}
