'use strict';
// Loads the bundled CLI (dist/acore.cjs) with V8's code cache (dist/acore.cjs.cache, made by
// scripts/build.mjs): start-up then skips parsing and compiling the functions a command uses,
// which is most of a one-file `acore validate`. A cache from another Node.js (or other V8 flags)
// is rejected by V8 and the code is compiled as usual: only slower, never different.
// CommonJS on purpose: an ES module entry point costs Node ~10 ms more to start.
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** @param {string} [dir] the directory holding acore.cjs (default: ../dist) */
function loadCli(dir = join(__dirname, '..', 'dist')) {
  const file = join(dir, 'acore.cjs');
  // esbuild writes ASCII only (it escapes everything else), so latin1 decodes it exactly and fastest.
  const source = readFileSync(file, 'latin1');
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  // The bundle is one function expression `(function (exports, require, module, __filename, __dirname) {…})`.
  const script = new Script(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return {
    /** @type {(argv: string[], io?: unknown) => Promise<number>} */
    main: module.exports.main,
    cacheRejected: script.cachedDataRejected === true,
    /** The code cache as of now: everything compiled so far (build time, after a warm-up run). */
    createCache: () => script.createCachedData(),
  };
}

module.exports = { loadCli };
