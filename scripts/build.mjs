// Bundles the CLI and its dependencies into dist/ with esbuild, templates inlined as text,
// command-only modules split into chunks loaded on demand (startup time is a feature).
import { build } from 'esbuild';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { templateModule } from './hbs.mjs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
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
  // CommonJS dependencies (commander, handlebars) require() node built-ins.
  banner: { js: "import{createRequire as __acoreCreateRequire}from'node:module';const require=__acoreCreateRequire(import.meta.url);" },
  plugins: [
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
