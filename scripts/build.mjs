// Bundles the CLI into dist/ with esbuild: one file per entry, templates inlined as text,
// heavy command-only modules split into chunks loaded on demand (startup time is a feature).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { acore: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  loader: { '.hbs': 'text' },
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
});
