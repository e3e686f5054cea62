/**
 * Latency histograms as text, for `mq bench` on a terminal: both modes on one scale, so that the
 * bars compare. The bins are spaced by ratio (each edge a fixed multiple of the last): sync and
 * async latencies differ by a factor of ten or more, and equal-width bins would put every async
 * order in the first one.
 */

/** `count` + 1 bin edges from the smallest to the largest sample, each a fixed multiple of the last. */
export function ratioEdges(samples: readonly number[], count: number): number[] {
  const positive = samples.filter((sample) => sample > 0);
  if (positive.length === 0) return [];
  // Not Math.min(...samples): a long run has more samples than a call takes arguments.
  const low = positive.reduce((least, sample) => Math.min(least, sample));
  const high = positive.reduce((most, sample) => Math.max(most, sample));
  if (high === low) return [low, high];
  const step = (high / low) ** (1 / count);
  return Array.from({ length: count + 1 }, (_, index) =>
    index === count ? high : low * step ** index,
  );
}

/** How many samples fall in each bin (the last bin includes its upper edge). */
export function binCounts(samples: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(Math.max(0, edges.length - 1)).fill(0);
  for (const sample of samples) {
    const bin = edges.findIndex((edge, index) => index > 0 && sample <= edge);
    if (bin > 0) counts[bin - 1]! += 1;
  }
  return counts;
}

/** One line a bin: its range, a bar `width` wide at the fullest bin of `scaleMax`, the count. */
export function histogramLines(
  samples: readonly number[],
  edges: readonly number[],
  scaleMax: number,
  width = 40,
): string[] {
  const counts = binCounts(samples, edges);
  const label = (value: number) => value.toFixed(value < 10 ? 1 : 0).padStart(6);
  return counts.map((count, index) => {
    const bar = '█'.repeat(scaleMax === 0 ? 0 : Math.round((count / scaleMax) * width));
    return `${label(edges[index]!)}–${label(edges[index + 1]!)
      .trimStart()
      .padEnd(5)} ms │${bar} ${count}`;
  });
}
