/**
 * The shared Kafka node (DESIGN.md §10, `npm run brokers:up`) for tests: availability, and an
 * admin client to create and delete the uniquely named topics each test uses. kafkajs is used here
 * directly, as the Kafka tools would be: the code under test is mq, not these helpers.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import type { Admin } from 'kafkajs';
import { parseBrokerUrl, type KafkaSpec } from '../../src/config/broker-url.js';
import { brokerSuite, tcpProbe, uniqueName } from './brokers.js';
import { REPO_ROOT } from './cli.js';

const { Kafka, logLevel } = kafkajs;

export const KAFKA_HOST = '127.0.0.1';
export const KAFKA_PORT = 9092;
export const KAFKA_URL = `kafka://${KAFKA_HOST}:${KAFKA_PORT}`;
/** The SASL_PLAINTEXT listener `brokers:up` opens, with its PLAIN user. */
export const KAFKA_SASL_PORT = 9094;
export const KAFKA_SASL_USER = { name: 'mq', password: 'mq-secret' };
/** The SSL listener `npm run brokers:up` opens, and the CA that signed its certificate. */
export const KAFKA_SSL_PORT = 9095;
export const KAFKA_CA_CERT = join(REPO_ROOT, '.brokers', 'kafka', 'tls', 'ca.pem');
/** The SCRAM user `npm run brokers:up` creates (SCRAM-SHA-256 and SCRAM-SHA-512). */
export const KAFKA_SCRAM_USER = { name: 'mq-scram', password: 'mq-scram-secret' };

/** True when Kafka answers on 9092; otherwise a visible skip (or a failure under MQ_TEST_REQUIRE_BROKERS=1). */
export async function kafkaAvailable(): Promise<boolean> {
  const ready = await brokerSuite({
    broker: 'Kafka',
    probe: tcpProbe(KAFKA_HOST, KAFKA_PORT),
    howToStart: 'npm run brokers:up',
  });
  if (ready) await warmGroupCoordinator();
  return ready;
}

/**
 * A broker started moments ago (as in CI) creates `__consumer_offsets` on the first group request
 * and answers "coordinator not available" until it is ready; the first test to use a group would
 * otherwise pay for that, within its own timeout.
 */
async function warmGroupCoordinator(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await (await kafkaAdmin()).describeGroups(['mq-test-warm-up']);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export function kafkaSpec(url = KAFKA_URL): KafkaSpec {
  const spec = parseBrokerUrl(url, { env: {}, cwd: process.cwd() });
  if (spec.kind !== 'kafka') throw new Error(`not a Kafka URL: ${spec.display}`);
  return spec;
}

let admin: Admin | null = null;

/** One admin client per test file; `disconnectAdmin()` in afterAll. */
export async function kafkaAdmin(): Promise<Admin> {
  if (admin === null) {
    const kafka = new Kafka({
      brokers: [`${KAFKA_HOST}:${KAFKA_PORT}`],
      clientId: 'mq-tests',
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  }
  return admin;
}

export async function disconnectAdmin(): Promise<void> {
  await admin?.disconnect();
  admin = null;
}

/** A new topic `<prefix>-<uuid>`, ready (leaders elected) when this resolves. */
export async function createTopic(prefix: string, partitions = 1): Promise<string> {
  const topic = uniqueName(prefix);
  await (
    await kafkaAdmin()
  ).createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  return topic;
}

export async function deleteTopics(topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const existing = new Set(await listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  if (present.length > 0) await (await kafkaAdmin()).deleteTopics({ topics: present });
}

export async function listTopics(): Promise<string[]> {
  return (await kafkaAdmin()).listTopics();
}

export type KcatCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/**
 * Produces one record per line of `lines` with kcat (librdkafka), compressed with `codec`, as one
 * batch: how the Java client and kcat write topics mq must read.
 */
export function kcatProduce(
  topic: string,
  lines: readonly string[],
  options: { codec?: KcatCodec; key?: string; headers?: [string, string][] } = {},
): Promise<void> {
  const args = [
    '-P',
    '-b',
    `${KAFKA_HOST}:${KAFKA_PORT}`,
    '-t',
    topic,
    '-z',
    options.codec ?? 'none',
  ];
  if (options.key !== undefined) args.push('-k', options.key);
  for (const [name, value] of options.headers ?? []) args.push('-H', `${name}=${value}`);
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`kcat failed: ${error.message} ${stderr}`));
      else resolve();
    });
    child.stdin?.end(`${lines.join('\n')}\n`);
  });
}
