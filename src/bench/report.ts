/**
 * The page `mq bench --report <file.html>` writes (DESIGN.md §8): the run, the side-by-side table
 * and one latency histogram per mode as inline SVG. Self-contained on purpose: no scripts and
 * nothing fetched, so the file opens offline, years later, and shows exactly what was measured.
 */
import type { ModeResult } from './run.js';
import { binCounts, ratioEdges } from './histogram.js';

type Mode = 'sync' | 'async';

export interface ReportInput {
  /** The `--json` document of `mq bench` (DESIGN.md §8). */
  result: {
    version: number;
    broker: string;
    orders: number;
    concurrency: number;
    rate: number | null;
    timeScale: number;
    modes: Record<Mode, ModeResult>;
  };
  /** Every order's latency in ms, per mode (the raw samples behind the percentiles). */
  latenciesMs: Record<Mode, readonly number[]>;
  /** When the run happened (ISO string), printed in the page header. */
  generatedAt: string;
  /** What it ran on, e.g. "Node v20.x, linux x64, 2 CPUs". */
  machine: string;
}

const MODES: readonly Mode[] = ['sync', 'async'];
/** Finer than the terminal's twelve: a page has the room, and the tail's shape shows. */
const BIN_COUNT = 40;
/** run.ts records at least 1 µs in its HdrHistogram; the chart does too, as a log axis has no 0. */
const FLOOR_MS = 0.001;
const WIDTH = 720;
const HEIGHT = 300;
const PLOT = { left: 56, right: WIDTH - 16, top: 36, bottom: HEIGHT - 48 };

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

/** A complete HTML5 document; pure, so the command decides where it goes. */
export function renderReport(input: ReportInput): string {
  const { result } = input;
  const services = serviceNames(result.modes);
  const scale = sharedScale(input.latenciesMs);
  const param = (label: string, value: string | number) =>
    `<tr><th>${label}</th><td>${escapeHtml(String(value))}</td></tr>`;
  // As on the terminal: the one null figure, allProcessedMs, means not every order was processed.
  const figure = (value: number | null) => (value === null ? 'not all' : String(value));
  const row = (
    label: string,
    pick: (mode: ReportInput['result']['modes'][Mode]) => number | null,
  ) =>
    `<tr><th>${escapeHtml(label)}</th>${MODES.map((mode) => `<td>${figure(pick(result.modes[mode]))}</td>`).join('')}</tr>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mq bench: sync versus async</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.2rem 0.8rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child { text-align: left; font-weight: normal; }
figure { margin: 1.5rem 0; }
svg { width: 100%; height: auto; }
svg text { font-size: 12px; fill: #333; }
.axis { stroke: #333; } .grid { stroke: #eee; } .marker { stroke: #111; stroke-dasharray: 4 3; }
svg[data-mode="sync"] .bar { fill: #d9822b; } svg[data-mode="async"] .bar { fill: #2b7bb9; }
</style>
</head>
<body>
<h1>mq bench: sync versus async</h1>
<p>The same orders, two ways. <strong>sync</strong>: the order service calls ${escapeHtml(services.join(', ') || 'its services')} one after another and answers after all of them. <strong>async</strong>: it publishes the order to a broker, answers once the broker has confirmed it, and each service consumes the order from its own queue. Latency is the time from sending an order to its answer.</p>
<p>Generated ${escapeHtml(input.generatedAt)} on ${escapeHtml(input.machine)}.</p>
<h2>Run</h2>
<table>
${param('orders', result.orders)}
${param('concurrency', result.concurrency)}
${param('rate (orders/s)', result.rate ?? 'closed loop')}
${param('time scale', result.timeScale)}
${param('broker', result.broker)}
</table>
<h2>Results</h2>
<table>
<tr><th></th><th>sync</th><th>async</th></tr>
${row('latency p50 (ms)', (m) => m.latencyMs.p50)}
${row('latency p90 (ms)', (m) => m.latencyMs.p90)}
${row('latency p99 (ms)', (m) => m.latencyMs.p99)}
${row('latency p99.9 (ms)', (m) => m.latencyMs.p999)}
${row('latency max (ms)', (m) => m.latencyMs.max)}
${row('throughput (orders/s)', (m) => m.throughputPerSec)}
${row('completed', (m) => m.completed)}
${row('errors', (m) => m.errors)}
${row('all processed (ms)', (m) => m.allProcessedMs)}
${services.map((name) => row(`${name} processed`, (m) => m.processed[name] ?? 0)).join('\n')}
</table>
<h2>Latency distribution</h2>
<p>Both charts share one logarithmic latency axis and one count axis, so their bars compare.</p>
${MODES.map((mode) => `<figure>${chart(mode, input, scale)}</figure>`).join('\n')}
</body>
</html>
`;
}

/** Services in the order the run reported them, including any only one mode saw. */
function serviceNames(modes: ReportInput['result']['modes']): string[] {
  return [...new Set(MODES.flatMap((mode) => Object.keys(modes[mode].processed)))];
}

interface Scale {
  low: number;
  high: number;
  edges: number[];
  counts: Record<Mode, number[]>;
  yTicks: number[];
}

/**
 * One x and one y scale for both charts, so their bars compare. The x axis is always logarithmic,
 * its bins a fixed ratio wide (ratioEdges, as on the terminal): sync and async latencies are ten
 * times apart or more, and on a linear axis every async order would land in the first bin or two.
 */
function sharedScale(latencies: ReportInput['latenciesMs']): Scale {
  const floored = (mode: Mode) => latencies[mode].map((ms) => Math.max(FLOOR_MS, ms));
  const samples = { sync: floored('sync'), async: floored('async') };
  const all = [...samples.sync, ...samples.async];
  // Not Math.min(...all): a long run has more samples than a call takes arguments. With no samples
  // at all, 1–100 ms is an arbitrary axis for the empty charts to show.
  let low = all.length === 0 ? 1 : all.reduce((least, ms) => Math.min(least, ms));
  let high = all.length === 0 ? 100 : all.reduce((most, ms) => Math.max(most, ms));
  if (low === high) [low, high] = [low / 2, high * 2]; // one sample, or all equal: a bar mid-axis
  const edges = ratioEdges([low, high], BIN_COUNT);
  const counts = { sync: binCounts(samples.sync, edges), async: binCounts(samples.async, edges) };
  const fullest = [...counts.sync, ...counts.async].reduce((most, n) => Math.max(most, n), 0);
  return { low, high, edges, counts, yTicks: countTicks(fullest) };
}

/** 0 up to a round number at or above `fullest`, in about four steps of 1, 2 or 5 × 10^n. */
function countTicks(fullest: number): number[] {
  const rough = Math.max(1, fullest) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].find((m) => m * power >= rough)! * power);
  const top = Math.max(step, Math.ceil(fullest / step) * step);
  return Array.from({ length: top / step + 1 }, (_, index) => index * step);
}

/** 1, 2 and 5 × 10^n inside the axis (powers of ten alone when it spans more than 1000×). */
function latencyTicks(low: number, high: number): number[] {
  const multiples = high / low > 1000 ? [1] : [1, 2, 5];
  const ticks: number[] = [];
  for (let power = Math.floor(Math.log10(low)); 10 ** power <= high; power += 1) {
    for (const multiple of multiples) {
      const tick = multiple * 10 ** power;
      if (tick >= low && tick <= high) ticks.push(tick);
    }
  }
  return ticks.length >= 2 ? ticks : [low, high];
}

/** Three significant digits, without float noise like 0.30000000000000004. */
const formatMs = (ms: number) => String(Number(ms.toPrecision(3)));
const px = (value: number) => value.toFixed(1);

function chart(mode: Mode, input: ReportInput, scale: Scale): string {
  const { low, high, edges, yTicks } = scale;
  const yMax = yTicks[yTicks.length - 1]!;
  const x = (ms: number) => {
    const share = Math.log(Math.max(FLOOR_MS, ms) / low) / Math.log(high / low);
    return PLOT.left + Math.min(1, Math.max(0, share)) * (PLOT.right - PLOT.left);
  };
  const y = (count: number) => PLOT.bottom - (count / yMax) * (PLOT.bottom - PLOT.top);
  const samples = input.latenciesMs[mode].length;
  const { p50, p99 } = input.result.modes[mode].latencyMs;
  const description =
    samples === 0
      ? `${mode} latency histogram: no samples`
      : `${mode} latency histogram of ${samples} orders: p50 ${p50} ms, p99 ${p99} ms`;
  const bars = scale.counts[mode].flatMap((count, bin) => {
    if (count === 0) return [];
    const [left, right] = [x(edges[bin]!), x(edges[bin + 1]!)];
    const range = `${formatMs(edges[bin]!)}–${formatMs(edges[bin + 1]!)} ms`;
    return `<rect class="bar" x="${px(left)}" y="${px(y(count))}" width="${px(Math.max(1, right - left - 1))}" height="${px(PLOT.bottom - y(count))}"><title>${range}: ${count} orders</title></rect>`;
  });
  const xTicks = latencyTicks(low, high).map(
    (ms) =>
      `<line class="axis" x1="${px(x(ms))}" y1="${PLOT.bottom}" x2="${px(x(ms))}" y2="${PLOT.bottom + 5}"/><text class="x-tick" x="${px(x(ms))}" y="${PLOT.bottom + 18}" text-anchor="middle">${formatMs(ms)}</text>`,
  );
  const yTickMarks = yTicks.map(
    (count) =>
      `<line class="grid" x1="${PLOT.left}" y1="${px(y(count))}" x2="${PLOT.right}" y2="${px(y(count))}"/><text class="y-tick" x="${PLOT.left - 6}" y="${px(y(count) + 4)}" text-anchor="end">${count}</text>`,
  );
  // Labels stacked above the plot, p99 over p50: close markers never overprint.
  const marker = (label: string, ms: number, labelY: number) =>
    `<line class="marker" x1="${px(x(ms))}" y1="${PLOT.top}" x2="${px(x(ms))}" y2="${PLOT.bottom}"/><text x="${px(x(ms))}" y="${labelY}" text-anchor="middle">${label}</text>`;
  const midX = (PLOT.left + PLOT.right) / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" data-mode="${mode}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(description)}">
<title>${escapeHtml(description)}</title>
${yTickMarks.join('')}
${bars.join('')}
<line class="axis" x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}"/><line class="axis" x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}"/>
${xTicks.join('')}
<text x="${midX}" y="${HEIGHT - 8}" text-anchor="middle">${mode}: latency (ms), log scale</text>
<text transform="translate(14 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle">orders</text>
${samples === 0 ? `<text class="note" x="${midX}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle">no samples</text>` : `${marker('p50', p50, PLOT.top - 4)}${marker('p99', p99, PLOT.top - 18)}`}
</svg>`;
}
