import type { Headers } from './types.js';

/**
 * `convert`, run once for each distinct header table: a publish run shares one table among all
 * its messages, and converting it for each message was a visible part of a large publish's CPU.
 */
export function oncePerHeaderTable<T>(
  convert: (headers: Headers | undefined) => T,
): (headers: Headers | undefined) => T {
  const converted = new Map<Headers | undefined, T>();
  // The table of the message before, without a lookup: the common case by far.
  let last: { headers: Headers | undefined; value: T } | undefined;
  return (headers) => {
    if (last !== undefined && last.headers === headers) return last.value;
    let value = converted.get(headers);
    if (value === undefined && !converted.has(headers)) {
      value = convert(headers);
      converted.set(headers, value);
    }
    last = { headers, value: value as T };
    return last.value;
  };
}
