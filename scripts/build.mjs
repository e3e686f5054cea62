// Bundles src/ into dist/ with esbuild, because loading dozens of small modules costs more
// start-up time than the code itself (DESIGN.md: start-up is a feature):
// - dist/main.cjs: the CLI as one CommonJS file. Each module a command imports lazily (fixtures,
//   rendering, a broker adapter) is wrapped by esbuild so that it runs only when first used, and
//   require() reads files synchronously, where ES modules cost one asynchronous file read per
//   import level (measured in docs/performance.md: the one-shot publish went from 1.6 to 1.4 times
//   a bare amqplib script). `mq --version` is answered by bin/mq.js before this file is read.
// - dist/vendor/kafkajs.cjs: kafkajs as one file, which the Kafka adapter requires. Apart from
//   the CLI, so that commands on other brokers never read it; one file, so that bin/load-cli.js
//   caches its compiled code as it does the CLI's (kafkajs is 167 modules that run 70 ms of
//   top-level code on every load, measured in docs/performance.md).
// - dist/bench-worker.cjs: a process of `mq bench`'s story (the order service or a service), which
//   the bench forks; apart from the CLI, which it does not need.
// - dist/brokers/local/index.js: the embedded broker alone, as an ES module, for benchmarks and
//   child processes in tests that drive it without the CLI.
// Pure-JS dependencies on the hot paths (commander, picocolors, ms, jsonc-parser) are bundled, and
// kafkajs has its own; every other dependency is required from node_modules by the command that
// needs it.
// Type checking is `npm run typecheck`'s job.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

const BUNDLED = new Set(['commander', 'picocolors', 'ms', 'jsonc-parser']);
const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const distdir = new URL('../dist', import.meta.url).pathname;
// Built beside dist/ and swapped in at the end, so a CLI process started meanwhile (a test run
// during a rebuild) finds a whole build, old or new.
const outdir = `${distdir}.${process.pid}/`;

/** The CLI requires kafkajs from its own bundle beside it, not from node_modules. */
const KAFKAJS_BUNDLE = './vendor/kafkajs.cjs';
const kafkajsFromVendor = {
  name: 'kafkajs-from-vendor',
  setup(plugin) {
    plugin.onResolve({ filter: /^kafkajs$/ }, () => ({ path: KAFKAJS_BUNDLE, external: true }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: Object.keys(manifest.dependencies).filter((name) => !BUNDLED.has(name)),
  sourcemap: true,
  minify: true,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    format: 'cjs',
    entryPoints: ['src/main.ts'],
    outfile: `${outdir}main.cjs`,
    plugins: [kafkajsFromVendor],
    // import() becomes require() (of ES modules too, Node >= 20.19): bin/load-cli.js runs the bundle
    // from a code-cached vm.Script, where Node 20 has no import() without an experimental flag.
    supported: { 'dynamic-import': false },
    // src/paths.ts finds the package from import.meta.url; in CommonJS that is the file's own URL.
    define: { 'import.meta.url': '__mqFileUrl' },
    banner: { js: "const __mqFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  build({
    ...common,
    format: 'cjs',
    entryPoints: ['src/bench/worker.ts'],
    outfile: `${outdir}bench-worker.cjs`,
    plugins: [kafkajsFromVendor],
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__mqFileUrl' },
    banner: { js: "const __mqFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  build({
    ...common,
    external: [],
    format: 'cjs',
    entryPoints: [createRequire(import.meta.url).resolve('kafkajs')],
    outfile: `${outdir}vendor/kafkajs.cjs`,
  }),
  build({
    ...common,
    format: 'esm',
    entryPoints: ['src/brokers/local/index.ts'],
    outfile: `${outdir}brokers/local/index.js`,
    banner: {
      js: "import { createRequire as __mqCreateRequire } from 'node:module'; const require = __mqCreateRequire(import.meta.url);",
    },
  }),
]);
// Each cached bundle's content hash, last in it (after the source map comment, so no mapping
// moves): the key of its compile cache in bin/load-cli.js.
for (const bundle of [`${outdir}main.cjs`, `${outdir}vendor/kafkajs.cjs`]) {
  const code = await readFile(bundle, 'utf8');
  const buildId = createHash('sha256').update(code).digest('hex').slice(0, 16);
  await writeFile(bundle, `${code.trimEnd()}\n//# mqBuild=${buildId}\n`);
}
const previous = `${distdir}.old.${process.pid}`;
await rename(distdir, previous).catch(() => {});
await rename(outdir, distdir);
await rm(previous, { recursive: true, force: true });
