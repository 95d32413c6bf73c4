// Loads the bundled CLI (dist/acore.cjs) with V8's code cache (dist/acore.cjs.cache, made by
// scripts/build.mjs): start-up then skips parsing and compiling the functions a command uses,
// which is most of a one-file `acore validate`. A cache from another Node.js (or other V8 flags)
// is rejected by V8 and the code is compiled as usual: only slower, never different.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const HEAD = '(function (exports, require, module, __filename, __dirname) {\n';

/** @param {string} [dir] the directory holding acore.cjs (default: ../dist) */
export function loadCli(dir = fileURLToPath(new URL('../dist/', import.meta.url))) {
  const file = join(dir, 'acore.cjs');
  const source = readFileSync(file, 'utf8');
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`${HEAD}${source}\n})`, { filename: file, lineOffset: -1, cachedData });
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
