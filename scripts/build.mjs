// Bundles src/ into dist/ with esbuild, because loading dozens of small ES modules costs more
// start-up time than the code itself (DESIGN.md: start-up is a feature):
// - dist/main.js and its chunks: the CLI, split so that what a command imports lazily (fixtures,
//   rendering, a broker adapter) is loaded only when that command runs, and `mq --version` loads
//   next to nothing. (One unsplit bundle is slower: it hoists every dependency's import to the top.)
// - dist/brokers/local/index.js: the embedded broker alone, for benchmarks and child processes in
//   tests that drive it without the CLI.
// Only commander, picocolors and ms are bundled from node_modules; every other dependency is imported
// from there, as its authors ship it, by the command that needs it. Type checking is
// `npm run typecheck`'s job.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const BUNDLED = new Set(['commander', 'picocolors', 'ms']);
const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outdir = new URL('../dist/', import.meta.url).pathname;

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(manifest.dependencies).filter((name) => !BUNDLED.has(name)),
  banner: {
    js: "import { createRequire as __mqCreateRequire } from 'node:module'; const require = __mqCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  keepNames: true,
  minify: true,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

await rm(outdir, { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/main.ts'], outdir, splitting: true }),
  build({
    ...common,
    entryPoints: ['src/brokers/local/index.ts'],
    outfile: `${outdir}brokers/local/index.js`,
  }),
]);
