/**
 * Golden files beside their inputs: every fixture in test/fixtures/<case>/definitions compiles
 * to test/fixtures/<case>/expected/<target>/…, byte for byte.
 *
 * Regenerate with `npm run golden` and review the diff; CI (CI=true) never writes them.
 * The project's own out/ is checked by `acore compile --check` (test/project-out.test.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, acore, listFiles, tempDir } from './helpers.ts';

const cases = readdirSync(FIXTURES).filter((c) => existsSync(join(FIXTURES, c, 'definitions')) && !c.startsWith('errors-'));

describe.each(cases)('fixture %s', (name) => {
  const dir = join(FIXTURES, name);
  const options = existsSync(join(dir, 'fixture.json')) ? (JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as { scope?: string }) : {};

  it('compiles for systemd to its golden files', async () => {
    const out = tempDir();
    const args = ['compile', '--target', 'systemd', '--definitions', join(dir, 'definitions'), '--out', out];
    if (options.scope) args.push('--scope', options.scope);
    const r = await acore(args);
    expect(r.stderr).not.toMatch(/(error|warning)\[/);
    expect(r.code).toBe(0);
    const files = listFiles(out);
    const expectedDir = join(dir, 'expected', 'systemd');
    const expected = existsSync(expectedDir) ? listFiles(expectedDir) : [];
    // Same set of files (a new or vanished file is a reviewable change too) …
    if (process.env.CI || expected.length > 0) expect(files).toEqual(expected);
    // … with the same bytes.
    for (const f of files) {
      await expect(readFileSync(join(out, f), 'utf8')).toMatchFileSnapshot(join(expectedDir, f));
    }
  });
});
