/**
 * `--format` templates: `'{routingKey} {json.orderId} {headers.x-trace}'`.
 *
 * A `{path}` is looked up in the message view (`view.ts`): dot steps (`json.orderId`,
 * `headers.x-trace`), indexes (`json.items[0].quantity`) and quoted keys for names with dots
 * (`headers["__connect.errors.topic"]`). `{{` and `}}` are literal braces. A missing value prints
 * as nothing, an object or array as compact JSON. Unknown top-level names are refused when the
 * template is compiled. Values are sanitised (`sanitize.ts`); the template's own text is printed
 * as the user wrote it.
 */
import { InputError } from '../errors.js';
import { sanitizeLine } from './sanitize.js';
import { didYouMean } from './suggest.js';
import { VIEW_FIELDS, type MessageView } from './view.js';

export type MessageTemplate = (view: MessageView) => string;

type PathStep = string | number;
type Part = { text: string } | { path: PathStep[] };

const FORMAT_HINT =
  "fields look like {routingKey} or {json.items[0].quantity}; write '{{' for a literal brace";

export function compileTemplate(template: string): MessageTemplate {
  const parts = parseTemplate(template);
  return (view) =>
    parts
      .map((part) => ('text' in part ? part.text : renderValue(lookup(view, part.path))))
      .join('');
}

function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let index = 0;
  while (index < template.length) {
    const character = template[index];
    if ((character === '{' || character === '}') && template[index + 1] === character) {
      text += character;
      index += 2;
    } else if (character === '}') {
      throw formatError(`single '}' in the template: write '}}' for a literal brace`, index);
    } else if (character === '{') {
      const close = template.indexOf('}', index + 1);
      if (close === -1)
        throw formatError(`'{' is never closed: close it with '}' or write '{{'`, index);
      if (text !== '') parts.push({ text });
      text = '';
      parts.push({ path: parsePath(template.slice(index + 1, close), index + 1) });
      index = close + 1;
    } else {
      text += character;
      index += 1;
    }
  }
  if (text !== '') parts.push({ text });
  return parts;
}

const NAME = /^[^.[\]{}\s"']+/;
const INDEX = /^\[(\d+)\]/;
const QUOTED_KEY = /^\[(["'])(.*?)\1\]/;

/** `source` is the text between the braces; `offset` is where it starts in the template. */
function parsePath(source: string, offset: number): PathStep[] {
  const root = NAME.exec(source)?.[0];
  if (root === undefined) {
    throw formatError(
      source === ''
        ? 'empty field {}: name one, e.g. {routingKey}'
        : 'a field must start with a name',
      offset,
    );
  }
  if (!VIEW_FIELDS.includes(root)) {
    throw formatError(
      `unknown field ${quote(root)}${didYouMean(root, VIEW_FIELDS)}`,
      offset,
      `fields are ${VIEW_FIELDS.join(', ')}`,
    );
  }
  const steps: PathStep[] = [root];
  let rest = source.slice(root.length);
  while (rest !== '') {
    const at = offset + source.length - rest.length;
    const name = rest.startsWith('.') ? NAME.exec(rest.slice(1))?.[0] : undefined;
    const index = INDEX.exec(rest);
    const quoted = QUOTED_KEY.exec(rest);
    if (name !== undefined) {
      steps.push(name);
      rest = rest.slice(name.length + 1);
    } else if (index?.[1] !== undefined) {
      steps.push(Number(index[1]));
      rest = rest.slice(index[0].length);
    } else if (quoted?.[2] !== undefined) {
      steps.push(quoted[2]);
      rest = rest.slice(quoted[0].length);
    } else {
      throw formatError(`unexpected ${quote(rest.charAt(0))} in {${sanitizeLine(source)}}`, at);
    }
  }
  return steps;
}

function formatError(message: string, offset: number, hint = FORMAT_HINT): InputError {
  return new InputError(message, {
    hint,
    position: { file: '--format', line: 1, column: offset + 1 },
  });
}

function quote(text: string): string {
  return sanitizeLine(JSON.stringify(text));
}

/** Own properties and array elements only: `{json.constructor}` is a missing key, not a function. */
function lookup(view: MessageView, path: PathStep[]): unknown {
  let value: unknown = view;
  for (const step of path) {
    if (
      typeof step === 'number'
        ? !Array.isArray(value)
        : !isRecord(value) || !Object.hasOwn(value, step)
    ) {
      return undefined;
    }
    value = (value as Record<PathStep, unknown>)[step];
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function renderValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  // Numbers and booleans print the same either way; objects and arrays become compact JSON.
  return sanitizeLine(typeof value === 'string' ? value : JSON.stringify(value));
}
