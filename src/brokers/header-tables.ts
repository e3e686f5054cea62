import type { Headers } from './types.js';

/**
 * `convert`, run once for each distinct header table: a publish run shares one table among all
 * its messages, and converting it for each message was a visible part of a large publish's CPU.
 */
export function oncePerHeaderTable<T>(
  convert: (headers: Headers | undefined) => T,
): (headers: Headers | undefined) => T {
  const converted = new Map<Headers | undefined, T>();
  return (headers) => {
    if (!converted.has(headers)) converted.set(headers, convert(headers));
    return converted.get(headers) as T;
  };
}
