import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';
// @ts-expect-error -- a plain .mjs build helper without types
import { templateModule } from './scripts/hbs.mjs';

// The bundle (scripts/build.mjs) precompiles templates; tests import the TypeScript sources
// directly, so they need the same transformation.
const hbsAsText: Plugin = {
  name: 'hbs-precompiled',
  load(id) {
    if (!id.endsWith('.hbs')) return null;
    return templateModule(readFileSync(id, 'utf8')) as string;
  },
};

export default defineConfig({
  plugins: [hbsAsText],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
