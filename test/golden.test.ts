/**
 * Golden files beside their inputs: every fixture in test/fixtures/<case>/definitions compiles
 * to test/fixtures/<case>/expected/<target>/…, byte for byte. A fixture's fixture.json may
 * choose its targets (default: systemd) and options (scope, cronForm, scriptDir).
 *
 * Regenerate with `npm run golden` and review the diff; CI (CI=true) never writes them.
 * The project's own out/ is checked by `acore compile --check` (test/project-out.test.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, acore, listFiles, tempDir } from './helpers.ts';

interface FixtureOptions {
  targets?: string[];
  scope?: string;
  cronForm?: string;
  scriptDir?: string;
}

const cases = readdirSync(FIXTURES)
  .filter((c) => existsSync(join(FIXTURES, c, 'definitions')) && !c.startsWith('errors-'))
  .flatMap((c) => {
    const file = join(FIXTURES, c, 'fixture.json');
    const options = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as FixtureOptions) : {};
    return (options.targets ?? ['systemd']).map((target) => ({ name: c, target, options }));
  });

describe.each(cases)('fixture $name → $target', ({ name, target, options }) => {
  const dir = join(FIXTURES, name);

  it('compiles to its golden files', async () => {
    const out = tempDir();
    const args = ['compile', '--target', target, '--definitions', join(dir, 'definitions'), '--out', out];
    if (options.scope) args.push('--scope', options.scope);
    if (options.cronForm) args.push('--cron-form', options.cronForm);
    if (options.scriptDir) args.push('--script-dir', options.scriptDir);
    const r = await acore(args);
    expect(r.stderr).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    const files = listFiles(out);
    const expectedDir = join(dir, 'expected', target);
    const expected = existsSync(expectedDir) ? listFiles(expectedDir) : [];
    // Same set of files (a new or vanished file is a reviewable change too) …
    if (process.env.CI || expected.length > 0) expect(files).toEqual(expected);
    // … with the same bytes.
    for (const f of files) {
      await expect(readFileSync(join(out, f), 'utf8')).toMatchFileSnapshot(join(expectedDir, f));
    }
  });
});

describe('generated text is ASCII unless a definition is not', () => {
  // acore's own words in generated files stay ASCII: a crontab or unit read in a C locale shows
  // no mojibake, and V8 keeps ASCII text at one byte per character (half the memory at fleet scale).
  const ascii = (text: string) => /^[\x00-\x7f]*$/.test(text);

  it('holds for every target, for every fixture definition that is ASCII and one without a time zone', async () => {
    const { compile } = await import('../src/compiler/compile.ts');
    const { loadTarget } = await import('../src/cli/compile-shared.ts');
    const files = readdirSync(FIXTURES)
      .filter((c) => !c.startsWith('errors-') && existsSync(join(FIXTURES, c, 'definitions')))
      .flatMap((c) => listFiles(join(FIXTURES, c, 'definitions')).map((f) => ({ path: `${c}/${f}`, text: readFileSync(join(FIXTURES, c, 'definitions', f), 'utf8') })))
      .filter((f) => ascii(f.text));
    // The host's local time (crontab) and GitHub's default zone (github) are worded by acore.
    files.push({ path: 'zoneless.yaml', text: 'id: t.zoneless\ntrigger:\n  trigger_type: cron\n  cron_expression: "0 3 * * *"\ninstruction:\n  kind: shell\n  cmd: echo hi\n' });
    let checked = 0;
    for (const target of ['systemd', 'crontab', 'github'] as const) {
      // One file at a time: a fixture may hold definitions a target refuses, or ids another fixture reuses.
      for (const f of files) {
        const r = compile([f], [await loadTarget(target)], { scope: 'user' });
        for (const a of r.artefacts) {
          expect(ascii(a.content), `${target}/${a.path} from ${f.path}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
