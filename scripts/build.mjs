// Bundles the CLI and its dependencies into dist/ with esbuild, templates inlined as text,
// command-only modules split into chunks loaded on demand (startup time is a feature).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { templateModule } from './hbs.mjs';
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
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies are bundled: one file loads much faster than hundreds in node_modules.
  // ts-morph stays external: only `acore gen-tests` loads it.
  external: ['ts-morph'],
  minify: true,
  keepNames: true,
  define: { __ACORE_BUILD__: JSON.stringify(fingerprint()) },
  // CommonJS dependencies (commander, handlebars) require() node built-ins.
  banner: { js: "import{createRequire as __acoreCreateRequire}from'node:module';const require=__acoreCreateRequire(import.meta.url);" },
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
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
});

const old = `${root}/dist.old-${process.pid}`;
if (existsSync(`${root}/dist`)) renameSync(`${root}/dist`, old);
renameSync(`${root}/${next}`, `${root}/dist`);
rmSync(old, { recursive: true, force: true });
