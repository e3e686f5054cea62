// Bundles src/ into dist/ with esbuild: one entry and lazily loaded chunks, because loading dozens
// of small ES modules costs more start-up time than the code itself (DESIGN.md: start-up is a
// feature). Dependencies stay in node_modules; type checking is `npm run typecheck`'s job.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const BUNDLED = new Set(['commander', 'chalk', 'ms']);
const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

const outdir = new URL('../dist/', import.meta.url).pathname;
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Only what every start-up needs is bundled; the rest loads from node_modules when a command
  // imports it, as its authors ship it (CommonJS interop, native parts, data files).
  external: Object.keys(manifest.dependencies).filter((name) => !BUNDLED.has(name)),
  banner: {
    js: "import { createRequire as __mqCreateRequire } from 'node:module'; const require = __mqCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  keepNames: true,
  minify: true,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
