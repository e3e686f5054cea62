import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { InterruptedError, MqError } from '../errors.js';
import type { Factory } from '../factory.js';
import { writeJson } from '../io/json.js';
import { PACKAGE_ROOT } from '../paths.js';

/** The e-commerce story's topology (the repository's mq.config.json, without the schema). */
const PROJECT = {
  exchanges: [{ name: 'order_events', type: 'topic' }],
  queues: ['email_service_queue', 'sms_service_queue', 'inventory_service_queue'].map((name) => ({
    name,
    type: 'quorum',
    bindings: [{ exchange: 'order_events', pattern: 'order.*' }],
    maxDeliveries: 3,
    deadLetterQueue: `${name}.dlq`,
  })),
  events: {
    'order.placed': {
      description: 'A customer placed an order',
      exchange: 'order_events',
      routingKey: 'order.placed',
      contentType: 'application/json',
    },
  },
};

const ORDER = {
  eventType: 'order.placed',
  orderId: 'ord-789',
  userId: 'usr-123',
  items: [{ productId: 'prod-456', quantity: 2, price: 49.99 }],
  totalAmount: 99.98,
};

/** One step of the story: what it shows, then the mq command that shows it. */
interface Step {
  say: string;
  args: string[];
  /** Exit codes that mean the step went as the story needs. */
  expect?: number[];
}

const STEPS: readonly Step[] = [
  {
    say: 'An order service publishes order.placed to the order_events exchange; three services each consume their own queue, with a dead-letter queue beside it. The project file declares them (the embedded broker made them when it opened):',
    args: ['topology', 'apply'],
  },
  { say: 'A customer places an order:', args: ['publish', 'order.placed', 'order.json'] },
  { say: 'One message, three copies: each service has its own.', args: ['ls'] },
  {
    say: 'The email and inventory services do their work and ack:',
    args: ['consume', 'email_service_queue', '--ack', '--count', '1'],
  },
  { say: '', args: ['consume', 'inventory_service_queue', '--ack', '--count', '1'] },
  {
    say: 'The SMS provider is down: the SMS service fails and requeues the message, three times…',
    args: ['consume', 'sms_service_queue', '--requeue', '--count', '1'],
  },
  { say: '', args: ['consume', 'sms_service_queue', '--requeue', '--count', '1'] },
  { say: '', args: ['consume', 'sms_service_queue', '--requeue', '--count', '1'] },
  {
    say: '…and after its third delivery (maxDeliveries: 3) the broker dead-letters it instead of looping forever. Nothing is lost; the order service never noticed:',
    args: ['dlq', 'ls', 'sms_service_queue'],
  },
  {
    say: 'The provider is back. Redrive puts the message back on sms_service_queue alone (the email and inventory services do not get it twice):',
    args: ['dlq', 'redrive', 'sms_service_queue', '--yes'],
  },
  {
    say: 'The SMS service takes it again, and this time it works:',
    args: ['consume', 'sms_service_queue', '--ack', '--count', '1'],
  },
  {
    say: 'Why a queue at all? The same orders, with the services called in turn (sync) and through the broker (async), times scaled by 0.01:',
    args: ['bench', '--orders', '50', '--concurrency', '10', '--time-scale', '0.01'],
  },
];

export function newDemoCommand(f: Factory): Command {
  return new Command('demo')
    .summary('the story of a queue in under a minute, on a throwaway embedded broker')
    .description(
      'Narrates, with real mq commands on a throwaway embedded broker (deleted at the end): the\n' +
        'topology, one order published, three services receiving it, the SMS service failing until\n' +
        'its message is dead-lettered, dlq ls, a redrive, and a short sync-versus-async bench.',
    )
    .option(
      '--json',
      'narration and command output on stderr; stdout gets one JSON document of the steps',
      false,
    )
    .addHelpText('after', '\nExamples:\n  $ mq demo\n  $ mq demo --json')
    .action(async (flags: { json: boolean }) => {
      await demo(f, flags.json);
    });
}

async function demo(f: Factory, json: boolean): Promise<void> {
  const { io } = f;
  // With --json, stdout holds the JSON document only: everything else goes to stderr.
  const say = (text: string) => (json ? io.err : io.out).write(text);
  const steps: { command: string; exitCode: number }[] = [];
  const home = mkdtempSync(join(tmpdir(), 'mq-demo-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MQ_BROKER: `local:${join(home, 'broker')}`,
    MQ_HOME: join(home, 'home'),
    MQ_CONFIG: join(home, 'config.json'),
  };
  delete env.MQ_CONTEXT;
  writeFileSync(join(home, 'mq.config.json'), `${JSON.stringify(PROJECT, null, 2)}\n`);
  writeFileSync(join(home, 'order.json'), `${JSON.stringify(ORDER)}\n`);
  try {
    say(
      `${io.colors.bold('mq demo')}: the story of a queue, on a throwaway embedded broker in ${home}\n`,
    );
    for (const step of STEPS) {
      if (f.signal.aborted) throw new InterruptedError('interrupted: the demo stopped');
      if (step.say !== '') say(`\n${io.colors.bold(step.say)}\n`);
      const command = `mq ${step.args.join(' ')}`;
      say(`${io.colors.dim(`$ ${command}`)}\n`);
      const code = await runMq(step.args, home, env, json);
      steps.push({ command, exitCode: code });
      if (!(step.expect ?? [0]).includes(code)) {
        throw new MqError(`the demo stopped: mq ${step.args.join(' ')} exited ${code}`);
      }
    }
    say(
      `\n${io.colors.bold('That is the story.')} The broker is gone; try the same commands on your own (mq --help).\n`,
    );
    if (json) writeJson(io, { broker: 'local', steps });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** One mq command as a process of its own, its output straight to ours (stdout to stderr: --json). */
function runMq(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  outputToStderr: boolean,
): Promise<number> {
  const bin = fileURLToPath(new URL('bin/mq.js', PACKAGE_ROOT));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env,
      stdio: ['ignore', outputToStderr ? 2 : 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
