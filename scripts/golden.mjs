// Regenerates every golden file: the fixtures' expected/ trees and the project's own out/.
// Review the resulting diff before committing; CI never runs this.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures');
for (const c of readdirSync(fixtures)) {
  const expected = join(fixtures, c, 'expected');
  if (existsSync(expected)) rmSync(expected, { recursive: true });
}
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI')) });
run('node', ['scripts/build.mjs']);
run('npx', ['vitest', 'run', '--update', 'golden']);
run('node', ['bin/acore.js', 'compile', '--target', 'systemd']);
run('node', ['bin/acore.js', 'schema', '--out', 'schema/activity-definition.schema.json']);
