// Bundles the CLI and its dependencies into one file, dist/acore.cjs, with esbuild (templates
// precompiled), and makes its V8 code cache (start-up time is a feature; see bin/load.js).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { templateModule } from './hbs.mjs';
import { loadCli } from '../bin/load.cjs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// A fingerprint of everything that decides what acore generates (its sources, templates and
// locked dependencies): the incremental compile (src/cli/incremental.ts) trusts a previous
// result only when it was made by the same build.
function fingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else hash.update(`${rel}\0`).update(readFileSync(join(root, rel))).update('\0');
    }
  };
  walk('src');
  walk('templates');
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}
// Build beside dist/ and swap it in, so a CLI run (or test) during a rebuild never finds it half-written.
const next = `dist.next-${process.pid}`;
rmSync(`${root}/${next}`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { acore: 'src/cli/main.ts' },
  outdir: next,
  outExtension: { '.js': '.cjs' },
  // One CommonJS file, loaded by bin/load.js with V8's code cache (made below).
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Commands load their modules on demand; in one file they are only evaluated when imported.
  supported: { 'dynamic-import': false },
  // Dependencies are bundled: one file loads much faster than hundreds in node_modules.
  // ts-morph stays external: only `acore gen-tests` loads it.
  external: ['ts-morph'],
  minify: true,
  // The file is one function expression, compiled as it is by bin/load.cjs (no copy to wrap it).
  banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
  footer: { js: '})' },
  define: { __ACORE_BUILD__: JSON.stringify(fingerprint()) },
  plugins: [
    {
      // commander require()s child_process at load time, for executable subcommands acore does
      // not have; a lazy stand-in keeps that module off every command's start-up.
      name: 'lazy-child-process-for-commander',
      setup(b) {
        b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
          args.importer.includes('/node_modules/commander/') ? { path: 'lazy-child-process', namespace: 'acore-lazy' } : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'acore-lazy' }, () => ({
          contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
          loader: 'js',
        }));
      },
    },
    {
      name: 'precompiled-handlebars',
      setup(b) {
        b.onLoad({ filter: /\.hbs$/ }, (args) => ({ contents: templateModule(readFileSync(args.path, 'utf8')), loader: 'js' }));
      },
    },
  ],
  sourcemap: 'external',
  logLevel: 'warning',
  legalComments: 'none',
});

// bin/load.cjs reads the bundle as latin1, which is exact only for ASCII (esbuild's default charset).
if (/[^\x00-\x7f]/.test(readFileSync(join(root, next, 'acore.cjs'), 'latin1'))) throw new Error('build: dist/acore.cjs is not pure ASCII');

// The code cache: V8's compiled code for what the common commands run, taken after running
// them once on the bundled definitions (quietly, into a scratch directory).
{
  const scratch = mkdtempSync(join(tmpdir(), 'acore-build-'));
  try {
    const cli = loadCli(join(root, next));
    const io = { cwd: root, stdout: () => {}, stderr: () => {}, color: false, env: { HOME: scratch, XDG_CACHE_HOME: scratch } };
    // The repository's own definitions (a copy of acore without them still builds, with a colder cache).
    const warmUp = existsSync(join(root, 'definitions'))
      ? [
          ['validate', '--definitions', 'definitions', '--target', 'all'],
          ['compile', '--definitions', 'definitions', '--target', 'all', '--out', join(scratch, 'out')],
        ]
      : [];
    for (const argv of warmUp) {
      const code = await cli.main(argv, io);
      if (code !== 0) throw new Error(`build: warming the code cache, \`acore ${argv.join(' ')}\` exited ${code}`);
    }
    writeFileSync(join(root, next, 'acore.cjs.cache'), cli.createCache());
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const old = `${root}/dist.old-${process.pid}`;
if (existsSync(`${root}/dist`)) renameSync(`${root}/dist`, old);
renameSync(`${root}/${next}`, `${root}/dist`);
rmSync(old, { recursive: true, force: true });
