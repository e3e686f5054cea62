import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import {
  parseJsonDocument,
  validateWithSchema,
  type JsonDocument,
} from '../fixtures/json-source.js';

export const PROJECT_FILE_NAME = 'mq.config.json';

export type ExchangeType = 'topic' | 'direct' | 'fanout' | 'headers';

export interface ExchangeDecl {
  name: string;
  type: ExchangeType;
  durable?: boolean;
}

export interface BindingDecl {
  exchange: string;
  pattern?: string;
}

export interface QueueDecl {
  name: string;
  type?: 'classic' | 'quorum';
  bindings?: BindingDecl[];
  maxDeliveries?: number;
  messageTtl?: number;
  deadLetterQueue?: string;
}

export interface TopicDecl {
  name: string;
  partitions?: number;
  retention?: string;
  deadLetterTopic?: string;
}

export interface EventDecl {
  description?: string;
  exchange?: string;
  routingKey?: string;
  topic?: string;
  /** The body field whose value becomes the Kafka record key. */
  key?: string;
  headers?: Record<string, string | number | boolean>;
  contentType?: string;
  /** Inline JSON Schema, or a path relative to the project file. */
  schema?: object | string;
}

/** `mq.config.json`: the declared topology and event catalog (DESIGN.md §3), checked on load. */
export interface ProjectFile {
  path: string;
  exchanges: ExchangeDecl[];
  queues: QueueDecl[];
  topics: TopicDecl[];
  events: Record<string, EventDecl>;
}

/** Walks up from `start` to the file system root; null when there is none. */
export async function findProjectFile(start: string): Promise<string | null> {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, PROJECT_FILE_NAME);
    if (await isFile(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : (error as Error).message;
    throw new UsageError(`cannot read ${what} ${path}: ${reason}`);
  }
}

let projectSchema: object | undefined;

async function loadProjectSchema(): Promise<object> {
  projectSchema ??= JSON.parse(
    await readFile(new URL('schema/mq.config.schema.json', PACKAGE_ROOT), 'utf8'),
  ) as object;
  return projectSchema;
}

export async function loadProjectFile(path: string): Promise<ProjectFile> {
  const text = await readText(path, 'the project file');
  const document = parseJsonDocument(text, path);
  await validateWithSchema(await loadProjectSchema(), document, path);
  const raw = document.value as Omit<ProjectFile, 'path'>;
  const project: ProjectFile = {
    path: resolve(path),
    exchanges: raw.exchanges ?? [],
    queues: raw.queues ?? [],
    topics: raw.topics ?? [],
    events: raw.events ?? {},
  };
  checkReferences(project, document);
  return project;
}

/** Exchanges every AMQP broker has without declaring them. */
const BUILT_IN_EXCHANGE = /^amq\./;

/** What the schema cannot say: names are unique, references resolve, dead-letter queues are classic. */
function checkReferences(project: ProjectFile, document: JsonDocument): void {
  const fail = (message: string, path: (string | number)[]) =>
    new InputError(message, { position: { file: project.path, ...document.locate(path) } });
  const exchanges = new Set<string>();
  project.exchanges.forEach((exchange, index) => {
    if (exchanges.has(exchange.name))
      throw fail(`exchange "${exchange.name}" is declared twice`, ['exchanges', index, 'name']);
    exchanges.add(exchange.name);
  });
  const knownExchange = (name: string) => exchanges.has(name) || BUILT_IN_EXCHANGE.test(name);
  const queueNames = new Set<string>();
  project.queues.forEach((queue, index) => {
    if (queueNames.has(queue.name))
      throw fail(`queue "${queue.name}" is declared twice`, ['queues', index, 'name']);
    queueNames.add(queue.name);
    (queue.bindings ?? []).forEach((binding, bindingIndex) => {
      if (!knownExchange(binding.exchange)) {
        throw fail(`queue "${queue.name}" binds to undeclared exchange "${binding.exchange}"`, [
          'queues',
          index,
          'bindings',
          bindingIndex,
          'exchange',
        ]);
      }
    });
    if (queue.deadLetterQueue === queue.name) {
      throw fail(`queue "${queue.name}" cannot be its own dead-letter queue`, [
        'queues',
        index,
        'deadLetterQueue',
      ]);
    }
  });
  project.queues.forEach((queue, index) => {
    const dlq = project.queues.find((other) => other.name === queue.deadLetterQueue);
    if (dlq?.type === 'quorum') {
      throw fail(
        `dead-letter queue "${dlq.name}" must be a classic queue, so dead letters can be listed without spending deliveries`,
        ['queues', index, 'deadLetterQueue'],
      );
    }
  });
  const topicNames = new Set<string>();
  project.topics.forEach((topic, index) => {
    if (topicNames.has(topic.name))
      throw fail(`topic "${topic.name}" is declared twice`, ['topics', index, 'name']);
    topicNames.add(topic.name);
  });
  for (const [name, event] of Object.entries(project.events)) {
    if (event.exchange !== undefined && !knownExchange(event.exchange)) {
      throw fail(`event "${name}" publishes to undeclared exchange "${event.exchange}"`, [
        'events',
        name,
        'exchange',
      ]);
    }
  }
}

/** The event's JSON Schema, read from its file when it names one. */
export async function loadEventSchema(
  project: ProjectFile,
  event: EventDecl,
): Promise<{ schema: object; file: string } | null> {
  if (event.schema === undefined) return null;
  if (typeof event.schema === 'object') return { schema: event.schema, file: project.path };
  const file = resolve(dirname(project.path), event.schema);
  const document = parseJsonDocument(await readText(file, 'the event schema'), file);
  if (typeof document.value !== 'object' || document.value === null) {
    throw new InputError('a JSON Schema must be an object', {
      position: { file, line: 1, column: 1 },
    });
  }
  return { schema: document.value, file };
}
