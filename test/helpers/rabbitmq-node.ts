/**
 * A RabbitMQ node of the tests' own (DESIGN.md §10), for what must never happen to the shared node
 * on 5672: killing it, a TLS listener, running without the management plugin. It is
 * `mqfault@localhost`: AMQP on 127.0.0.1:5679, AMQPS on 127.0.0.1:5680, distribution on 25679, no
 * plugins, in a temporary directory owned by the `rabbitmq` user (the Debian wrapper drops to that
 * user when started as root, and then shares the Erlang cookie in /var/lib/rabbitmq with
 * rabbitmqctl). Its one user has a password made up for the run, so a test can assert that the
 * password appears nowhere in what mq prints.
 *
 * The TLS listener verifies a client certificate when one is offered (verify_peer) but does not
 * demand one (fail_if_no_peer_cert = false): RabbitMQ's ssl_options apply to every TLS listener, so
 * one port serves both the server-only and the client-certificate cases.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, openSync, closeSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect } from 'amqplib';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { brokerSuite, tcpProbe } from './brokers.js';

export const TEST_NODE_NAME = 'mqfault@localhost';
const HOST = '127.0.0.1';
const AMQP_PORT = 5679;
const TLS_PORT = 5680;
const DIST_PORT = 25679;
/** Where the management API would listen; nothing does, as the node has no plugins. */
const MANAGEMENT_PORT = 15679;
const USER = 'mq-node-test';
/** Temporary directories of this harness start so; a killed run's are removed by the next. */
const DIR_PREFIX = 'mq-rabbit-node-';
/** A boot takes 5–10 s; recovery after SIGKILL a little more. */
const BOOT_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
/** A booting node writes its pid file within this long (it takes ~3 s). */
const PID_FILE_WITHIN_MS = 15_000;

export interface TestNodeTls {
  /** The CA that signed the server's and the client's certificates (PEM). */
  ca: string;
  /** A client certificate signed by that CA, and its key. */
  clientCert: string;
  clientKey: string;
  /** A self-signed client certificate the node does not trust, and its key. */
  untrustedCert: string;
  untrustedKey: string;
}

export interface TestNode {
  readonly name: string;
  readonly host: string;
  readonly amqpPort: number;
  readonly tlsPort: number;
  /** Where a management API would be: nothing answers there. */
  readonly managementUrl: string;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  readonly tls: TestNodeTls;
  /** How long the last boot took, from `rabbitmq-server -detached` to both listeners taking a login. */
  readonly lastBootMs: number;
  /** `amqp://user:password@127.0.0.1:5679/` */
  amqpUrl(): string;
  /** `amqps://user:password@127.0.0.1:5680/` */
  amqpsUrl(): string;
  /** SIGKILL of the node's beam process (fault injection); resolves once its ports are closed. */
  kill(): Promise<void>;
  /** Boots it again on the same data directory: durable queues and persistent messages are back. */
  start(): Promise<void>;
  /** `rabbitmqctl stop`, then removes the directory. Safe to call more than once. */
  stop(): Promise<void>;
  /** `rabbitmqctl -n mqfault@localhost <args>`; its stdout, or an error with its output. */
  rabbitmqctl(...args: string[]): Promise<string>;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

async function mustRun(file: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
  const ran = await run(file, args, env === undefined ? {} : { env });
  if (ran.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${ran.code}: ${ran.stderr || ran.stdout}`);
  }
  return ran.stdout;
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      await access(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this one
    }
  }
  return false;
}

/** The node can be started here: its tools are on PATH and we are root or the rabbitmq user. */
async function canStartNode(): Promise<boolean> {
  const tools = await Promise.all(['rabbitmq-server', 'rabbitmqctl', 'openssl'].map(onPath));
  const user = process.getuid?.() === 0 || userInfo().username === 'rabbitmq';
  return tools.every(Boolean) && user;
}

/**
 * True when a node of the tests' own can be started; otherwise a visible skip (or a failure under
 * MQ_TEST_REQUIRE_BROKERS=1). Whether it then boots is a test's outcome: see useTestNode.
 */
export function testNodeAvailable(): Promise<boolean> {
  return brokerSuite({
    broker: `a RabbitMQ node of the tests' own (${TEST_NODE_NAME})`,
    probe: canStartNode,
    howToStart:
      'install rabbitmq-server and openssl (rabbitmq-server must be on PATH) and run the tests as root or as the rabbitmq user; the tests boot the node themselves',
  });
}

function until<T>(deadline: number, what: string, attempt: () => Promise<T | null>): Promise<T> {
  return (async () => {
    for (;;) {
      const result = await attempt();
      if (result !== null) return result;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
}

/** Whether a login (connection.open) succeeds: a listening port alone is not a booted node. */
async function canLogIn(url: string, socketOptions: Record<string, unknown>): Promise<boolean> {
  try {
    const connection = await connect(url, { noDelay: true, timeout: 2000, ...socketOptions });
    connection.on('error', () => {});
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

async function portsClosed(): Promise<boolean> {
  const open = await Promise.all(
    [AMQP_PORT, TLS_PORT, DIST_PORT].map((port) => tcpProbe(HOST, port, 500)()),
  );
  return open.every((isOpen) => !isOpen);
}

async function registeredInEpmd(): Promise<boolean> {
  if (!(await onPath('epmd'))) return false;
  const names = await run('epmd', ['-names'], { timeoutMs: 5000 });
  const shortName = TEST_NODE_NAME.split('@')[0]!;
  return new RegExp(`^name ${shortName} at port`, 'm').test(names.stdout);
}

async function rabbitmqctl(args: readonly string[], timeoutMs = STOP_TIMEOUT_MS): Promise<Ran> {
  return run('rabbitmqctl', ['-n', TEST_NODE_NAME, ...args], { timeoutMs });
}

/**
 * A node left running by an earlier run (killed before its afterAll) holds the name and the
 * ports: stop it, and remove the directories such runs left behind. Anything else on the ports is
 * not ours to stop.
 */
async function clearEarlierRuns(): Promise<void> {
  if ((await registeredInEpmd()) || !(await portsClosed())) {
    const stopped = await rabbitmqctl(['stop']);
    // When rabbitmqctl found no such node, whatever holds the ports will not go away by waiting.
    const deadline = Date.now() + (stopped.code === 0 ? STOP_TIMEOUT_MS : 2000);
    await until(deadline, 'an earlier test node to stop', async () =>
      (await portsClosed()) && !(await registeredInEpmd()) ? true : null,
    ).catch(() => {
      throw new Error(
        `ports ${AMQP_PORT}, ${TLS_PORT} or ${DIST_PORT} are taken, and not by a ${TEST_NODE_NAME} that rabbitmqctl could stop`,
      );
    });
  }
  for (const entry of await readdir(tmpdir())) {
    if (entry.startsWith(DIR_PREFIX)) {
      await rm(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}

/** A CA, a server certificate for localhost and 127.0.0.1, a client certificate, and a stranger. */
async function makeCertificates(
  dir: string,
): Promise<TestNodeTls & { server: string; serverKey: string }> {
  const file = (name: string) => join(dir, name);
  /** A new key, and a certificate request for it (or with -x509 a self-signed certificate). */
  const request = (name: string, out: string, cn: string, ...selfSigned: string[]) =>
    mustRun('openssl', [
      ...['req', ...selfSigned, '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`],
      ...['-keyout', file(`${name}.key`), '-out', file(`${name}.${out}`)],
    ]);
  const sign = (name: string) =>
    mustRun('openssl', [
      ...['x509', '-req', '-in', file(`${name}.csr`), '-out', file(`${name}.pem`), '-days', '2'],
      ...['-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial'],
      ...['-extfile', file(`${name}.ext`)],
    ]);
  await writeFile(
    file('server.ext'),
    'subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n',
  );
  await writeFile(file('client.ext'), 'extendedKeyUsage = clientAuth\n');
  await Promise.all([
    request('ca', 'pem', 'mq test CA', '-x509', '-days', '2'),
    request('server', 'csr', 'localhost'),
    request('client', 'csr', 'mq-test-client'),
    request('untrusted', 'pem', 'mq-test-stranger', '-x509', '-days', '2'),
  ]);
  // One at a time: both write the CA's serial file.
  await sign('server');
  await sign('client');
  return {
    ca: file('ca.pem'),
    server: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    untrustedCert: file('untrusted.pem'),
    untrustedKey: file('untrusted.key'),
  };
}

/** Boots a fresh node and waits until both listeners take a login. Stop it with `stop()`. */
export async function startTestNode(): Promise<TestNode> {
  await clearEarlierRuns();
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const path = (name: string) => join(dir, name);
  const amqpUrl = () => `amqp://${USER}:${password}@${HOST}:${AMQP_PORT}/`;
  const amqpsUrl = () => `amqps://${USER}:${password}@${HOST}:${TLS_PORT}/`;
  let lastBootMs = 0;
  let stopped = false;

  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('RABBITMQ_')),
  );
  Object.assign(env, {
    RABBITMQ_NODENAME: TEST_NODE_NAME,
    RABBITMQ_NODE_PORT: String(AMQP_PORT),
    RABBITMQ_DIST_PORT: String(DIST_PORT),
    RABBITMQ_MNESIA_BASE: path('mnesia'),
    RABBITMQ_LOG_BASE: path('log'),
    RABBITMQ_PID_FILE: path('pid'),
    // Its own, empty: else it loads the shared node's management plugin and dies on port 15672.
    RABBITMQ_ENABLED_PLUGINS_FILE: path('plugins'),
    RABBITMQ_CONFIG_FILE: path('rabbitmq.conf'),
  });

  async function boot(): Promise<void> {
    const started = Date.now();
    const deadline = started + BOOT_TIMEOUT_MS;
    // -detached returns at once; its own output goes to a file, so no pipe is held open.
    const out = openSync(path('log/detached.out'), 'a');
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('rabbitmq-server', ['-detached'], { env, stdio: ['ignore', out, out] });
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`rabbitmq-server -detached exited ${code}`)),
        );
      });
    } finally {
      closeSync(out);
    }
    try {
      await until(
        deadline,
        `${TEST_NODE_NAME} to accept logins on ${AMQP_PORT} and ${TLS_PORT}`,
        async () => {
          if (
            (await canLogIn(amqpUrl(), {})) &&
            (await canLogIn(amqpsUrl(), { ca: [await readFile(tls.ca)] }))
          ) {
            return true;
          }
          // The pid file comes within a few seconds of the start; without a live process behind
          // it the node has died (a bad config, a port taken), and waiting longer is pointless.
          if (Date.now() - started > PID_FILE_WITHIN_MS && (await beamPid()) === null) {
            throw new Error(`${TEST_NODE_NAME} exited while booting`);
          }
          return null;
        },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; the end of its log:\n${await logTail()}`, {
        cause: error,
      });
    }
    lastBootMs = Date.now() - started;
  }

  async function logTail(): Promise<string> {
    const read = (name: string) => readFile(path(`log/${name}`), 'utf8').catch(() => '');
    const text = `${await read('detached.out')}${await read(`${TEST_NODE_NAME}.log`)}`;
    return text.split('\n').slice(-30).join('\n');
  }

  /** The beam process of this node: the pid file's, if that process still has our pid file in its environment. */
  async function beamPid(): Promise<number | null> {
    const text = await readFile(path('pid'), 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    // A pid is reused once its process is gone: never SIGKILL a stranger.
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => null);
    if (environ === null) return process.platform === 'linux' ? null : pid;
    return environ.split('\0').includes(`RABBITMQ_PID_FILE=${path('pid')}`) ? pid : null;
  }

  async function waitUntilDown(what: string): Promise<void> {
    await until(Date.now() + STOP_TIMEOUT_MS, what, async () =>
      (await portsClosed()) && !(await registeredInEpmd()) ? true : null,
    );
  }

  async function kill(): Promise<void> {
    const pid = await beamPid();
    if (pid === null)
      throw new Error(`${TEST_NODE_NAME} is not running (no beam process for its pid file)`);
    process.kill(pid, 'SIGKILL');
    await waitUntilDown(`${TEST_NODE_NAME} to die`);
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    try {
      if (!(await portsClosed()) || (await registeredInEpmd())) {
        const pidFile = path('pid');
        const ctl = await rabbitmqctl(['stop', pidFile]);
        if (ctl.code !== 0) {
          const pid = await beamPid();
          if (pid !== null) process.kill(pid, 'SIGKILL');
        }
        await waitUntilDown(`${TEST_NODE_NAME} to stop`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  let tls: Awaited<ReturnType<typeof makeCertificates>>;
  try {
    await Promise.all(['mnesia', 'log', 'tls'].map((sub) => mkdir(path(sub))));
    tls = await makeCertificates(path('tls'));
    await writeFile(path('plugins'), '[].\n');
    await writeFile(
      path('rabbitmq.conf'),
      [
        `listeners.tcp.1 = ${HOST}:${AMQP_PORT}`,
        `listeners.ssl.1 = ${HOST}:${TLS_PORT}`,
        `ssl_options.cacertfile = ${tls.ca}`,
        `ssl_options.certfile = ${tls.server}`,
        `ssl_options.keyfile = ${tls.serverKey}`,
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = false',
        `default_user = ${USER}`,
        `default_pass = ${password}`,
        '',
      ].join('\n'),
    );
    if (process.getuid?.() === 0) await mustRun('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
    await boot();
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }

  return {
    name: TEST_NODE_NAME,
    host: HOST,
    amqpPort: AMQP_PORT,
    tlsPort: TLS_PORT,
    managementUrl: `http://${HOST}:${MANAGEMENT_PORT}`,
    user: USER,
    password,
    dir,
    tls: {
      ca: tls.ca,
      clientCert: tls.clientCert,
      clientKey: tls.clientKey,
      untrustedCert: tls.untrustedCert,
      untrustedKey: tls.untrustedKey,
    },
    get lastBootMs() {
      return lastBootMs;
    },
    amqpUrl,
    amqpsUrl,
    kill,
    start: boot,
    stop,
    async rabbitmqctl(...args: string[]) {
      const ran = await rabbitmqctl(args);
      if (ran.code !== 0) {
        throw new Error(`rabbitmqctl ${args.join(' ')} exited ${ran.code}: ${ran.stderr}`);
      }
      return ran.stdout;
    },
  };
}

/**
 * The node for one test file: booted in beforeAll, stopped (and its directory removed) in
 * afterAll, also when tests fail. A boot that fails fails every test of the suite (beforeEach
 * throws it), so it can never pass for a skip; `setup` runs once after the boot, under the same
 * rule.
 */
export function useTestNode(setup?: (node: TestNode) => Promise<void>): () => TestNode {
  let node: TestNode | undefined;
  let failure: Error | undefined;
  beforeAll(async () => {
    try {
      node = await startTestNode();
      await setup?.(node);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
  }, BOOT_TIMEOUT_MS * 2);
  beforeEach(() => {
    if (failure !== undefined) throw failure;
  });
  afterAll(async () => {
    await node?.stop();
  }, STOP_TIMEOUT_MS * 2);
  return () => {
    if (node === undefined) throw new Error(`${TEST_NODE_NAME} did not start`);
    return node;
  };
}
