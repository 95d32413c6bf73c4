/**
 * How diagnostics look, as a reviewed golden file: test/fixtures/errors-NAME/expected/diagnostics.txt.
 * (Codes and positions are asserted one by one in test/diagnostics.test.ts; this file is
 * about the rendering: file:line:col, the source line, the caret, notes and help.)
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, acore, listFiles, tempDir } from './helpers.ts';

const cases = readdirSync(FIXTURES).filter((c) => c.startsWith('errors-') && existsSync(join(FIXTURES, c, 'definitions')));

describe.each(cases)('fixture %s', (name) => {
  it('reports every problem and writes nothing', async () => {
    const out = tempDir();
    const defs = join('test', 'fixtures', name, 'definitions');
    const r = await acore(['compile', '--target', 'systemd', '--definitions', defs, '--out', join(out, 'o')], ROOT);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(existsSync(join(out, 'o'))).toBe(false);
    expect(listFiles(out)).toEqual([]);
    await expect(r.stderr).toMatchFileSnapshot(join(FIXTURES, name, 'expected', 'diagnostics.txt'));
  });
});
