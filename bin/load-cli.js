'use strict';
/**
 * Loads the CLI bundle (dist/main.cjs), and kafkajs's (dist/vendor/kafkajs.cjs) when a command
 * needs it, with their compiled code cached between runs, so that V8 skips parsing and compiling
 * them on every start after the first (docs/performance.md has the numbers). Node 22 and later do
 * this themselves (module.enableCompileCache, for every module); on Node 20 each bundle is
 * compiled through vm.Script with V8's cachedData. The cache lives in the user's own cache
 * directory (0700), never a shared one: it holds code this process will run. Anything wrong with
 * it (no home, a read-only disk, data V8 rejects) means compiling as usual, without a word.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does for Node's own cache.
 */
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

const DIST = path.join(__dirname, '..', 'dist');
const BUNDLE = path.join(DIST, 'main.cjs');
/** As the CLI bundle requires it (scripts/build.mjs), and the name of its cache files. */
const VENDOR_BUNDLES = new Map([['./vendor/kafkajs.cjs', 'kafkajs']]);

/** Relative or empty bases are ignored (the XDG rule): a cache in the working directory could be planted. */
function cacheDirectory() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE === '1') return null;
  let base = process.env.XDG_CACHE_HOME;
  if (!base || !path.isAbsolute(base)) {
    try {
      base =
        process.platform === 'win32' ? process.env.LOCALAPPDATA : path.join(os.homedir(), '.cache');
    } catch {
      return null; // No home directory (a uid without a passwd entry): no cache.
    }
  }
  return base && path.isAbsolute(base) ? path.join(base, 'mq', 'compile-cache') : null;
}

/**
 * The build's content hash, which scripts/build.mjs appends to each bundle: V8 itself checks only
 * the source's length, and npm gives every installed file the same mtime.
 */
const BUILD_ID = /\/\/# mqBuild=([0-9a-f]{16})\s*$/;

function cacheFileFor(directory, name, source) {
  const build = BUILD_ID.exec(source.slice(-64))?.[1];
  if (build === undefined) return null;
  return path.join(directory, `${name}-${build}-${process.version}-${process.arch}.v8`);
}

function readCache(file) {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a rename), and the bundle's caches of earlier builds removed. */
function writeCache(directory, name, file, data) {
  try {
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, data, { mode: 0o600 });
    fs.renameSync(temporary, file);
    for (const entry of fs.readdirSync(directory)) {
      const stale = entry.startsWith(`${name}-`) && path.join(directory, entry) !== file;
      if (stale) fs.rmSync(path.join(directory, entry), { force: true });
    }
  } catch {
    // An unwritable cache only costs the next start its compile time.
  }
}

/**
 * Runs a bundle as require() would, from a script whose compiled code is cached; `requireFrom`
 * gives the bundle its require().
 */
function loadThroughCodeCache(directory, name, bundlePath, requireFrom) {
  const source = fs.readFileSync(bundlePath, 'utf8');
  const file = cacheFileFor(directory, name, source);
  if (file === null) return require(bundlePath);
  const cached = readCache(file);
  const script = new vm.Script(Module.wrap(source), {
    filename: bundlePath,
    cachedData: cached,
  });
  const bundle = { exports: {} };
  script
    .runInThisContext()
    .call(
      bundle.exports,
      bundle.exports,
      requireFrom(bundlePath),
      bundle,
      bundlePath,
      path.dirname(bundlePath),
    );
  if (cached === undefined || script.cachedDataRejected) {
    // At exit, so that the functions this run compiled lazily are in the cache too.
    process.once('exit', () => writeCache(directory, name, file, script.createCachedData()));
  }
  return bundle.exports;
}

/** The CLI bundle's require(): its vendor bundles come through the code cache, once each. */
function cliRequire(directory) {
  const loaded = new Map();
  return (bundlePath) => {
    const plain = Module.createRequire(bundlePath);
    const required = (id) => {
      const name = VENDOR_BUNDLES.get(id);
      if (name === undefined) return plain(id);
      if (!loaded.has(id)) {
        const vendorPath = path.join(DIST, id);
        loaded.set(id, loadThroughCodeCache(directory, name, vendorPath, Module.createRequire));
      }
      return loaded.get(id);
    };
    return Object.assign(required, plain);
  };
}

module.exports = function loadCli() {
  const directory = cacheDirectory();
  if (directory === null) return require(BUNDLE);
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache(directory);
    return require(BUNDLE);
  }
  return loadThroughCodeCache(directory, 'main', BUNDLE, cliRequire(directory));
};
