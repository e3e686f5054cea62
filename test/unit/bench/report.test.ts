import { describe, expect, it } from 'vitest';
import { renderReport, type ReportInput } from '../../../src/bench/report.js';

// Spread deterministically over the ranges a `--time-scale 0.01` run shows (README, "mq bench").
const SYNC_MS = Array.from({ length: 100 }, (_, i) => 35 + ((i * 37) % 100) * 0.45);
const ASYNC_MS = Array.from({ length: 100 }, (_, i) => 2 + ((i * 53) % 100) * 0.18);

function figures(p50: number, p99: number, allProcessedMs: number | null) {
  return {
    latencyMs: { p50, p90: p99 * 0.9, p99, p999: p99 + 0.2, max: p99 + 0.2 },
    throughputPerSec: 228.7,
    completed: 100,
    errors: 0,
    allProcessedMs,
    processed: { email: 100, sms: 100, inventory: 100 },
  };
}

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    result: {
      version: 1,
      broker: 'local',
      orders: 100,
      concurrency: 10,
      rate: null,
      timeScale: 0.01,
      modes: { sync: figures(57.5, 79.1, 437.3), async: figures(10.9, 19.6, null) },
    },
    latenciesMs: { sync: SYNC_MS, async: ASYNC_MS },
    generatedAt: '2025-11-27T09:41:07.000Z',
    machine: 'Node v20.19.0, linux x64, 2 CPUs',
    ...overrides,
  };
}

// No HTML parser is installed, so check the grammar mq emits: double-quoted attributes, every
// element closed in order (or self-closed, or void), and every `<` and `&` in the text escaped.
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*(?:="[^"<]*")?)*)\s*(\/?)>/g;
const VOID_ELEMENTS = new Set(['meta']);

function expectWellFormed(html: string): void {
  expect(html).toMatch(
    /^<!DOCTYPE html>\n<html lang="en">\n<head>\n[\s\S]*<\/head>\n<body>\n[\s\S]*<\/body>\n<\/html>\n$/,
  );
  const body = html.slice('<!DOCTYPE html>'.length);
  const open: string[] = [];
  let tags = 0;
  for (const [, closing, name, , selfClosing] of body.matchAll(TAG)) {
    tags += 1;
    if (closing) expect(open.pop(), `</${name}>`).toBe(name);
    else if (!selfClosing && !VOID_ELEMENTS.has(name!)) open.push(name!);
  }
  expect(open).toEqual([]);
  expect(body.split('<').length - 1, 'every < starts a tag').toBe(tags);
  expect(body.match(/&(?!(?:amp|lt|gt|quot|#39);)/g), 'bare &').toBeNull();
  expect(html).not.toMatch(/NaN|Infinity|undefined/);
}

function charts(html: string): Map<string, string> {
  const svgs = [...html.matchAll(/<svg\b[^>]*\bdata-mode="(\w+)"[^>]*>[\s\S]*?<\/svg>/g)];
  expect(html.match(/<svg\b/g)).toHaveLength(2);
  return new Map(svgs.map(([svg, mode]) => [mode!, svg]));
}

const numericTexts = (svg: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([\\d.]+)</text>`, 'g'))].map(
    ([, label]) => Number(label),
  );

describe('renderReport', () => {
  it('is a well-formed page with the run, its parameters and the side-by-side table', () => {
    const html = renderReport(input());
    expectWellFormed(html);
    expect(html).toContain('calls email, sms, inventory one after another');
    expect(html).toContain('2025-11-27T09:41:07.000Z on Node v20.19.0, linux x64, 2 CPUs');
    expect(html).toContain('<tr><th>rate (orders/s)</th><td>closed loop</td></tr>');
    expect(html).toContain('<tr><th>time scale</th><td>0.01</td></tr>');
    expect(html).toContain('<tr><th>latency p50 (ms)</th><td>57.5</td><td>10.9</td></tr>');
    expect(html).toContain('<tr><th>all processed (ms)</th><td>437.3</td><td>not all</td></tr>');
    expect(html).toContain('<tr><th>sms processed</th><td>100</td><td>100</td></tr>');
  });

  it('draws one histogram per mode with axes, ticks and p50/p99 markers', () => {
    const svgs = charts(renderReport(input()));
    expect([...svgs.keys()]).toEqual(['sync', 'async']);
    for (const [mode, svg] of svgs) {
      expect(svg).toContain('role="img"');
      expect(svg).toMatch(new RegExp(`aria-label="${mode} latency histogram of 100 orders`));
      expect(svg).toMatch(/<title>[^<]+<\/title>/);
      const bars = [...svg.matchAll(/<rect class="bar"[^>]*><title>[^<]*: (\d+) orders<\/title>/g)];
      expect(bars.length).toBeGreaterThanOrEqual(5);
      expect(bars.reduce((sum, [, count]) => sum + Number(count), 0)).toBe(100);
      expect(svg).toContain('latency (ms)');
      expect(svg).toContain('>orders</text>');
      expect(numericTexts(svg, 'x-tick').length).toBeGreaterThanOrEqual(2);
      expect(numericTexts(svg, 'y-tick')[0]).toBe(0);
      expect(svg).toContain('>p50</text>');
      expect(svg).toContain('>p99</text>');
    }
    // One x scale for both: the same tick labels, and every async bar left of every sync bar.
    expect(numericTexts(svgs.get('sync')!, 'x-tick')).toEqual(
      numericTexts(svgs.get('async')!, 'x-tick'),
    );
    const barXs = (svg: string) =>
      [...svg.matchAll(/<rect class="bar" x="([\d.]+)"/g)].map(([, x]) => Number(x));
    expect(Math.max(...barXs(svgs.get('async')!))).toBeLessThan(
      Math.min(...barXs(svgs.get('sync')!)),
    );
  });

  it('runs and fetches nothing', () => {
    const html = renderReport(input());
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import/i);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:/);
  });

  it('escapes the machine string and the other text', () => {
    const html = renderReport(
      input({ machine: 'Node <b>&</b> "x"', generatedAt: '<script>alert(1)</script>' }),
    );
    expectWellFormed(html);
    expect(html).toContain('Node &lt;b&gt;&amp;&lt;/b&gt; &quot;x&quot;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<b>');
  });

  it('shows an open loop rate', () => {
    const html = renderReport(input({ result: { ...input().result, rate: 50 } }));
    expect(html).toContain('<tr><th>rate (orders/s)</th><td>50</td></tr>');
  });

  it.each([
    { name: 'no samples', sync: [], async: [] },
    { name: 'one mode without samples', sync: SYNC_MS, async: [] },
    { name: 'all samples equal', sync: [5, 5, 5], async: [5, 5] },
    { name: 'a single sample', sync: [42], async: [3] },
    { name: 'zero and tiny latencies', sync: [0, 0.0001, 0.5], async: [0] },
  ])('still draws both charts with $name', ({ sync, async }) => {
    const html = renderReport(input({ latenciesMs: { sync, async } }));
    expectWellFormed(html);
    for (const [mode, svg] of charts(html)) {
      const samples = mode === 'sync' ? sync : async;
      expect(svg).toContain('latency (ms)');
      expect(svg).toContain('>orders</text>');
      expect(numericTexts(svg, 'x-tick').length).toBeGreaterThanOrEqual(2);
      expect(svg.includes('>no samples</text>')).toBe(samples.length === 0);
      const bars = [...svg.matchAll(/: (\d+) orders<\/title>/g)];
      expect(bars.reduce((sum, [, count]) => sum + Number(count), 0)).toBe(samples.length);
    }
  });
});
