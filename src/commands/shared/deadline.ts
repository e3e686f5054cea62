import { setTimeout as delay } from 'node:timers/promises';

/** The signal a long-running command stops on: Ctrl-C or its own `--timeout`, whichever comes first. */
export interface Deadline {
  signal: AbortSignal;
  /** True when the timeout, not Ctrl-C, ended it. */
  timedOut(): boolean;
  dispose(): void;
}

export function deadline(interrupt: AbortSignal, timeoutMs: number | undefined): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          expired = true;
          controller.abort('timeout');
        }, timeoutMs);
  const onInterrupt = () => controller.abort(interrupt.reason);
  if (interrupt.aborted) onInterrupt();
  else interrupt.addEventListener('abort', onInterrupt, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose() {
      clearTimeout(timer);
      interrupt.removeEventListener('abort', onInterrupt);
    },
  };
}

/** Waits `ms`, or less if the signal aborts first (which is not an error here). */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
