#!/usr/bin/env node
// The fuzz properties of test/fuzz.test.ts with a larger budget and a fresh seed:
//
//   node scripts/fuzz.mjs [--runs N] [--seed S]     (npm run fuzz -- --runs 200)
//
// N multiplies the fixed budget `npm test` runs (default 50, i.e. ~95 000 compiles); S is the
// fast-check seed (default: random, printed first so that a failure can be replayed with it).
// A failure prints fast-check's counterexample, shrunk, and the seed and path to replay it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const runs = option('runs', process.env.ACORE_FUZZ_RUNS ?? '50');
const seed = option('seed', process.env.ACORE_FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31)));
if (!/^\d+(\.\d+)?$/.test(runs) || !/^-?\d+$/.test(seed)) {
  console.error('usage: node scripts/fuzz.mjs [--runs N] [--seed S]');
  process.exit(2);
}
console.log(`acore fuzz: ${runs}× the npm test budget, seed ${seed} (replay: node scripts/fuzz.mjs --runs ${runs} --seed ${seed})`);

const child = spawn(process.execPath, [`${root}/node_modules/vitest/vitest.mjs`, 'run', 'test/fuzz.test.ts', '--testTimeout', '0', '--hookTimeout', '0'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ACORE_FUZZ_RUNS: runs, ACORE_FUZZ_SEED: seed },
});
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
