/**
 * `acore install` against a real user manager, run as a user would (the built CLI in a child
 * process): install, change a schedule, remove a definition, reinstall; a dry run; and an
 * unreachable manager. Hand-written units in the same directory are never touched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextFireTimes } from '../oracle/cron-reference.ts';
import { ROOT, listFiles } from '../helpers.ts';
import { definitionYaml } from './definitions.ts';
import { parseTimestamp, run, startUserManager, type UserManager, writeDefinitions } from './harness.ts';

let m: UserManager;
let defs: string;
beforeAll(async () => {
  m = await startUserManager('install');
  defs = writeDefinitions(m, 'install', {
    'a.yaml': definitionYaml({ id: 'inst.alpha', cron: '0 */5 * * * *', timezone: 'UTC', cmd: 'true' }),
    'b.yaml': definitionYaml({ id: 'inst.beta', cron: '0 3 * * *', timezone: 'UTC', cmd: 'true' }),
  });
  // An operator's own unit living in the same directory.
  writeFileSync(join(m.unitDir, 'mine.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
});
afterAll(async () => {
  await m?.stop();
});

const install = (...args: string[]) =>
  run('node', [join(ROOT, 'bin', 'acore.js'), 'install', '--definitions', defs, ...args], { ...m.env, HOME: process.env.HOME ?? '/root' });

async function state(timer: string) {
  const enabled = (await m.systemctl('is-enabled', timer)).stdout.trim();
  const s = await m.show(timer, 'ActiveState', 'NextElapseUSecRealtime', 'LoadState');
  return { enabled, active: s.ActiveState, load: s.LoadState, next: parseTimestamp(s.NextElapseUSecRealtime) };
}

describe('acore install', () => {
  it('installs: writes the units, reloads, enables and starts the timers', async () => {
    const r = await install();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ran: systemctl --user daemon-reload/);
    expect(r.stdout).toMatch(/ran: systemctl --user enable --now inst\.alpha\.timer/);
    expect(listFiles(m.unitDir).filter((f) => !f.includes('.d/'))).toEqual(
      expect.arrayContaining(['inst.alpha.timer', 'inst.alpha.service', 'acore-trigger@.service', 'inst.beta.timer', 'mine.service']),
    );
    // Only timers are enabled and started; the shared trigger template needs neither.
    expect(r.stdout).not.toMatch(/ran: .*acore-trigger/);
    expect(listFiles(m.unitDir).filter((f) => f.includes('trigger'))).toEqual(['acore-trigger@.service']);
    for (const t of ['inst.alpha.timer', 'inst.beta.timer']) expect(await state(t)).toMatchObject({ enabled: 'enabled', active: 'active' });
    const alpha = await state('inst.alpha.timer');
    const expected = nextFireTimes('0 */5 * * * *', Date.now() - 2_000, 3, 'UTC');
    expect(expected).toContain(alpha.next);
  });

  it('a changed schedule is applied at once (the timer is restarted)', async () => {
    writeFileSync(join(defs, 'a.yaml'), definitionYaml({ id: 'inst.alpha', cron: '30 7 * * *', timezone: 'UTC', cmd: 'true' }));
    const before = Date.now();
    const r = await install();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/updated .*inst\.alpha\.timer/);
    expect(r.stdout).toMatch(/ran: systemctl --user restart inst\.alpha\.timer/);
    const alpha = await state('inst.alpha.timer');
    expect(alpha.next).toBe(nextFireTimes('30 7 * * *', before, 1, 'UTC')[0]);
    expect(alpha).toMatchObject({ enabled: 'enabled', active: 'active' });
  });

  it('a removed definition: its timer is stopped and disabled and its units removed; others stay', async () => {
    rmSync(join(defs, 'b.yaml'));
    const mine = readFileSync(join(m.unitDir, 'mine.service'), 'utf8');
    const r = await install();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ran: systemctl --user disable --now inst\.beta\.timer/);
    expect(r.stdout).toMatch(/removed .*inst\.beta\.timer/);
    for (const f of ['inst.beta.timer', 'inst.beta.service']) expect(existsSync(join(m.unitDir, f))).toBe(false);
    // The shared trigger template stays for inst.alpha.
    expect(existsSync(join(m.unitDir, 'acore-trigger@.service'))).toBe(true);
    expect((await m.show('inst.alpha.timer', 'Triggers')).Triggers).toBe('acore-trigger@inst.alpha.service');
    expect(existsSync(join(m.unitDir, 'timers.target.wants', 'inst.beta.timer'))).toBe(false);
    const beta = await state('inst.beta.timer');
    expect(beta.active).toBe('inactive');
    expect(beta.load).toBe('not-found');
    expect(await state('inst.alpha.timer')).toMatchObject({ enabled: 'enabled', active: 'active' });
    expect(readFileSync(join(m.unitDir, 'mine.service'), 'utf8')).toBe(mine);
  });

  it('reinstalling without changes rewrites nothing and keeps the timers running', async () => {
    const r = await install();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 created, 0 updated, 0 removed/);
    expect(r.stdout).not.toMatch(/ran: .* restart /);
    expect(await state('inst.alpha.timer')).toMatchObject({ enabled: 'enabled', active: 'active' });
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    writeFileSync(join(defs, 'c.yaml'), definitionYaml({ id: 'inst.gamma', cron: '@hourly', cmd: 'true' }));
    const files = listFiles(m.unitDir);
    const r = await install('--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would create .*inst\.gamma\.timer/);
    expect(r.stdout).toMatch(/would run: systemctl --user enable --now inst\.gamma\.timer/);
    expect(listFiles(m.unitDir)).toEqual(files);
    expect((await state('inst.gamma.timer')).load).toBe('not-found');
    rmSync(join(defs, 'c.yaml'));
  });

  it('an unreachable manager: exit 1 and nothing is written', async () => {
    const elsewhere = join(m.root, 'no-manager');
    mkdirSync(join(elsewhere, 'run'), { recursive: true, mode: 0o700 });
    writeFileSync(join(defs, 'c.yaml'), definitionYaml({ id: 'inst.gamma', cron: '@hourly', cmd: 'true' }));
    const r = await run('node', [join(ROOT, 'bin', 'acore.js'), 'install', '--definitions', defs], {
      ...m.env,
      XDG_RUNTIME_DIR: join(elsewhere, 'run'),
      HOME: process.env.HOME ?? '/root',
    });
    rmSync(join(defs, 'c.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the systemd user manager/);
    expect(existsSync(join(m.unitDir, 'inst.gamma.timer'))).toBe(false);
  });

  it('the design card’s flow works too: compile --out <unit dir> && daemon-reload', async () => {
    const r = await run('node', [join(ROOT, 'bin', 'acore.js'), 'compile', '--target', 'systemd', '--definitions', defs, '--out', m.unitDir]);
    expect(r.code).toBe(0);
    expect((await m.systemctl('daemon-reload')).code).toBe(0);
    expect((await m.systemctl('start', 'inst.alpha.timer')).code).toBe(0);
    expect(await state('inst.alpha.timer')).toMatchObject({ active: 'active' });
  });

  it('with no definition left for systemd, the last timer is stopped and the shared template removed too', async () => {
    writeFileSync(join(defs, 'a.yaml'), `${definitionYaml({ id: 'inst.alpha', cron: '30 7 * * *', timezone: 'UTC', cmd: 'true' })}enabled: false\n`);
    const mine = readFileSync(join(m.unitDir, 'mine.service'), 'utf8');
    const r = await install();
    expect(r.stderr).toMatch(/info\[definition-disabled\]: 'inst\.alpha' is disabled/);
    expect(r.stderr).not.toMatch(/error|warning/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ran: systemctl --user disable --now inst\.alpha\.timer/);
    expect(r.stdout).toMatch(/removed .*acore-trigger@\.service/);
    for (const f of ['inst.alpha.timer', 'inst.alpha.service', 'acore-trigger@.service']) expect(existsSync(join(m.unitDir, f))).toBe(false);
    expect((await state('inst.alpha.timer')).load).toBe('not-found');
    expect((await m.show('acore-trigger@inst.alpha.service', 'LoadState')).LoadState).toBe('not-found');
    expect(readFileSync(join(m.unitDir, 'mine.service'), 'utf8')).toBe(mine);
  });

  it('remove everything: delete every definition and install (the README recipe)', async () => {
    writeFileSync(join(defs, 'a.yaml'), definitionYaml({ id: 'inst.alpha', cron: '30 7 * * *', timezone: 'UTC', cmd: 'true' }));
    expect((await install()).code).toBe(0);
    expect(await state('inst.alpha.timer')).toMatchObject({ active: 'active' });
    const mine = readFileSync(join(m.unitDir, 'mine.service'), 'utf8');
    for (const f of readdirSync(defs)) rmSync(join(defs, f));
    const r = await install();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning\[no-definitions\]/);
    expect(r.stdout).toMatch(/ran: systemctl --user disable --now inst\.alpha\.timer/);
    for (const f of ['inst.alpha.timer', 'inst.alpha.service', 'acore-trigger@.service']) expect(existsSync(join(m.unitDir, f))).toBe(false);
    expect((await state('inst.alpha.timer')).load).toBe('not-found');
    expect(readFileSync(join(m.unitDir, 'mine.service'), 'utf8')).toBe(mine);
  });
});
