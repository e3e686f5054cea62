import type { IOStreams } from './streams.js';

/** A progress bar on a terminal's stderr; nothing at all in a pipe or a log. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

export async function startProgress(
  io: IOStreams,
  label: string,
  total: number,
): Promise<Progress> {
  if (!io.isStderrTTY()) return NO_PROGRESS;
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({
    stream: io.err,
    format: `${label} {bar} {value}/{total} {percentage}% {eta_formatted} left`,
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
