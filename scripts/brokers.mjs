#!/usr/bin/env node
// Starts, stops and reports the brokers the integration tests run against.
//
//   node scripts/brokers.mjs up     [--no-rabbitmq] [--no-kafka]
//   node scripts/brokers.mjs down   [--no-rabbitmq] [--no-kafka]
//   node scripts/brokers.mjs status [--no-rabbitmq] [--no-kafka]
//
// RabbitMQ is the machine's shared service (Debian package): `up` starts it only when it does
// not answer and makes sure the management plugin is on; `down` never stops it.
// Kafka is ours: a single KRaft node built from Apache Kafka's Maven Central artifacts (no
// tarball, no Docker), with everything it writes under <repo>/.brokers/.
// See docs/brokers.md for the why behind each setting.
//
// Plain Node 20 ESM, node: built-ins only: this runs before `npm install` may have happened.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Constants (printed by `status`; tests hard-code the same values)

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATE_DIR = path.join(REPO_DIR, '.brokers'); // git-ignored

const HOST = '127.0.0.1';

const RABBITMQ = {
  amqpPort: 5672,
  managementPort: 15672,
  user: 'guest',
  password: 'guest',
  startTimeoutMs: 90_000,
  managementTimeoutMs: 60_000,
};

const KAFKA_DEFAULT_VERSION = '3.9.1'; // 4.1.1 also passes; pick with MQ_KAFKA_VERSION
const KAFKA = {
  port: 9092, // PLAINTEXT: what the tests use
  controllerPort: 9093, // KRaft controller listener
  saslPort: 9094, // SASL_PLAINTEXT: authentication tests only
  sslPort: 9095, // SSL, with a certificate of a CA made here: TLS tests only
  nodeId: 1,
  plainUser: { name: 'mq', password: 'mq-secret' },
  scramUser: { name: 'mq-scram', password: 'mq-scram-secret' },
  scramMechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'],
  startTimeoutMs: 120_000,
  stopTimeoutMs: 30_000,
  // KafkaRaftServer logs this once every listener is bound and the broker is unfenced.
  readyLine: 'Kafka Server started',
  jvmOptions: [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
  ],
};
const KAFKA_SASL_MECHANISMS = ['PLAIN', ...KAFKA.scramMechanisms];

// Pinned so Maven does not have to resolve the plugin prefix (one more network round trip and
// a moving target). 3.8.1 runs on Maven >= 3.6.3.
const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const MAVEN_TIMEOUT_MS = 15 * 60_000;

// kafka_2.13's Maven dependencies carry slf4j-api but no backend: without one the broker logs
// nothing at all (so "Kafka Server started" never shows). Kafka 3.x ships reload4j (log4j 1
// API), Kafka 4.x ships log4j 2; we add the same ones its tarball has.
const KAFKA_LOGGING = {
  reload4j: {
    dependencies: [
      ['org.slf4j', 'slf4j-reload4j', '1.7.36'],
      ['ch.qos.reload4j', 'reload4j', '1.2.25'],
    ],
    configFile: 'log4j.properties',
    systemProperty: (file) => `-Dlog4j.configuration=file:${file}`,
  },
  log4j2: {
    dependencies: [
      ['org.apache.logging.log4j', 'log4j-slf4j-impl', '2.24.3'],
      ['org.apache.logging.log4j', 'log4j-core', '2.24.3'],
      ['org.apache.logging.log4j', 'log4j-api', '2.24.3'],
    ],
    configFile: 'log4j2.properties',
    systemProperty: (file) => `-Dlog4j2.configurationFile=${file}`,
  },
};
const LOG_MAX_FILE_MB = 20;
const LOG_BACKUPS = 3;

// Per-version Maven cache (pom.xml, classpath.txt, maven.log) lives in .brokers/kafka-<version>/;
// the running node (configs, data, logs, pid) lives in .brokers/kafka/, whatever its version.
const KAFKA_DIR = path.join(STATE_DIR, 'kafka');
const KAFKA_PATHS = {
  serverProperties: path.join(KAFKA_DIR, 'server.properties'),
  dataDir: path.join(KAFKA_DIR, 'data'),
  formatStamp: path.join(KAFKA_DIR, 'format.json'),
  pidFile: path.join(KAFKA_DIR, 'kafka.pid'),
  logsDir: path.join(KAFKA_DIR, 'logs'),
  serverLog: path.join(KAFKA_DIR, 'logs', 'server.log'), // log4j output, rolled by size
  previousServerLog: path.join(KAFKA_DIR, 'logs', 'server.previous.log'),
  jvmOut: path.join(KAFKA_DIR, 'logs', 'kafka.out'), // JVM stdout/stderr: crashes before logging starts
  tlsDir: path.join(KAFKA_DIR, 'tls'),
  caCert: path.join(KAFKA_DIR, 'tls', 'ca.pem'), // what a client trusts (tests: context --ca)
  keystore: path.join(KAFKA_DIR, 'tls', 'server-keystore.pem'), // key + certificate, PEM
};

const KAFKA_LOCK_FILE = path.join(STATE_DIR, 'kafka.lock');
const LOCK_WAIT_MS = MAVEN_TIMEOUT_MS + KAFKA.startTimeoutMs;

const POLL_MS = 250;

// ---------------------------------------------------------------------------------------------
// Small helpers

class BrokerError extends Error {}

const fail = (message) => {
  throw new BrokerError(message);
};

const progress = (line) => process.stderr.write(`${line}\n`);

/** A path as the user would type it from the repo root. */
const rel = (file) => path.relative(process.cwd(), file) || '.';

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Finds an executable on PATH, plus the sbin dirs a non-root PATH may lack (rabbitmq-server). */
function which(command, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** Runs a command to completion, capturing its output (never inherits our stdio). */
function run(command, args, { timeoutMs = 60_000, cwd, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, output: `${output}${error.message}\n` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output: signal ? `${output}killed by ${signal}\n` : output });
    });
  });
}

/** The last non-empty line of some output that looks like the reason for a failure. */
function lastErrorLine(text, pattern = /ERROR|Exception|Error:|error/) {
  const lines = (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const hit = [...lines].reverse().find((l) => pattern.test(l)) ?? lines.at(-1) ?? '';
  return hit.length > 240 ? `${hit.slice(0, 237)}...` : hit;
}

async function waitFor(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(POLL_MS);
  }
  return false;
}

/**
 * Connects to HOST:port, optionally writes `request`, and resolves with what came back once
 * `complete(buffer)` says so. Resolves null when nothing listens (or on timeout/close).
 */
function tcpExchange(port, request, complete, timeoutMs = 2_000) {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: HOST, port });
    const finish = (value) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(received.length ? received : null));
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(received.length ? received : null));
    socket.on('connect', () => {
      if (!request) return finish(Buffer.alloc(0));
      socket.write(request);
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (complete(received)) finish(received);
    });
  });
}

/** True when something accepts TCP connections on HOST:port. */
const portOpen = async (port) => (await tcpExchange(port, null, () => true)) !== null;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping (Linux /proc: this only ever runs on the Debian test machines)

/** Alive and not a zombie (a container without an init process may never reap the JVM). */
function isAlive(pid) {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

const commandLine = (pid) => (readText(`/proc/${pid}/cmdline`) ?? '').split('\0');

/** Our broker is the JVM running kafka.Kafka on *our* server.properties (pids get reused). */
function isOurKafka(pid) {
  const args = commandLine(pid);
  return (
    args.includes('kafka.Kafka') && args.includes(KAFKA_PATHS.serverProperties) && isAlive(pid)
  );
}

/** The Kafka version a JVM runs, read from the kafka_2.13-<version>.jar on its classpath. */
function versionOf(pid) {
  const match = commandLine(pid)
    .join(' ')
    .match(/kafka_2\.13-([0-9][^/:\s]*)\.jar/);
  return match ? match[1] : 'unknown';
}

/** Our running broker: from the pid file, else by scanning /proc (the pid file may be gone). */
function findOurKafka() {
  const recorded = Number.parseInt(readText(KAFKA_PATHS.pidFile) ?? '', 10);
  if (recorded > 0 && isOurKafka(recorded)) return { pid: recorded, version: versionOf(recorded) };
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 0 && isOurKafka(pid))
      return { pid, version: versionOf(pid) };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ

const RABBITMQ_SBIN_DIRS = ['/usr/sbin', '/usr/lib/rabbitmq/bin', '/usr/local/sbin'];

/** Sends the AMQP 0-9-1 protocol header; a broker answers with connection.start (a method frame). */
async function amqpAnswers() {
  const header = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]); // "AMQP" 0 0 9 1
  const reply = await tcpExchange(RABBITMQ.amqpPort, header, (buf) => buf.length >= 1);
  // 0x01 = method frame; "AMQP..." = a broker that wants another protocol version (still AMQP).
  return (
    reply !== null &&
    reply.length > 0 &&
    (reply[0] === 1 || reply.subarray(0, 4).toString() === 'AMQP')
  );
}

/** HTTP status of the management API overview with guest/guest, 0 when nothing answers. */
async function managementStatus() {
  const credentials = Buffer.from(`${RABBITMQ.user}:${RABBITMQ.password}`).toString('base64');
  try {
    const response = await fetch(`http://${HOST}:${RABBITMQ.managementPort}/api/overview`, {
      headers: { Authorization: `Basic ${credentials}` },
      signal: AbortSignal.timeout(3_000),
    });
    await response.arrayBuffer(); // drain, so the socket is released
    return response.status;
  } catch {
    return 0;
  }
}

async function rabbitmqUp() {
  const started = Date.now();
  const server = which('rabbitmq-server', RABBITMQ_SBIN_DIRS);
  if (!server) {
    fail(
      'rabbitmq: rabbitmq-server is not installed (apt-get install rabbitmq-server), or pass --no-rabbitmq',
    );
  }

  if (!(await amqpAnswers())) {
    progress(
      `rabbitmq: not answering on ${HOST}:${RABBITMQ.amqpPort}; starting rabbitmq-server -detached…`,
    );
    const result = await run(server, ['-detached'], { timeoutMs: 60_000 });
    if (result.code !== 0)
      fail(`rabbitmq: rabbitmq-server -detached failed: ${lastErrorLine(result.output)}`);
    if (!(await waitFor(amqpAnswers, RABBITMQ.startTimeoutMs))) {
      fail(
        `rabbitmq: no answer on ${HOST}:${RABBITMQ.amqpPort} after ${seconds(RABBITMQ.startTimeoutMs)}; see /var/log/rabbitmq/`,
      );
    }
  }

  let status = await managementStatus();
  if (status === 401)
    fail(`rabbitmq: the management API rejects ${RABBITMQ.user}/${RABBITMQ.password} (HTTP 401)`);
  if (status !== 200) {
    // Enabling is idempotent, but it boots an Erlang VM (seconds), so only when the API is not up.
    progress('rabbitmq: enabling rabbitmq_management…');
    const plugins = which('rabbitmq-plugins', RABBITMQ_SBIN_DIRS);
    if (!plugins) fail('rabbitmq: rabbitmq-plugins not found next to rabbitmq-server');
    const result = await run(plugins, ['enable', 'rabbitmq_management'], { timeoutMs: 120_000 });
    if (result.code !== 0)
      fail(
        `rabbitmq: rabbitmq-plugins enable rabbitmq_management failed: ${lastErrorLine(result.output)}`,
      );
    const ready = await waitFor(async () => {
      status = await managementStatus();
      return status === 200 || status === 401;
    }, RABBITMQ.managementTimeoutMs);
    if (status === 401)
      fail(`rabbitmq: the management API rejects ${RABBITMQ.user}/${RABBITMQ.password} (HTTP 401)`);
    if (!ready) {
      fail(
        `rabbitmq: management API not answering on http://${HOST}:${RABBITMQ.managementPort} after ${seconds(RABBITMQ.managementTimeoutMs)}`,
      );
    }
  }
  progress(
    `rabbitmq: ready on ${HOST}:${RABBITMQ.amqpPort} (management on http://${HOST}:${RABBITMQ.managementPort}) in ${seconds(Date.now() - started)}`,
  );
}

async function rabbitmqStatusLine() {
  const amqp = await amqpAnswers();
  const management = await managementStatus();
  const managementText =
    management === 200 ? 'up' : management === 0 ? 'down' : `HTTP ${management}`;
  return {
    up: amqp && management === 200,
    line:
      `rabbitmq: ${amqp ? 'up' : 'down'} on ${HOST}:${RABBITMQ.amqpPort} (${RABBITMQ.user}/${RABBITMQ.password}), ` +
      `management http://${HOST}:${RABBITMQ.managementPort} ${managementText}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Kafka: wire-level readiness probe

/**
 * Sends a Kafka ApiVersions v0 request and checks the reply. Any real Kafka answers it (a
 * broker that dropped v0 still answers, with UNSUPPORTED_VERSION), so this tells "Kafka is
 * serving" apart from "the port is open".
 */
async function kafkaAnswers(port = KAFKA.port) {
  const correlationId = 0x6d71; // "mq"
  const clientId = Buffer.from('mq-brokers-script');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // api_key: ApiVersions
  body.writeInt16BE(0, 2); // api_version
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);

  const reply = await tcpExchange(
    port,
    Buffer.concat([size, body]),
    (buf) => buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0),
  );
  if (!reply || reply.length < 10) return false;
  const errorCode = reply.readInt16BE(8);
  return reply.readInt32BE(4) === correlationId && (errorCode === 0 || errorCode === 35);
}

// ---------------------------------------------------------------------------------------------
// Kafka: classpath from Maven Central

function kafkaVersion() {
  const version = process.env.MQ_KAFKA_VERSION?.trim() || KAFKA_DEFAULT_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version))
    fail(`kafka: MQ_KAFKA_VERSION must look like 3.9.1, got "${version}"`);
  const major = Number(version.split('.')[0]);
  if (major < 3)
    fail(`kafka: version ${version} is not supported (KRaft with SCRAM at format time needs 3.5+)`);
  return version;
}

const loggingFor = (version) =>
  Number(version.split('.')[0]) >= 4 ? KAFKA_LOGGING.log4j2 : KAFKA_LOGGING.reload4j;

function renderPom(version) {
  const dependencies = [
    ['org.apache.kafka', 'kafka_2.13', version],
    ...loggingFor(version).dependencies,
  ]
    .map(
      ([groupId, artifactId, v]) =>
        `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${v}</version></dependency>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/brokers.mjs: only here so Maven resolves Kafka ${version}'s classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.mq-cli</groupId>
  <artifactId>test-kafka-classpath</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dependencies}
  </dependencies>
</project>
`;
}

/**
 * Returns the broker's classpath, resolving it with Maven once per version. The cache is
 * trusted only if the pom is the one we would write now and every jar is still in ~/.m2.
 */
async function kafkaClasspath(version) {
  const dir = path.join(STATE_DIR, `kafka-${version}`);
  const pomFile = path.join(dir, 'pom.xml');
  const classpathFile = path.join(dir, 'classpath.txt');
  const mavenLog = path.join(dir, 'maven.log');
  const pom = renderPom(version);

  const cached = readText(classpathFile)?.trim();
  if (cached && readText(pomFile) === pom) {
    const jars = cached.split(path.delimiter);
    if (jars.length > 0 && jars.every((jar) => fs.existsSync(jar))) return cached;
  }

  const mvn = which('mvn');
  if (!mvn) fail('kafka: mvn not found (Maven 3 fetches Kafka from Maven Central)');
  progress(`kafka: downloading ${version} from Maven Central…`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(pomFile, pom);
  const partial = `${classpathFile}.partial`; // renamed only on success: no half-written cache
  fs.rmSync(partial, { force: true });
  const result = await run(
    mvn,
    [
      '-B',
      '-ntp',
      '-Dstyle.color=never',
      '-f',
      pomFile,
      `${MAVEN_DEPENDENCY_PLUGIN}:build-classpath`,
      `-Dmdep.outputFile=${partial}`,
    ],
    { timeoutMs: MAVEN_TIMEOUT_MS, cwd: dir },
  );
  fs.writeFileSync(mavenLog, result.output);
  const classpath = readText(partial)?.trim();
  if (result.code !== 0 || !classpath) {
    fail(
      `kafka: Maven could not resolve Kafka ${version}: ${mavenReason(result.output)} (see ${rel(mavenLog)})`,
    );
  }
  fs.renameSync(partial, classpathFile);
  return classpath;
}

/** Maven's first [ERROR] line holds the cause ("Could not find artifact ..."); the rest is advice. */
function mavenReason(output) {
  const line = output.split('\n').find((l) => /^\[ERROR\] \S/.test(l)) ?? lastErrorLine(output);
  const cause = line.replace(/^\[ERROR\] /, '').replace(/ -> \[Help \d+\]$/, '');
  const tail = cause.split(': ').at(-1) ?? cause; // drop "Failed to execute goal on project ...:"
  return tail.length > 240 ? `${tail.slice(0, 237)}...` : tail;
}

// ---------------------------------------------------------------------------------------------
// Kafka: configuration files

function renderServerProperties(version) {
  const { port, controllerPort, saslPort, sslPort, nodeId, plainUser } = KAFKA;
  const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const lines = [
    `# Generated by scripts/brokers.mjs for Kafka ${version}; rewritten on every start.`,
    '# Single-node KRaft: one process is both broker and controller.',
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    // Static voters: storage is formatted WITHOUT --standalone (that flag is for dynamic quorums).
    `controller.quorum.voters=${nodeId}@${HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort},SASL_PLAINTEXT://${HOST}:${saslPort},SSL://${HOST}:${sslPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port},SASL_PLAINTEXT://${HOST}:${saslPort},SSL://${HOST}:${sslPort}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    // The key and certificate in one PEM file (an unencrypted PKCS#8 key needs no password).
    'listener.name.ssl.ssl.keystore.type=PEM',
    `listener.name.ssl.ssl.keystore.location=${KAFKA_PATHS.keystore}`,
    // Broker-to-broker and controller traffic stays unauthenticated; SASL is for clients only.
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `listener.name.sasl_plaintext.sasl.enabled.mechanisms=${KAFKA_SASL_MECHANISMS.join(',')}`,
    // PLAIN users live in the JAAS config (user_<name>="<password>"); SCRAM users live in the
    // cluster metadata (added at format time below), their login module needs no options.
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${plainUser.name}="${plainUser.password}";`,
    ...KAFKA.scramMechanisms.map(
      (m) => `listener.name.sasl_plaintext.${m.toLowerCase()}.sasl.jaas.config=${scramJaas}`,
    ),
    `log.dirs=${KAFKA_PATHS.dataDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // The internal topics default to replication factor 3: on one node, groups and
    // transactions would hang waiting for replicas that never exist.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Tests create their topics explicitly (kafkajs would otherwise auto-create on metadata).
    'auto.create.topics.enable=false',
    // The default 3 s delay before the first rebalance only slows tests down; a benchmark of what
    // users see sets MQ_KAFKA_GROUP_DELAY_MS=3000 (Kafka's default).
    `group.initial.rebalance.delay.ms=${groupDelayMs()}`,
  ];
  if (Number(version.split('.')[0]) >= 4) {
    // Share groups (4.x) have their own internal topic, also replication factor 3 by default.
    lines.push(
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
    );
  }
  return `${lines.join('\n')}\n`;
}

function groupDelayMs() {
  const value = process.env.MQ_KAFKA_GROUP_DELAY_MS?.trim() || '0';
  if (!/^\d+$/.test(value))
    fail(`kafka: MQ_KAFKA_GROUP_DELAY_MS must be milliseconds, got "${value}"`);
  return value;
}

/** Broker logging: one size-rolled file, so long test sessions cannot fill the disk. */
function renderBrokerLogging(logging) {
  const file = KAFKA_PATHS.serverLog;
  const pattern = '[%d] %p %m (%c)%n';
  if (logging === KAFKA_LOGGING.reload4j) {
    return [
      '# Generated by scripts/brokers.mjs (log4j 1 / reload4j, Kafka 3.x).',
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.RollingFileAppender',
      `log4j.appender.file.File=${file}`,
      `log4j.appender.file.MaxFileSize=${LOG_MAX_FILE_MB}MB`,
      `log4j.appender.file.MaxBackupIndex=${LOG_BACKUPS}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      `log4j.appender.file.layout.ConversionPattern=${pattern}`,
      'log4j.logger.kafka.request.logger=WARN',
      '',
    ].join('\n');
  }
  return [
    '# Generated by scripts/brokers.mjs (log4j 2, Kafka 4.x).',
    'status = warn',
    // log4j 2's own shutdown hook races Kafka's and cuts the log off mid-shutdown.
    'shutdownHook = disable',
    'appender.file.type = RollingFile',
    'appender.file.name = file',
    `appender.file.fileName = ${file}`,
    `appender.file.filePattern = ${file}.%i`,
    'appender.file.layout.type = PatternLayout',
    `appender.file.layout.pattern = ${pattern}`,
    'appender.file.policies.type = Policies',
    'appender.file.policies.size.type = SizeBasedTriggeringPolicy',
    `appender.file.policies.size.size = ${LOG_MAX_FILE_MB}MB`,
    'appender.file.strategy.type = DefaultRolloverStrategy',
    `appender.file.strategy.max = ${LOG_BACKUPS}`,
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    '',
  ].join('\n');
}

/** Command-line tools (StorageTool) log warnings to stderr, which we capture. */
function renderToolLogging(logging) {
  if (logging === KAFKA_LOGGING.reload4j) {
    return [
      'log4j.rootLogger=WARN, stderr',
      'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stderr.Target=System.err',
      'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n');
  }
  return [
    'status = warn',
    'appender.stderr.type = Console',
    'appender.stderr.name = stderr',
    'appender.stderr.target = SYSTEM_ERR',
    'appender.stderr.layout.type = PatternLayout',
    'appender.stderr.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = warn',
    'rootLogger.appenderRef.stderr.ref = stderr',
    '',
  ].join('\n');
}

/**
 * A CA and a certificate for 127.0.0.1 signed by it, made once with openssl, for the SSL listener:
 * tests trust the CA (KAFKA_PATHS.caCert) the way a user trusts their company's.
 */
function ensureKafkaTls() {
  if (fs.existsSync(KAFKA_PATHS.keystore) && fs.existsSync(KAFKA_PATHS.caCert)) return;
  const openssl = which('openssl');
  if (!openssl)
    fail('kafka: openssl is not installed (apt-get install openssl); the SSL listener needs it');
  const dir = KAFKA_PATHS.tlsDir;
  fs.mkdirSync(dir, { recursive: true });
  const file = (name) => path.join(dir, name);
  const openSsl = (...args) => execFileSync(openssl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const days = ['-days', '3650'];
  openSsl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    KAFKA_PATHS.caCert,
    ...days,
    '-subj',
    '/CN=mq test CA',
  );
  openSsl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    `/CN=${HOST}`,
  );
  fs.writeFileSync(file('server.ext'), `subjectAltName=IP:${HOST},DNS:localhost\n`);
  openSsl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    KAFKA_PATHS.caCert,
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    ...days,
    '-extfile',
    file('server.ext'),
  );
  fs.writeFileSync(
    KAFKA_PATHS.keystore,
    fs.readFileSync(file('server.key'), 'utf8') + fs.readFileSync(file('server.pem'), 'utf8'),
    { mode: 0o600 },
  );
}

/** Writes every config file for `version`; returns the JVM system properties for logging. */
function writeKafkaConfigs(version) {
  ensureKafkaTls();
  const logging = loggingFor(version);
  fs.mkdirSync(KAFKA_PATHS.logsDir, { recursive: true });
  fs.writeFileSync(KAFKA_PATHS.serverProperties, renderServerProperties(version));
  const brokerLogConfig = path.join(KAFKA_DIR, logging.configFile);
  const toolLogConfig = path.join(KAFKA_DIR, `tools-${logging.configFile}`);
  fs.writeFileSync(brokerLogConfig, renderBrokerLogging(logging));
  fs.writeFileSync(toolLogConfig, renderToolLogging(logging));
  // Drop the other Kafka generation's logging files, so the directory shows what is in use.
  for (const other of Object.values(KAFKA_LOGGING).filter((l) => l !== logging)) {
    fs.rmSync(path.join(KAFKA_DIR, other.configFile), { force: true });
    fs.rmSync(path.join(KAFKA_DIR, `tools-${other.configFile}`), { force: true });
  }
  return {
    broker: [logging.systemProperty(brokerLogConfig), `-Dkafka.logs.dir=${KAFKA_PATHS.logsDir}`],
    tools: [logging.systemProperty(toolLogConfig)],
  };
}

// ---------------------------------------------------------------------------------------------
// Kafka: storage format (KRaft needs it before the first start; SCRAM users are created here)

/** A Kafka Uuid as text: 16 random bytes, URL-safe base64 without padding, never starting "-". */
function newClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** What the formatted data depends on: a change to any of these means wipe and re-format. */
function formatFingerprint(version) {
  const inputs = JSON.stringify({
    version,
    nodeId: KAFKA.nodeId,
    voters: `${KAFKA.nodeId}@${HOST}:${KAFKA.controllerPort}`,
    scramUser: KAFKA.scramUser,
    scramMechanisms: KAFKA.scramMechanisms,
  });
  return createHash('sha256').update(inputs).digest('hex').slice(0, 16);
}

async function ensureKafkaFormatted(version, classpath, toolProps) {
  const fingerprint = formatFingerprint(version);
  let stamp = null;
  try {
    stamp = JSON.parse(readText(KAFKA_PATHS.formatStamp) ?? 'null');
  } catch {
    // unreadable stamp: treat as unformatted
  }
  const metaProperties = path.join(KAFKA_PATHS.dataDir, 'meta.properties');
  if (stamp?.fingerprint === fingerprint && fs.existsSync(metaProperties)) return;

  if (fs.existsSync(KAFKA_PATHS.dataDir)) {
    const why =
      stamp?.version && stamp.version !== version
        ? `it holds Kafka ${stamp.version} data`
        : 'its settings changed';
    progress(`kafka: wiping ${rel(KAFKA_PATHS.dataDir)} (${why})…`);
  }
  // Metadata written by another version (or other SCRAM users) is not ours to upgrade: start clean.
  fs.rmSync(KAFKA_PATHS.dataDir, { recursive: true, force: true });
  fs.rmSync(KAFKA_PATHS.formatStamp, { force: true });

  const clusterId = newClusterId();
  const { name, password } = KAFKA.scramUser;
  const scramArgs = KAFKA.scramMechanisms.flatMap((m) => [
    '--add-scram',
    `${m}=[name=${name},password=${password}]`,
  ]);
  const result = await run(
    javaCommand(),
    [
      ...toolProps,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      clusterId,
      '--config',
      KAFKA_PATHS.serverProperties,
      ...scramArgs,
    ],
    { timeoutMs: 120_000, cwd: KAFKA_DIR },
  );
  if (result.code !== 0) fail(`kafka: formatting storage failed: ${lastErrorLine(result.output)}`);
  fs.writeFileSync(
    KAFKA_PATHS.formatStamp,
    `${JSON.stringify({ version, clusterId, fingerprint }, null, 2)}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Kafka: start, wait, stop

function javaCommand() {
  const fromHome = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : null;
  if (fromHome && fs.existsSync(fromHome)) return fromHome;
  const java = which('java');
  if (!java) fail('kafka: java not found (Kafka needs Java 17; set JAVA_HOME or put java on PATH)');
  return java;
}

/** Keeps the previous run's log for post-mortems, and makes the ready-line check see this run only. */
function rotateLogsForNewRun() {
  const { logsDir, serverLog, previousServerLog } = KAFKA_PATHS;
  if (fs.existsSync(serverLog)) fs.renameSync(serverLog, previousServerLog);
  for (const entry of fs.readdirSync(logsDir)) {
    if (entry.startsWith('server.log.')) fs.rmSync(path.join(logsDir, entry), { force: true });
  }
}

function startKafka(classpath, brokerProps) {
  rotateLogsForNewRun();
  const out = fs.openSync(KAFKA_PATHS.jvmOut, 'w');
  const child = spawn(
    javaCommand(),
    [
      ...KAFKA.jvmOptions,
      ...brokerProps,
      '-cp',
      classpath,
      'kafka.Kafka',
      KAFKA_PATHS.serverProperties,
    ],
    { cwd: KAFKA_DIR, detached: true, stdio: ['ignore', out, out] }, // own session: outlives us
  );
  fs.closeSync(out);
  const exit = { code: null, signal: null, exited: false };
  child.on('exit', (code, signal) => Object.assign(exit, { code, signal, exited: true }));
  child.on('error', (error) =>
    Object.assign(exit, { code: -1, signal: error.message, exited: true }),
  );
  child.unref();
  fs.writeFileSync(KAFKA_PATHS.pidFile, `${child.pid}\n`);
  return { pid: child.pid, exit };
}

/** The most useful line from the broker's logs when it did not come up. */
function kafkaFailureHint() {
  const fromLog = lastErrorLine(readText(KAFKA_PATHS.serverLog), /ERROR|FATAL|Exception/);
  const fromJvm = lastErrorLine(readText(KAFKA_PATHS.jvmOut));
  return fromLog || fromJvm;
}

const logsHint = () => `see ${rel(KAFKA_PATHS.serverLog)} and ${rel(KAFKA_PATHS.jvmOut)}`;

/** Ready = the log says "Kafka Server started" AND the PLAINTEXT port serves Kafka requests. */
async function waitForKafka(pid, exit) {
  const deadline = Date.now() + KAFKA.startTimeoutMs;
  while (Date.now() < deadline) {
    if (exit?.exited || !isAlive(pid)) {
      const how = exit?.exited
        ? exit.signal
          ? `signal ${exit.signal}`
          : `code ${exit.code}`
        : 'unknown status';
      const hint = kafkaFailureHint();
      fail(
        `kafka: the broker exited while starting (${how})${hint ? `: ${hint}` : ''}; ${logsHint()}`,
      );
    }
    const logSaysStarted = (readText(KAFKA_PATHS.serverLog) ?? '').includes(KAFKA.readyLine);
    if (logSaysStarted && (await kafkaAnswers(KAFKA.port))) return;
    await sleep(POLL_MS);
  }
  // A broker that is not up after the deadline is stopped, so a failed `up` leaves nothing behind.
  await stopProcess(pid);
  fail(`kafka: not ready after ${seconds(KAFKA.startTimeoutMs)} (stopped it); ${logsHint()}`);
}

/** SIGTERM (Kafka shuts down cleanly on it), then SIGKILL after KAFKA.stopTimeoutMs. */
async function stopProcess(pid) {
  const signal = (name) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  if (await waitFor(() => !isAlive(pid), KAFKA.stopTimeoutMs)) return 'stopped';
  signal('SIGKILL');
  if (await waitFor(() => !isAlive(pid), 5_000)) return 'killed';
  fail(`kafka: pid ${pid} survived SIGKILL`);
}

/**
 * Serialises `up`/`down` between concurrent runs of this script (two test runners starting at
 * once): without it both would format the same data dir and start two JVMs. The lock file holds
 * the owner's pid, so a lock left by a killed run is recognised as stale and taken over.
 */
async function withKafkaLock(action) {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(KAFKA_LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (error?.code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(readText(KAFKA_LOCK_FILE) ?? '', 10);
    if (!(owner > 0 && isAlive(owner))) {
      fs.rmSync(KAFKA_LOCK_FILE, { force: true }); // stale: its owner is gone
      continue;
    }
    if (Date.now() > deadline)
      fail(`kafka: another brokers.mjs (pid ${owner}) holds ${rel(KAFKA_LOCK_FILE)}`);
    if (!announced) progress(`kafka: waiting for another brokers.mjs (pid ${owner})…`);
    announced = true;
    await sleep(POLL_MS);
  }
  try {
    return await action();
  } finally {
    fs.rmSync(KAFKA_LOCK_FILE, { force: true });
  }
}

const kafkaEndpoints = () =>
  `${HOST}:${KAFKA.port} (sasl on ${KAFKA.saslPort}, ssl on ${KAFKA.sslPort})`;

const kafkaUp = () => withKafkaLock(startOrReuseKafka);
const kafkaDown = () => withKafkaLock(stopKafka);

async function startOrReuseKafka() {
  const started = Date.now();
  const version = kafkaVersion();

  const running = findOurKafka();
  if (running) {
    if (running.version !== version) {
      fail(
        `kafka: ${running.version} is running (pid ${running.pid}) but ${version} was asked for; run \`node scripts/brokers.mjs down\` first`,
      );
    }
    if (await kafkaAnswers(KAFKA.port)) {
      progress(`kafka: ${version} already running (pid ${running.pid}) on ${kafkaEndpoints()}`);
      return;
    }
    // Another `up` started it a moment ago: wait for it rather than start a second one.
    progress(`kafka: ${version} is starting (pid ${running.pid}); waiting…`);
    await waitForKafka(running.pid, null);
    progress(`kafka: ready on ${kafkaEndpoints()} in ${seconds(Date.now() - started)}`);
    return;
  }
  if (await kafkaAnswers(KAFKA.port)) {
    progress(
      `kafka: a Kafka not started by this script already answers on ${HOST}:${KAFKA.port}; leaving it alone`,
    );
    return;
  }
  for (const port of [KAFKA.port, KAFKA.controllerPort, KAFKA.saslPort]) {
    if (await portOpen(port))
      fail(`kafka: port ${HOST}:${port} is taken by something that is not our Kafka`);
  }

  const classpath = await kafkaClasspath(version);
  fs.mkdirSync(KAFKA_DIR, { recursive: true });
  const props = writeKafkaConfigs(version);
  await ensureKafkaFormatted(version, classpath, props.tools);
  progress(`kafka: starting ${version}…`);
  const { pid, exit } = startKafka(classpath, props.broker);
  await waitForKafka(pid, exit);
  progress(
    `kafka: ready on ${kafkaEndpoints()} in ${seconds(Date.now() - started)} (pid ${pid}, log ${rel(KAFKA_PATHS.serverLog)})`,
  );
}

async function stopKafka() {
  const running = findOurKafka();
  if (!running) {
    fs.rmSync(KAFKA_PATHS.pidFile, { force: true });
    const foreign = await kafkaAnswers(KAFKA.port);
    progress(
      `kafka: not running${foreign ? ` (a Kafka not started by this script answers on ${HOST}:${KAFKA.port}; left alone)` : ''}`,
    );
    return;
  }
  progress(`kafka: stopping ${running.version} (pid ${running.pid})…`);
  const how = await stopProcess(running.pid);
  fs.rmSync(KAFKA_PATHS.pidFile, { force: true });
  progress(
    `kafka: ${how === 'killed' ? `killed (no clean exit within ${seconds(KAFKA.stopTimeoutMs)})` : 'stopped'}`,
  );
}

async function kafkaStatusLine() {
  const running = findOurKafka();
  const answers = await kafkaAnswers(KAFKA.port);
  const { plainUser, scramUser } = KAFKA;
  const details =
    `on ${HOST}:${KAFKA.port}, controller ${HOST}:${KAFKA.controllerPort}, ` +
    `sasl_plaintext ${HOST}:${KAFKA.saslPort} (PLAIN ${plainUser.name}/${plainUser.password}; ` +
    `${KAFKA.scramMechanisms.join(' and ')} ${scramUser.name}/${scramUser.password}), log ${rel(KAFKA_PATHS.serverLog)}`;
  if (running) {
    return {
      up: answers,
      line: `kafka: ${running.version} ${answers ? 'up' : 'starting or unhealthy'} (pid ${running.pid}) ${details}`,
    };
  }
  if (answers)
    return { up: true, line: `kafka: up on ${HOST}:${KAFKA.port} (not started by this script)` };
  return { up: false, line: `kafka: down (would start ${kafkaVersion()}) ${details}` };
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = 'usage: node scripts/brokers.mjs up|down|status [--no-rabbitmq] [--no-kafka]';

function parseArgs(argv) {
  const options = { command: null, rabbitmq: true, kafka: true };
  for (const arg of argv) {
    if (arg === '--no-rabbitmq') options.rabbitmq = false;
    else if (arg === '--no-kafka') options.kafka = false;
    else if (arg === '-h' || arg === '--help') options.command = 'help';
    else if (!options.command && ['up', 'down', 'status'].includes(arg)) options.command = arg;
    else fail(`brokers: unexpected argument "${arg}"; ${USAGE}`);
  }
  if (!options.command) fail(USAGE);
  return options;
}

// ---------------------------------------------------------------------------------------------
// kcat: the Kafka tests produce compressed batches (gzip, snappy, lz4, zstd) with it

/**
 * Installs kcat from Debian when it is missing and apt-get is there (CI and a fresh machine run as
 * root). Best effort: without it only the codec tests fail, and they say why.
 */
async function ensureKcat() {
  if (which('kcat')) return;
  const aptGet = which('apt-get', ['/usr/bin', '/usr/sbin']);
  if (!aptGet) {
    progress('kcat: not installed and no apt-get here; the Kafka codec tests need it');
    return;
  }
  progress('kcat: installing (apt-get install kcat) for the Kafka codec tests');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = await run(aptGet, ['install', '-y', '--no-install-recommends', 'kcat'], {
    timeoutMs: 300_000,
    env,
  });
  if (result.code !== 0) {
    await run(aptGet, ['update'], { timeoutMs: 300_000, env });
    result = await run(aptGet, ['install', '-y', '--no-install-recommends', 'kcat'], {
      timeoutMs: 300_000,
      env,
    });
  }
  progress(
    result.code === 0 && which('kcat')
      ? 'kcat: installed'
      : `kcat: could not be installed: ${lastErrorLine(result.output) || 'apt-get failed'}`,
  );
}

/** Runs both brokers' steps side by side; every failure gets its own line. */
async function runEach(tasks) {
  const results = await Promise.allSettled(tasks.map((task) => task()));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  for (const error of failures) {
    process.stderr.write(
      `${error instanceof BrokerError ? error.message : `brokers: ${error?.message ?? error}`}\n`,
    );
  }
  return failures.length === 0;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  switch (options.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return true;
    case 'up':
      return runEach(
        [
          options.rabbitmq && rabbitmqUp,
          options.kafka && kafkaUp,
          options.kafka && ensureKcat,
        ].filter(Boolean),
      );
    case 'down':
      if (options.rabbitmq) progress("rabbitmq: left running (it is the machine's shared service)");
      return runEach([options.kafka && kafkaDown].filter(Boolean));
    case 'status': {
      const checks = [
        options.rabbitmq && rabbitmqStatusLine,
        options.kafka && kafkaStatusLine,
      ].filter(Boolean);
      let allUp = true;
      for (const check of checks) {
        const { up, line } = await check();
        process.stdout.write(`${line}\n`);
        allUp &&= up;
      }
      return allUp;
    }
  }
  return false;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    process.stderr.write(
      `${error instanceof BrokerError ? error.message : `brokers: ${error?.stack ?? error}`}\n`,
    );
    process.exit(1);
  },
);
