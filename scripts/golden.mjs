// Regenerates every golden file: the project's own out/ and JSON Schema, and the fixtures'
// expected/ trees. Review the resulting diff before committing; CI never runs this.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI'));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });

run('node', ['scripts/build.mjs']);
run('node', ['bin/acore.js', 'compile', '--target', 'systemd']);
run('node', ['bin/acore.js', 'schema', '--out', 'schema/activity-definition.schema.json']);
for (const c of readdirSync(fixtures)) {
  const expected = join(fixtures, c, 'expected');
  if (existsSync(expected)) rmSync(expected, { recursive: true });
}
// Files before the flag: vitest 4's --update takes an optional value.
run('npx', ['vitest', 'run', 'test/golden.test.ts', 'test/diagnostics-golden.test.ts', '--update']);
