import picocolors from 'picocolors';
import type { Colors } from 'picocolors/types.js';

export type { Colors };

/**
 * Colour functions that are plain identity when colour is off. picocolors rather than chalk: the
 * same basic colours, and loading it costs next to nothing where chalk added ~5 ms to every
 * `mq --help` (measured with bench/startup.mjs, docs/performance.md).
 */
export function createColors(enabled: boolean): Colors {
  return picocolors.createColors(enabled);
}
