import { parseBrokerUrl } from '../../config/broker-url.js';
import type { Context } from '../../config/user-config.js';
import type { Factory } from '../../factory.js';
import { pickFields, type JsonChoice } from '../../io/json-fields.js';
import { writeJson } from '../../io/json.js';
import { MASK, redact } from '../../secrets.js';

/** A context as it may be shown: `${VAR}` references as written, stored passwords masked. */
/** The `--json` fields of `mq context ls|show`. */
export const CONTEXT_FIELDS = [
  'name',
  'current',
  'broker',
  'kind',
  'password',
  'nodes',
  'managementUrl',
  'tls',
] as const;

export interface ContextView {
  name: string;
  current: boolean;
  broker: string;
  kind: 'local' | 'rabbitmq' | 'kafka' | 'invalid';
  password: string | null;
  nodes: string[];
  managementUrl: string | null;
  tls: Context['tls'] | null;
}

const ENV_REFERENCE_ONLY = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** `--json` output of the context commands that change one context: its view afterwards. */
export function writeContextJson(f: Factory, view: ContextView, json: JsonChoice): void {
  if (json.json) writeJson(f.io, pickFields(view, json.fields));
}

export function viewContext(name: string, context: Context, current: boolean): ContextView {
  return {
    name,
    current,
    broker: redact(context.broker),
    kind: brokerKind(context.broker),
    password:
      context.password === undefined
        ? null
        : ENV_REFERENCE_ONLY.test(context.password)
          ? context.password
          : MASK,
    nodes: (context.nodes ?? []).map(redact),
    managementUrl: context.managementUrl === undefined ? null : redact(context.managementUrl),
    tls: context.tls ?? null,
  };
}

function brokerKind(url: string): ContextView['kind'] {
  try {
    return parseBrokerUrl(placeholderReferences(url), { env: {}, cwd: '/', password: 'x' }).kind;
  } catch {
    return 'invalid';
  }
}

/** `${VAR}` parts stand for values known only at use; a stand-in lets the rest of the URL be checked now. */
export function placeholderReferences(text: string): string {
  return text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x');
}
