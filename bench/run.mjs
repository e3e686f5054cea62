// `npm run bench`: every benchmark, each reporting against a baseline measured in the same run, and
// then the section "Latest `npm run bench`" of docs/performance.md written anew from what they
// measured (machine, versions, each measure beside its baseline). The rest of that page (method,
// history) is prose kept by hand. Exit 1 if a script failed or missed its goal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// rabbitmq-*.mjs and kafka-*.mjs need the test brokers up (npm run brokers:up).
const scripts = [
  'startup.mjs',
  'local-publish.mjs',
  'local-broker.mjs',
  'story.mjs',
  'rabbitmq-publish.mjs',
  'rabbitmq-redrive.mjs',
  'kafka-publish.mjs',
  'kafka-consume.mjs',
];
const root = fileURLToPath(new URL('..', import.meta.url));
const page = join(root, 'docs', 'performance.md');
const BEGIN = '<!-- npm run bench: begin (written by bench/run.mjs; edit that, not this) -->';
const END = '<!-- npm run bench: end -->';

const scratch = mkdtempSync(join(tmpdir(), 'mq-bench-results-'));
const resultsFile = join(scratch, 'results.ndjson');
writeFileSync(resultsFile, '');
const failed = [];
try {
  for (const script of scripts) {
    const result = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
      stdio: 'inherit',
      env: { ...process.env, MQ_BENCH_RESULTS: resultsFile },
    });
    if (result.status !== 0) failed.push(script);
  }
  const results = readFileSync(resultsFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
  writeSection(results, await versions());
  console.log(`\nwrote the latest results to ${page}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (failed.length > 0) console.error(`failed or missed a goal: ${failed.join(', ')}`);
process.exitCode = failed.length > 0 ? 1 : 0;

async function versions() {
  let rabbitmq = 'not running';
  try {
    const response = await fetch('http://127.0.0.1:15672/api/overview', {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    rabbitmq = (await response.json()).rabbitmq_version;
  } catch {
    // Not up: the RabbitMQ lines failed and say so.
  }
  let kafka = 'not running';
  try {
    const properties = readFileSync(join(root, '.brokers', 'kafka', 'server.properties'), 'utf8');
    kafka = /for Kafka (\S+);/.exec(properties)?.[1] ?? kafka;
  } catch {
    // Never started here.
  }
  return { rabbitmq, kafka };
}

function writeSection(results, { rabbitmq, kafka }) {
  const number = (value, unit) =>
    unit === 'ms'
      ? `${value.toFixed(1)} ms`
      : `${Math.round(value).toLocaleString('en-US')}${unit === 'messages/s' ? '/s' : ` ${unit}`}`;
  const rows = results.map((r) => [
    r.measure,
    r.baseline,
    number(r.baselineValue, r.unit),
    number(r.value, r.unit),
    (r.value / r.baselineValue).toFixed(2),
    r.goal ?? '',
    r.met === undefined ? '' : r.met ? 'met' : '**missed**',
  ]);
  const table = [
    ['measure', 'baseline', 'baseline', 'mq', 'ratio', 'goal', ''],
    ['---', '---', '---:', '---:', '---:', '---', '---'],
    ...rows,
  ]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), ${platform()} ${release()}`;
  const section = [
    BEGIN,
    '## Latest `npm run bench`',
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; Node ${process.version}, RabbitMQ ${rabbitmq}, Kafka ${kafka}. Each measure beside its baseline from the same run; the ratio is mq over the baseline (for ms, lower is better; for /s, higher). Methods and history: the sections below.`,
    '',
    table,
    END,
  ].join('\n');
  const text = readFileSync(page, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const updated =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${section}${text.slice(end + END.length)}`
      : text.replace(/\n## /, `\n${section}\n\n## `);
  writeFileSync(page, updated);
  // The table as Prettier lays it out, so that `npm run lint` passes on the page as written.
  const prettier = join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  spawnSync(process.execPath, [prettier, '--write', page], { stdio: 'ignore' });
}
