/**
 * The shared RabbitMQ node (DESIGN.md §10) for tests: each test file gets a vhost of its own,
 * created and deleted through the management API, so nothing touches the `/` vhost or another
 * file's queues.
 */
import { randomUUID } from 'node:crypto';
import type { RabbitMqSpec } from '../../src/config/broker-url.js';
import { parseBrokerUrl } from '../../src/config/broker-url.js';
import { brokerSuite, tcpProbe } from './brokers.js';

const AMQP_PORT = 5672;
const MANAGEMENT_URL = 'http://127.0.0.1:15672';
const USER = 'guest';
const PASSWORD = 'guest';

/** True when RabbitMQ answers on 5672; otherwise a visible skip (or a failure under MQ_TEST_REQUIRE_BROKERS=1). */
export function rabbitMqAvailable(): Promise<boolean> {
  return brokerSuite({
    broker: 'RabbitMQ',
    probe: tcpProbe('127.0.0.1', AMQP_PORT),
    howToStart: 'npm run brokers:up',
  });
}

/** A management API request as guest; a 404 is an answer, anything else not OK throws. */
export async function management(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${MANAGEMENT_URL}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response;
}

/** A fresh vhost `mq-test-<uuid>` that guest may use fully. */
export async function createVhost(): Promise<string> {
  const vhost = `mq-test-${randomUUID()}`;
  const path = encodeURIComponent(vhost);
  await management('PUT', `/api/vhosts/${path}`, { description: 'mq test run' });
  await management('PUT', `/api/permissions/${path}/${USER}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
  return vhost;
}

export async function deleteVhost(vhost: string): Promise<void> {
  await management('DELETE', `/api/vhosts/${encodeURIComponent(vhost)}`);
}

export async function serverVersion(): Promise<string> {
  const response = await management('GET', '/api/overview');
  return ((await response.json()) as { rabbitmq_version: string }).rabbitmq_version;
}

/** `amqp://guest:guest@127.0.0.1:5672/<vhost>`, the form `--broker` takes. */
export function brokerUrl(vhost: string, password = PASSWORD): string {
  return `amqp://${USER}:${password}@127.0.0.1:${AMQP_PORT}/${encodeURIComponent(vhost)}`;
}

export function rabbitMqSpec(vhost: string): RabbitMqSpec {
  const spec = parseBrokerUrl(brokerUrl(vhost), { env: {}, cwd: process.cwd() });
  if (spec.kind !== 'rabbitmq') throw new Error(`not a RabbitMQ URL: ${spec.display}`);
  return spec;
}
