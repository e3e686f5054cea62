/**
 * The RabbitMQ management API, read-only: queue types and arguments, bindings, and queue lists
 * that a passive declare cannot give. Credentials travel in an Authorization header, never in the
 * URL (DESIGN.md §2). Its message figures are sampled: they trail the broker by a statistics
 * interval (5 s by default), so exact depths come from a passive declare instead.
 */
import type { LiveExchange } from '../../config/topology-export.js';
import { MqError, UnsupportedError } from '../../errors.js';
import { redact } from '../../secrets.js';

export type QueueType = 'classic' | 'quorum' | 'stream';

export interface ManagedQueue {
  name: string;
  type: QueueType;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: Record<string, unknown>;
  /** What a policy sets (`delivery-limit`, `dead-letter-exchange`…), by the policy's key names. */
  policy: Record<string, unknown>;
  messagesReady: number | null;
  messagesUnacknowledged: number | null;
  consumers: number | null;
}

/** An exchange as the API describes it: what `mq topology export` reads. */
export type ManagedExchange = LiveExchange;

export interface ManagedBinding {
  /** '' for the default exchange. */
  source: string;
  destination: string;
  destinationType: 'queue' | 'exchange';
  routingKey: string;
  arguments: Record<string, unknown>;
}

/** What the API returns for a queue (the fields mq reads). */
interface RawQueue {
  name: string;
  type?: string;
  durable?: boolean;
  exclusive?: boolean;
  auto_delete?: boolean;
  arguments?: Record<string, unknown>;
  effective_policy_definition?: Record<string, unknown> | [];
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
}

interface RawExchange {
  name: string;
  type: string;
  durable: boolean;
  auto_delete?: boolean;
  internal?: boolean;
  arguments?: Record<string, unknown>;
}

interface RawBinding {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments?: Record<string, unknown>;
}

interface Page<T> {
  items: T[];
  page_count: number;
}

const QUEUE_COLUMNS = [
  'name',
  'type',
  'durable',
  'exclusive',
  'auto_delete',
  'arguments',
  'effective_policy_definition',
  'messages_ready',
  'messages_unacknowledged',
  'consumers',
].join(',');

/** The largest page the API serves. */
const PAGE_SIZE = 500;

const HOW_TO_ENABLE =
  'enable it on the broker (rabbitmq-plugins enable rabbitmq_management), or point --management-url at it';

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is on its cause. */
function whyFetchFailed(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const reason = [cause?.code, cause?.message, (error as Error).message].find(
    (text): text is string => typeof text === 'string',
  );
  return redact(reason ?? 'unknown error');
}

function toQueue(raw: RawQueue): ManagedQueue {
  const type = raw.type === 'quorum' || raw.type === 'stream' ? raw.type : 'classic';
  const policy = raw.effective_policy_definition;
  return {
    name: raw.name,
    type,
    durable: raw.durable ?? true,
    exclusive: raw.exclusive ?? false,
    autoDelete: raw.auto_delete ?? false,
    arguments: raw.arguments ?? {},
    // The API writes an empty policy as [] rather than {}.
    policy: Array.isArray(policy) || policy === undefined ? {} : policy,
    messagesReady: raw.messages_ready ?? null,
    messagesUnacknowledged: raw.messages_unacknowledged ?? null,
    consumers: raw.consumers ?? null,
  };
}

function toExchange(raw: RawExchange): ManagedExchange {
  return {
    name: raw.name,
    type: raw.type,
    durable: raw.durable,
    autoDelete: raw.auto_delete ?? false,
    internal: raw.internal ?? false,
    arguments: raw.arguments ?? {},
  };
}

function toBinding(raw: RawBinding): ManagedBinding {
  return {
    source: raw.source,
    destination: raw.destination,
    destinationType: raw.destination_type,
    routingKey: raw.routing_key,
    arguments: raw.arguments ?? {},
  };
}

export class ManagementApi {
  private readonly base: string | null;
  private readonly display: string;
  private readonly authorization: string;
  private readonly vhostPath: string;
  private availability: Promise<string | null> | undefined;

  constructor(
    managementUrl: string,
    private readonly username: string,
    password: string,
    vhost: string,
    private readonly timeoutMs: number,
  ) {
    let base: URL | null;
    try {
      base = new URL(managementUrl);
      base.username = '';
      base.password = '';
    } catch {
      base = null;
    }
    this.base = base === null ? null : base.toString().replace(/\/$/, '');
    this.display = this.base ?? redact(managementUrl);
    this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    this.vhostPath = encodeURIComponent(vhost);
  }

  /** Null when the API answers; otherwise why not, in words for a hint. Asked once. */
  unavailableReason(): Promise<string | null> {
    this.availability ??= this.probe();
    return this.availability;
  }

  async available(): Promise<boolean> {
    return (await this.unavailableReason()) === null;
  }

  /** For what cannot be done without the API: a hinted error naming what needed it. */
  async require(what: string): Promise<void> {
    const reason = await this.unavailableReason();
    if (reason === null) return;
    throw new UnsupportedError(`${what} needs the RabbitMQ management API, and ${reason}`, {
      hint: HOW_TO_ENABLE,
    });
  }

  private async probe(): Promise<string | null> {
    if (this.base === null) return `"${this.display}" is not a URL`;
    let response: Response;
    try {
      response = await this.fetch('/api/overview');
    } catch (error) {
      return `nothing answers at ${this.display} (${whyFetchFailed(error)})`;
    }
    await response.body?.cancel();
    if (response.ok) return null;
    if (response.status === 401) {
      return `it refused user "${this.username}" at ${this.display} (the user needs the management or monitoring tag)`;
    }
    return `${this.display} answered ${response.status} ${response.statusText}`;
  }

  private fetch(path: string): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      headers: { authorization: this.authorization, accept: 'application/json' },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
  }

  /** The parsed JSON, or null for a 404 (no such queue, exchange or vhost). */
  private async get<T>(path: string): Promise<T | null> {
    let response: Response;
    try {
      response = await this.fetch(path);
    } catch (error) {
      throw new MqError(
        `the RabbitMQ management API at ${this.display} failed: ${whyFetchFailed(error)}`,
        { cause: error },
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      const text = redact(await response.text());
      throw new MqError(
        `the RabbitMQ management API answered ${response.status} for ${path}: ${text.slice(0, 200)}`,
      );
    }
    return (await response.json()) as T;
  }

  private path(...parts: string[]): string {
    return parts.map((part) => `/${encodeURIComponent(part)}`).join('');
  }

  async queue(name: string): Promise<ManagedQueue | null> {
    const raw = await this.get<RawQueue>(`/api/queues/${this.vhostPath}${this.path(name)}`);
    return raw === null ? null : toQueue(raw);
  }

  /** Every queue of the vhost whose name matches `regex` (all without one), page by page. */
  async queues(regex?: string): Promise<ManagedQueue[]> {
    const queues: ManagedQueue[] = [];
    const filter = regex === undefined ? '' : `&name=${encodeURIComponent(regex)}&use_regex=true`;
    for (let page = 1; ; page += 1) {
      const result = await this.get<Page<RawQueue>>(
        `/api/queues/${this.vhostPath}?page=${page}&page_size=${PAGE_SIZE}&columns=${QUEUE_COLUMNS}${filter}`,
      );
      queues.push(...(result?.items ?? []).map(toQueue));
      if (result === null || page >= result.page_count) return queues;
    }
  }

  /** The queue's bindings, the default exchange's included. */
  async queueBindings(name: string): Promise<ManagedBinding[]> {
    const raw = await this.get<RawBinding[]>(
      `/api/queues/${this.vhostPath}${this.path(name)}/bindings`,
    );
    return (raw ?? []).map(toBinding);
  }

  /** The bindings whose source is `exchange`. */
  async bindingsFrom(exchange: string): Promise<ManagedBinding[]> {
    const raw = await this.get<RawBinding[]>(
      `/api/exchanges/${this.vhostPath}${this.path(exchange)}/bindings/source`,
    );
    return (raw ?? []).map(toBinding);
  }

  /** Every binding of the vhost. */
  async bindings(): Promise<ManagedBinding[]> {
    const raw = await this.get<RawBinding[]>(`/api/bindings/${this.vhostPath}`);
    return (raw ?? []).map(toBinding);
  }

  async exchange(name: string): Promise<ManagedExchange | null> {
    const raw = await this.get<RawExchange>(`/api/exchanges/${this.vhostPath}${this.path(name)}`);
    return raw === null ? null : toExchange(raw);
  }

  async exchanges(): Promise<ManagedExchange[]> {
    const raw = await this.get<RawExchange[]>(
      `/api/exchanges/${this.vhostPath}?columns=name,type,durable,auto_delete,internal,arguments`,
    );
    return (raw ?? []).map(toExchange);
  }
}
