/**
 * `--filter`: a CEL expression (Common Expression Language, through `@marcbachmann/cel-js`; never
 * `eval`) over the message view (`view.ts`): the envelope fields plus `json`.
 *
 * ```
 * json.totalAmount > 50 && routingKey.startsWith("order.")
 * "x-death" in headers && headers["x-death"][0].reason == "rejected"
 * has(json.orderId) && json.items.exists(i, i.quantity >= 2)
 * death != null && death.reason == "delivery_limit"
 * ```
 *
 * Semantics worth knowing:
 * - A message matches only when the expression gives `true`. An expression that fails for a
 *   message (a missing key such as `json.orderId` on a body without it, `null > 1`, a body that is
 *   not JSON) does not match; it is not an error, because one odd message in a queue must not stop
 *   a `tail`. Test presence with `has(json.orderId)` or `"orderId" in json`.
 * - JSON numbers are doubles, as in CEL's JSON mapping; comparisons mix freely with integer
 *   literals (`json.items[0].quantity == 2`), arithmetic needs a double (`json.quantity * 2.0`).
 * - Header names with dashes need brackets: `headers["x-death"]`, not `headers.x-death`.
 * - Typed AMQP headers keep amqplib's form: `headers["x-sent"].value`.
 *
 * The library is imported on first use so that `mq --help` never loads it.
 */
import type * as Cel from '@marcbachmann/cel-js';
import { InputError, type SourcePosition } from '../errors.js';
import { sanitizeLine } from './sanitize.js';
import { didYouMean } from './suggest.js';
import { VIEW_FIELDS, type MessageView } from './view.js';

export type MessageFilter = (view: MessageView) => boolean;

const FILTER_HINT =
  'a filter is a CEL condition over the envelope fields and json, e.g. ' +
  'json.totalAmount > 50 && routingKey.startsWith("order.")';

let viewEnvironment: Cel.Environment | undefined;

/** Compiles once (syntax, names and result type checked here); the filter runs per message. */
export async function createFilter(expression: string): Promise<MessageFilter> {
  const cel = await import('@marcbachmann/cel-js');
  // Building an Environment is the expensive part: one per process.
  viewEnvironment ??= VIEW_FIELDS.reduce(
    (environment, field) => environment.registerVariable(field, 'dyn'),
    new cel.Environment(),
  );

  let program: Cel.ParseResult;
  try {
    program = viewEnvironment.parse(expression);
  } catch (error) {
    if (error instanceof cel.ParseError) throw filterError(expression, error);
    throw error;
  }
  const checked = program.check();
  if (!checked.valid) {
    if (checked.error) throw filterError(expression, checked.error);
    throw new InputError('invalid filter', {
      hint: FILTER_HINT,
      position: position(expression, 0),
    });
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new InputError(
      `the filter must be a condition (true or false), this one gives ${checked.type}`,
      {
        hint: FILTER_HINT,
        position: position(expression, 0),
      },
    );
  }

  return (view) => {
    try {
      return program(celContext(view)) === true;
    } catch (error) {
      if (error instanceof cel.EvaluationError || error instanceof cel.TypeError) return false;
      throw error;
    }
  };
}

interface CelError {
  code: string;
  summary: string;
  range?: Cel.SourceRange;
}

const UNKNOWN_VARIABLE = /^Unknown variable: (.*)$/;

function filterError(expression: string, error: CelError): InputError {
  const unknown = UNKNOWN_VARIABLE.exec(error.summary)?.[1];
  const message =
    unknown === undefined
      ? `invalid filter: ${lowerFirst(error.summary)}`
      : `unknown name "${unknown}" in the filter${didYouMean(unknown, VIEW_FIELDS)}`;
  return new InputError(sanitizeLine(message), {
    cause: error,
    hint: unknown === undefined ? FILTER_HINT : `the filter sees ${VIEW_FIELDS.join(', ')}`,
    position: position(expression, error.range?.start ?? 0),
  });
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** `--filter:<line>:<column>`, 1-based; the column counts characters. */
function position(expression: string, offset: number): SourcePosition {
  const before = expression.slice(0, offset).split('\n');
  const lastLine = before.at(-1) ?? '';
  return { file: '--filter', line: before.length, column: [...lastLine].length + 1 };
}

/**
 * cel-js tells maps from other objects by their `constructor`, so a JSON body with a
 * `"constructor"` key would break it; Maps have no such hole and hold any key.
 */
function celContext(view: MessageView): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const field of VIEW_FIELDS) context[field] = toCelValue(view[field as keyof MessageView]);
  return context;
}

function toCelValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCelValue);
  if (typeof value === 'object' && value !== null) {
    return new Map(Object.entries(value).map(([key, item]) => [key, toCelValue(item)]));
  }
  return value;
}
