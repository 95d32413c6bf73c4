import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

// The bundle (scripts/build.mjs) inlines templates with esbuild's text loader; tests import the
// TypeScript sources directly, so they need the same behaviour.
const hbsAsText: Plugin = {
  name: 'hbs-as-text',
  load(id) {
    if (!id.endsWith('.hbs')) return null;
    return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
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
