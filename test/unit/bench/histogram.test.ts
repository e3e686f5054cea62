import { describe, expect, it } from 'vitest';
import { binCounts, histogramLines, ratioEdges } from '../../../src/bench/histogram.js';

describe('bench histograms', () => {
  it('spaces bin edges by a fixed ratio from the smallest sample to the largest', () => {
    const edges = ratioEdges([1, 100, 10], 2);
    expect(edges).toHaveLength(3);
    expect(edges[0]).toBe(1);
    expect(edges[1]).toBeCloseTo(10);
    expect(edges[2]).toBe(100);
  });

  it('counts every sample once, the largest in the last bin', () => {
    const samples = [1, 2, 3, 9, 10, 11, 99, 100];
    const counts = binCounts(samples, ratioEdges(samples, 2));
    expect(counts).toEqual([5, 3]);
    expect(counts.reduce((a, b) => a + b)).toBe(samples.length);
  });

  it('handles no samples, one sample and equal samples', () => {
    expect(ratioEdges([], 4)).toEqual([]);
    expect(binCounts([], [])).toEqual([]);
    expect(binCounts([5, 5, 5], ratioEdges([5, 5, 5], 4))).toEqual([3]);
    expect(binCounts([7], ratioEdges([7], 4))).toEqual([1]);
  });

  it('draws bars against the fullest bin of both modes', () => {
    const edges = [1, 10, 100];
    const lines = histogramLines([2, 3, 50], edges, 4, 8);
    expect(lines).toEqual(['   1.0–10    ms │████ 2', '    10–100   ms │██ 1']);
  });
});
