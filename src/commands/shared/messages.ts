import { Option, type Command } from 'commander';
import type { InboundMessage } from '../../brokers/types.js';
import { UsageError } from '../../errors.js';
import { OUTPUT_MODES, type OutputMode } from '../../io/output-mode.js';
import type { IOStreams } from '../../io/streams.js';
import { jsonLine } from '../../io/json.js';
import { addJsonOptions, jsonChoice, pickFields } from '../../io/json-fields.js';
import { ENVELOPE_FIELDS, type BrokerKind, type Envelope } from '../../message/envelope.js';

/** Flags of every command that prints messages. */
export interface MessageOutputFlags {
  json: boolean;
  fields?: string;
  output?: OutputMode;
  filter?: string;
  format?: string;
}

export function addMessageOutputOptions(command: Command, { filter = true } = {}): Command {
  addJsonOptions(
    command,
    ENVELOPE_FIELDS,
    'print each message as one NDJSON envelope line (same as --output json)',
  )
    .addOption(
      new Option('-o, --output <mode>', 'line, pretty, json or raw (the exact body bytes)').choices(
        OUTPUT_MODES,
      ),
    )
    .option(
      '--format <template>',
      "print each message through a template, e.g. '{routingKey} {json.orderId}'",
    );
  if (filter)
    command.option(
      '--filter <expr>',
      "only messages matching a CEL condition, e.g. 'json.totalAmount > 50'",
    );
  return command;
}

/** Whether the flags ask for messages as envelopes (--json, --fields, --output or --format),
 *  for commands that print something else by default. */
export function asksForMessages(flags: MessageOutputFlags): boolean {
  return (
    flags.json ||
    flags.fields !== undefined ||
    flags.output !== undefined ||
    flags.format !== undefined
  );
}

/** How messages print: an output mode, and with JSON the `--fields` selected (null: all). */
export interface MessageOutput {
  mode: OutputMode;
  fields: string[] | null;
}

export function messageOutputOf(flags: MessageOutputFlags): MessageOutput {
  const { json, fields } = jsonChoice(flags, ENVELOPE_FIELDS);
  if (json && flags.output !== undefined && flags.output !== 'json') {
    throw new UsageError('--json and --output cannot disagree', { hint: 'pass one of them' });
  }
  if (flags.format !== undefined && (json || flags.output !== undefined)) {
    throw new UsageError('--format replaces --json and --output', { hint: 'pass one of them' });
  }
  return { mode: json ? 'json' : (flags.output ?? 'line'), fields };
}

/** Turns delivered messages into envelopes, applies --filter, and writes them as --output or --format asks. */
export interface MessagePrinter {
  envelope(message: InboundMessage): Envelope;
  matches(envelope: Envelope): boolean;
  /** Resolves once the line has been handed to the operating system: a consumer acks only after that. */
  print(envelope: Envelope): Promise<void>;
}

export interface PrinterSettings {
  io: IOStreams;
  broker: BrokerKind;
  output: MessageOutput;
  filter: string | undefined;
  format: string | undefined;
}

/** Compiles --filter and --format up front, so a bad one fails before anything is read. */
export async function createMessagePrinter(settings: PrinterSettings): Promise<MessagePrinter> {
  const [{ toEnvelope }, { createMessageView }, { renderMessage }] = await Promise.all([
    import('../../message/envelope-codec.js'),
    import('../../message/view.js'),
    import('../../message/render.js'),
  ]);
  const filter =
    settings.filter === undefined
      ? null
      : await (await import('../../message/filter.js')).createFilter(settings.filter);
  const template =
    settings.format === undefined
      ? null
      : (await import('../../message/format.js')).compileTemplate(settings.format);
  const { io } = settings;
  const write = (data: string | Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      io.out.write(data, (error) => (error ? reject(error) : resolve())),
    );
  return {
    // Kafka reads topics; the queue brokers read queues.
    envelope: (message) =>
      toEnvelope(message, {
        broker: settings.broker,
        sourceKind: settings.broker === 'kafka' ? 'topic' : 'queue',
      }),
    matches: (envelope) => filter === null || filter(createMessageView(envelope)),
    async print(envelope) {
      if (template !== null) return write(`${template(createMessageView(envelope))}\n`);
      const { mode, fields } = settings.output;
      if (mode === 'json' && fields !== null)
        return write(`${jsonLine(pickFields(envelope, fields))}\n`);
      // One write a message: each is a system call, and a consume prints thousands a second.
      const end = mode === 'pretty' ? '\n\n' : '\n';
      const rendered = renderMessage(envelope, mode, { colors: io.colors });
      return write(
        typeof rendered === 'string'
          ? `${rendered}${end}`
          : Buffer.concat([rendered, Buffer.from(end)]),
      );
    },
  };
}
