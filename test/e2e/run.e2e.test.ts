/**
 * Under a real systemd user manager: failure policies (log_and_continue vs fail with its
 * OnFailure= handler), timeouts, and commands/values that must arrive byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionYaml } from './definitions.ts';
import { runUnit, startUserManager, type UserManager, waitFor, writeDefinitions } from './harness.ts';

let m: UserManager;
const file = (name: string) => join(m.root, name);
const read = (name: string) => (existsSync(file(name)) ? readFileSync(file(name), 'utf8') : '');

/** Every character class the issue names, plus a few more. */
const NASTY = `100% of $HOME and \${X} and $(echo sub) and \`tick\` 'single' "double" back\\slash\ttab → ünïcødé 😀 ;|&<> *?[a] #hash\nsecond line %n %% $$`;

beforeAll(async () => {
  m = await startUserManager('run');
  // The OnFailure= handler an operator would have (e.g. one that pages): records who failed.
  writeFileSync(join(m.unitDir, 'page-me@.service'), `[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo "$$1" >> ${join(m.root, 'paged')}' sh %i\n`);
  const wd = join(m.root, 'dir with spaces, % and $dollar');
  mkdirSync(wd, { recursive: true });
  const dir = writeDefinitions(m, 'run', {
    'warn.yaml': definitionYaml({
      id: 'e2e.warn-only',
      cmd: 'echo working; exit 3',
      onFailure: 'log_and_continue',
      systemd: { on_failure: ['page-me@%n.service'] },
    }),
    'fail.yaml': definitionYaml({ id: 'e2e.must-page', cmd: 'echo working; exit 3', systemd: { on_failure: ['page-me@%n.service'] } }),
    'timeout-fail.yaml': definitionYaml({ id: 'e2e.timeout-fail', cmd: `echo started > ${join(m.root, 'tf')}; sleep 30; echo finished >> ${join(m.root, 'tf')}`, timeout: 2 }),
    'timeout-warn.yaml': definitionYaml({
      id: 'e2e.timeout-warn',
      cmd: `sleep 30; echo finished > ${join(m.root, 'tw')}`,
      timeout: 1,
      onFailure: 'log_and_continue',
    }),
    // The shell receives exactly the command text: it reads its own argv from /proc.
    'argv.yaml': definitionYaml({ id: 'e2e.argv', cmd: `cat /proc/$$/cmdline > ${join(m.root, 'argv')}; : '${NASTY.replace(/'/g, "'\\''")}'` }),
    // And runs it with its meaning: quoting, expansion and %/$ exactly as sh does.
    'values.yaml': definitionYaml({
      id: 'e2e.values',
      cmd: [
        `cd "$TARGET_DIR" || exit 9`,
        `{ printf '[%s]\\n' "$X" "$Y" "$PWD" '100%' "$HOME" '$HOME' "\${X%%\\\\*}"; printf '%s\\n' 'tab\there' "a\\"b" 'c\\d'; } > ${join(m.root, 'values')}`,
      ].join('\n'),
      env: { X: NASTY, Y: '', TARGET_DIR: wd },
      workingDirectory: wd,
    }),
  });
  const r = await m.compile(dir);
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(async () => {
  await m?.stop();
});

describe('on_failure', () => {
  it('log_and_continue: the failure is logged as a warning, the unit does not fail, nothing pages', async () => {
    const s = await runUnit(m, 'e2e.warn-only.service');
    expect(s).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect(m.log('e2e.warn-only.service')).toMatch(/^<4>acore: the command failed with exit status 3; on_failure is log_and_continue/m);
    await new Promise((r) => setTimeout(r, 500));
    expect(read('paged')).not.toContain('e2e.warn-only.service');
  });

  it('fail (default): the unit fails with the command’s status and its OnFailure= handler runs', async () => {
    const s = await runUnit(m, 'e2e.must-page.service');
    expect(s).toMatchObject({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '3' });
    expect(m.log('e2e.must-page.service')).toMatch(/^<3>acore: the command failed with exit status 3$/m);
    await waitFor('the OnFailure= handler', () => (read('paged').includes('e2e.must-page.service') ? true : undefined), 5_000);
    await m.systemctl('reset-failed', 'e2e.must-page.service');
  });
});

describe('timeout', () => {
  it('a run past its timeout is stopped and fails under on_failure: fail', async () => {
    const t0 = Date.now();
    const s = await runUnit(m, 'e2e.timeout-fail.service');
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(s).toMatchObject({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '124' });
    expect(read('tf')).toBe('started\n');
    expect(m.log('e2e.timeout-fail.service')).toMatch(/timed out after 2 seconds/);
    await m.systemctl('reset-failed', 'e2e.timeout-fail.service');
  });

  it('a run past its timeout is stopped and only logged under log_and_continue', async () => {
    const s = await runUnit(m, 'e2e.timeout-warn.service');
    expect(s).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect(read('tw')).toBe('');
    expect(m.log('e2e.timeout-warn.service')).toMatch(/^<4>acore: the command timed out after 1 seconds/m);
  });
});

describe('commands and values byte for byte', () => {
  it('the shell receives exactly the command as written', async () => {
    const s = await runUnit(m, 'e2e.argv.service');
    expect(s).toMatchObject({ Result: 'success' });
    const argv = readFileSync(file('argv'), 'utf8').split('\0');
    const expected = `cat /proc/$$/cmdline > ${file('argv')}; : '${NASTY.replace(/'/g, "'\\''")}'`;
    expect(argv.slice(0, 3)).toEqual(['/bin/sh', '-c', expected]);
  });

  it('environment values, working directory and shell expansions come out as sh would give them', async () => {
    const s = await runUnit(m, 'e2e.values.service');
    expect(s).toMatchObject({ Result: 'success' });
    const wd = join(m.root, 'dir with spaces, % and $dollar');
    const home = process.env.HOME ?? '/root';
    const xPrefix = NASTY.slice(0, NASTY.indexOf('\\'));
    expect(read('values')).toBe(
      [`[${NASTY}]`, '[]', `[${wd}]`, '[100%]', `[${home}]`, '[$HOME]', `[${xPrefix}]`, 'tab\there', 'a"b', 'c\\d', ''].join('\n'),
    );
  });
});
