/**
 * `mq publish --from <file|->`: envelopes saved by `mq tail --json`, `mq peek --json` or
 * `mq dlq ls --json`, published again with their exact bodies, headers and properties (DESIGN.md
 * §4, §5). Each goes where it came from: a dead letter to the queue that dead-lettered it, alone;
 * any other message through the exchange and routing key (or topic) it was read from; or all to
 * one queue with `--to-queue`. Every line is checked before the first message is sent.
 */
import { readFile } from 'node:fs/promises';
import type { Route } from '../brokers/types.js';
import { InputError, UsageError } from '../errors.js';
import type { Factory } from '../factory.js';
import { readAll } from '../io/read-all.js';
import { STDIN_NAME, cannotRead, decodeUtf8 } from '../fixtures/load.js';
import type { Envelope } from '../message/envelope.js';
import { deathRoute, fromEnvelope, recordedRoute } from '../message/envelope-codec.js';
import { decodeEnvelopeLines } from '../message/ndjson.js';
import { sanitizeLine } from '../message/sanitize.js';
import { describeRoute, send, type PublishPlan, type SendOptions } from './publish.js';

export interface ReplayOptions extends SendOptions {
  f: Factory;
  /** A file of NDJSON envelopes, or `-` for stdin. */
  from: string;
  toQueue: string | undefined;
  dryRun: boolean;
}

export async function replayRun(opts: ReplayOptions): Promise<void> {
  const { f } = opts;
  const name = opts.from === '-' ? STDIN_NAME : opts.from;
  const envelopes = decodeEnvelopeLines(await readText(opts.from, f, name), name);
  if (envelopes.length === 0) {
    throw new InputError(`no envelopes in ${name}`, {
      hint: 'mq tail --json, mq peek --json and mq dlq ls --json write them, one per line',
    });
  }
  const routes = envelopes.map((envelope, index) => routeOf(envelope, index, name, opts.toQueue));
  const plan: PublishPlan = {
    total: envelopes.length,
    parts: consecutiveParts(routes),
    message: (index) => fromEnvelope(envelopes[index]!),
  };
  const { spec } = await f.brokerChoice();
  // Checked before the first message goes: a file of Kafka records on RabbitMQ is refused whole.
  const onKafka = spec.kind === 'kafka';
  const misfit = plan.parts.find((part) => (part.route.kind === 'topic') !== onKafka);
  if (misfit !== undefined) {
    throw new UsageError(
      sanitizeLine(
        `envelope ${misfit.from + 1} of ${name} goes to ${describeRoute(misfit.route)}, which the ${spec.kind} broker does not have; nothing was sent`,
      ),
      {
        hint: onKafka
          ? 'replay it on a queue broker'
          : 'pass --to-queue <queue>, or replay it on Kafka',
      },
    );
  }
  if (opts.dryRun) {
    for (const part of plan.parts) {
      f.io.notice(`${part.to - part.from} message(s) would go to ${describeRoute(part.route)}`);
    }
    f.io.notice(
      `dry run: ${plan.total} message(s) from ${name} on ${spec.display}; nothing was sent`,
    );
    return;
  }
  await send(opts, plan, spec.display);
}

/** Strictly UTF-8: a bad byte would otherwise turn into U+FFFD inside a body meant to be exact. */
async function readText(from: string, f: Factory, name: string): Promise<string> {
  const bytes =
    from === '-'
      ? await readAll(f.io.in)
      : await readFile(from).catch((error: unknown) => {
          throw cannotRead(from, error, 'give a file of envelopes (NDJSON), or - for stdin');
        });
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    throw new InputError(`${name} is not UTF-8 text`, {
      hint: 'envelopes are NDJSON, UTF-8; a body that is not text is saved as base64 inside it',
    });
  }
  return text;
}

/** A dead letter goes back to the queue it died in; anything else the way it came. */
function routeOf(
  envelope: Envelope,
  index: number,
  file: string,
  toQueue: string | undefined,
): Route {
  if (toQueue !== undefined) return { kind: 'queue', queue: toQueue };
  const route = deathRoute(envelope) ?? recordedRoute(envelope);
  if (route === null) {
    throw new InputError(
      `envelope ${index + 1} of ${file} names no queue, exchange or topic to go back to`,
      { hint: 'pass --to-queue <queue> to send every envelope to one queue' },
    );
  }
  return route;
}

/** Runs of consecutive envelopes with the same route, in order: one publish call per run. */
function consecutiveParts(routes: readonly Route[]): PublishPlan['parts'] {
  const parts: { route: Route; from: number; to: number }[] = [];
  routes.forEach((route, index) => {
    const last = parts.at(-1);
    if (last !== undefined && JSON.stringify(last.route) === JSON.stringify(route)) {
      last.to = index + 1;
    } else {
      parts.push({ route, from: index, to: index + 1 });
    }
  });
  return parts;
}
