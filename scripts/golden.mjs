// Regenerates every golden file: the project's own out/ and JSON Schema, and the fixtures'
// expected/ trees. Review the resulting diff before committing; CI never runs this.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI'));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });

run('node', ['scripts/build.mjs']);
run('node', ['bin/acore.js', 'compile', '--target', 'all']);
run('node', ['bin/acore.js', 'schema', '--out', 'schema/activity-definition.schema.json']);
// The README's capability matrix section.
const table = execFileSync('node', ['bin/acore.js', 'capabilities'], { cwd: root, encoding: 'utf8' }).trimEnd();
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const markers = /<!-- capability-matrix:begin -->\n[\s\S]*?<!-- capability-matrix:end -->/;
if (!markers.test(readme)) throw new Error('README.md has no capability-matrix markers');
const updated = readme.replace(markers, `<!-- capability-matrix:begin -->\n${table}\n<!-- capability-matrix:end -->`);
writeFileSync(readmePath, updated);
for (const c of readdirSync(fixtures)) {
  const expected = join(fixtures, c, 'expected');
  if (existsSync(expected)) rmSync(expected, { recursive: true });
}
// Files before the flag: vitest 4's --update takes an optional value.
// (ACORE_GOLDEN: the time zone table is remade from this Node.js's data, whatever it was made from.)
execFileSync('npx', ['vitest', 'run', 'test/golden.test.ts', 'test/diagnostics-golden.test.ts', 'test/zones.test.ts', '--update'], { cwd: root, stdio: 'inherit', env: { ...env, ACORE_GOLDEN: '1' } });
