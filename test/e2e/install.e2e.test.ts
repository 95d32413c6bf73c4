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
  run('node', [join(ROOT, 'bin', 'acore.js'), 'install', '--definitions', defs, ...args], { ...m.env, HOME: process.env.HOME ?? '/root', XDG_CACHE_HOME: join(m.root, 'cache') });

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
    // One command per step, for all timers; the manager reloads once.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('ran: '))).toEqual([
      'ran: systemctl --user enable --no-reload inst.alpha.timer inst.beta.timer',
      'ran: systemctl --user daemon-reload',
      'ran: systemctl --user start inst.alpha.timer inst.beta.timer',
    ]);
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
    expect(r.stdout).toMatch(/ran: systemctl --user stop inst\.beta\.timer\n/);
    expect(r.stdout).toMatch(/ran: systemctl --user disable --no-reload inst\.beta\.timer\n/);
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
    // The last install reloaded the manager with these very files: no reload.
    expect(r.stdout).toMatch(/^skipped: systemctl --user daemon-reload \(no unit file changed since the last install reloaded the manager\)$/m);
    expect(r.stdout).not.toMatch(/ran: systemctl --user daemon-reload/);
    // The timer is enabled and running already: nothing is asked of the manager.
    expect(r.stdout).toMatch(/^skipped: systemctl --user enable of 1 timer already enabled$/m);
    expect(r.stdout).toMatch(/^skipped: systemctl --user start of 1 unchanged timer already active$/m);
    expect(r.stdout).not.toMatch(/^ran: /m);
    expect(await state('inst.alpha.timer')).toMatchObject({ enabled: 'enabled', active: 'active' });
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    writeFileSync(join(defs, 'c.yaml'), definitionYaml({ id: 'inst.gamma', cron: '@hourly', cmd: 'true' }));
    const files = listFiles(m.unitDir);
    const r = await install('--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would create .*inst\.gamma\.timer/);
    expect(r.stdout).toMatch(/would run: systemctl --user enable --no-reload inst\.gamma\.timer\n/);
    expect(r.stdout).toMatch(/^would be skipped: systemctl --user enable of 1 timer already enabled$/m);
    expect(r.stdout).toMatch(/would run: systemctl --user start inst\.gamma\.timer\n/);
    expect(r.stdout).toMatch(/^would be skipped: systemctl --user start of 1 unchanged timer already active$/m);
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
    const r = await run('node', [join(ROOT, 'bin', 'acore.js'), 'compile', '--target', 'systemd', '--definitions', defs, '--out', m.unitDir], { XDG_CACHE_HOME: join(m.root, 'cache') });
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
    expect(r.stdout).toMatch(/ran: systemctl --user stop inst\.alpha\.timer\n/);
    expect(r.stdout).toMatch(/ran: systemctl --user disable --no-reload inst\.alpha\.timer\n/);
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
    expect(r.stdout).toMatch(/ran: systemctl --user stop inst\.alpha\.timer\n/);
    expect(r.stdout).toMatch(/ran: systemctl --user disable --no-reload inst\.alpha\.timer\n/);
    for (const f of ['inst.alpha.timer', 'inst.alpha.service', 'acore-trigger@.service']) expect(existsSync(join(m.unitDir, f))).toBe(false);
    expect((await state('inst.alpha.timer')).load).toBe('not-found');
    expect(readFileSync(join(m.unitDir, 'mine.service'), 'utf8')).toBe(mine);
  });
});

describe('acore install, a fleet: one systemctl command per step, not one per timer', () => {
  // (One command per timer made the manager reload once per timer: 100 timers took 28 s here.)
  const N = 40;
  const name = (i: number) => `fleet.j${String(i).padStart(2, '0')}`;
  const cron = (i: number, hour = 3) => `${i} ${hour} * * *`;
  let fleet: string;
  const installFleet = (env: Record<string, string> = {}) =>
    run('node', [join(ROOT, 'bin', 'acore.js'), 'install', '--definitions', fleet], { ...m.env, HOME: process.env.HOME ?? '/root', XDG_CACHE_HOME: join(m.root, 'cache'), ...env }, 120_000);
  const ran = (stdout: string) => stdout.split('\n').filter((l) => /^(ran|FAILED): /.test(l));
  const lines = async (verb: string, units: string[]) => (await m.systemctl(verb, ...units)).stdout.trim().split('\n');
  const timers = (ids: number[]) => ids.map((i) => `${name(i)}.timer`);
  const all = Array.from({ length: N }, (_, i) => i);

  beforeAll(() => {
    fleet = writeDefinitions(m, 'fleet', Object.fromEntries(all.map((i) => [`${name(i)}.yaml`, definitionYaml({ id: name(i), cron: cron(i), timezone: 'UTC', cmd: 'true' })])));
  });

  it('installs 40 timers with three commands; all enabled and running', async () => {
    const r = await installFleet();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(ran(r.stdout)).toEqual([
      'ran: systemctl --user enable --no-reload fleet.j00.timer fleet.j01.timer fleet.j02.timer … (40 units)',
      'ran: systemctl --user daemon-reload',
      'ran: systemctl --user start fleet.j00.timer fleet.j01.timer fleet.j02.timer … (40 units)',
    ]);
    expect(r.stdout).toMatch(/installed: 40 timers started, 0 restarted, 0 stopped and removed, 0 unchanged/);
    expect(await lines('is-enabled', timers(all))).toEqual(all.map(() => 'enabled'));
    expect(await lines('is-active', timers(all))).toEqual(all.map(() => 'active'));
  });

  it('two schedules changed and three definitions removed: four commands, each for its timers', async () => {
    for (const i of [1, 2]) writeFileSync(join(fleet, `${name(i)}.yaml`), definitionYaml({ id: name(i), cron: cron(i, 7), timezone: 'UTC', cmd: 'true' }));
    for (const i of [37, 38, 39]) rmSync(join(fleet, `${name(i)}.yaml`));
    const before = Date.now();
    const timings = join(m.root, 'fleet-timings.json');
    const r = await installFleet({ ACORE_TIMINGS: timings });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The 35 unchanged definitions were reused, not compiled again, and the unit directory holds
    // exactly what a full compile of these definitions makes.
    expect(JSON.parse(readFileSync(timings, 'utf8')).counts).toEqual({ reused: 35 });
    const full = join(m.root, 'fleet-full');
    rmSync(full, { recursive: true, force: true });
    const c = await run('node', [join(ROOT, 'bin', 'acore.js'), 'compile', '--target', 'systemd', '--definitions', fleet, '--out', full], { XDG_CACHE_HOME: join(m.root, 'cache-full') });
    expect(c.code, c.stderr).toBe(0);
    const generated = Object.keys(JSON.parse(readFileSync(join(m.unitDir, '.acore-manifest.json'), 'utf8')).files as Record<string, string>);
    expect(generated.sort()).toEqual(listFiles(full).filter((f) => f !== '.acore-manifest.json'));
    for (const f of [...generated, '.acore-manifest.json']) expect(readFileSync(join(m.unitDir, f), 'utf8'), f).toBe(readFileSync(join(full, f), 'utf8'));
    // Every timer left is enabled already (changed ones too: same file, same link): no `enable`.
    expect(r.stdout).toMatch(/^skipped: systemctl --user enable of 37 timers already enabled$/m);
    expect(ran(r.stdout)).toEqual([
      'ran: systemctl --user stop fleet.j37.timer fleet.j38.timer fleet.j39.timer',
      'ran: systemctl --user disable --no-reload fleet.j37.timer fleet.j38.timer fleet.j39.timer',
      'ran: systemctl --user daemon-reload',
      'ran: systemctl --user restart fleet.j01.timer fleet.j02.timer',
    ]);
    expect(r.stdout).toMatch(/^skipped: systemctl --user start of 35 unchanged timers already active$/m);
    expect(r.stdout).toMatch(/installed: 0 timers started, 2 restarted, 3 stopped and removed, 35 unchanged/);
    const kept = all.slice(0, 37);
    expect(await lines('is-active', timers(kept))).toEqual(kept.map(() => 'active'));
    for (const t of timers([37, 38, 39])) expect(await state(t)).toMatchObject({ active: 'inactive', load: 'not-found' });
    for (const i of [1, 2]) expect((await state(`${name(i)}.timer`)).next).toBe(nextFireTimes(cron(i, 7), before, 1, 'UTC')[0]);
    expect((await state(`${name(3)}.timer`)).next).toBe(nextFireTimes(cron(3), before, 1, 'UTC')[0]);
  });

  it('timers someone disabled or stopped are enabled or started again, and only they', async () => {
    const off = timers([7, 8]);
    expect((await m.systemctl('disable', ...off)).code).toBe(0);
    expect(await lines('is-enabled', off)).toEqual(['disabled', 'disabled']);
    // …and one someone stopped is started again, alone.
    expect((await m.systemctl('stop', `${name(9)}.timer`)).code).toBe(0);
    const r = await installFleet();
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^skipped: systemctl --user enable of 35 timers already enabled$/m);
    expect(r.stdout).toMatch(/^skipped: systemctl --user start of 36 unchanged timers already active$/m);
    expect(ran(r.stdout)).toEqual(['ran: systemctl --user enable --no-reload fleet.j07.timer fleet.j08.timer', 'ran: systemctl --user start fleet.j09.timer']);
    expect(await lines('is-enabled', timers(all.slice(0, 37)))).toEqual(all.slice(0, 37).map(() => 'enabled'));
    expect(await lines('is-active', timers(all.slice(0, 37)))).toEqual(all.slice(0, 37).map(() => 'active'));
  });

  it('after a compile into the unit directory (with or without --force) the next install reloads, though no file changes', async () => {
    for (const [hour, extra] of [
      [10, []],
      [11, ['--force']],
    ] as const) {
      // Unchanged since the last install, which reloaded: no reload.
      expect((await installFleet()).stdout).toMatch(/^skipped: systemctl --user daemon-reload/m);
      // A compile writes the new schedule into the unit directory (no reload)…
      writeFileSync(join(fleet, `${name(4)}.yaml`), definitionYaml({ id: name(4), cron: cron(4, hour), timezone: 'UTC', cmd: 'true' }));
      const c = await run('node', [join(ROOT, 'bin', 'acore.js'), 'compile', '--target', 'systemd', '--definitions', fleet, '--out', m.unitDir, ...extra], {
        XDG_CACHE_HOME: join(m.root, 'cache'),
      });
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/1 updated|updated .*fleet\.j04\.timer/);
      // …so install, with nothing left to write, must still reload for the manager to see it.
      const before = Date.now();
      const r = await installFleet();
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/0 created, 0 updated, 0 removed/);
      expect(r.stdout).toMatch(/^ran: systemctl --user daemon-reload$/m);
      expect((await state(`${name(4)}.timer`)).next).toBe(nextFireTimes(cron(4, hour), before, 1, 'UTC')[0]);
    }
  });

  it('a reload that fails: no timer is started or restarted (the manager still has the old units); exit 1', async () => {
    // A systemctl in front of the real one that fails `daemon-reload` only.
    const shim = join(m.root, 'shim');
    mkdirSync(shim, { recursive: true });
    const real = (await run('sh', ['-c', 'command -v systemctl'])).stdout.trim();
    writeFileSync(join(shim, 'systemctl'), `#!/bin/sh\nfor a in "$@"; do [ "$a" = daemon-reload ] && { echo 'simulated: reload refused' >&2; exit 1; }; done\nexec ${real} "$@"\n`, { mode: 0o755 });
    writeFileSync(join(fleet, `${name(3)}.yaml`), definitionYaml({ id: name(3), cron: cron(3, 9), timezone: 'UTC', cmd: 'true' }));
    const before = Date.now();
    const r = await installFleet({ PATH: `${shim}:${process.env.PATH}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: systemctl --user daemon-reload: simulated: reload refused$/m);
    expect(r.stderr).toMatch(/the user manager did not reload, so no timer was started or restarted/);
    expect(ran(r.stdout).filter((l) => / (start|restart) /.test(l))).toEqual([]);
    expect(r.stdout).toMatch(/updated .*fleet\.j03\.timer/);
    // The manager still runs the old schedule…
    expect((await state(`${name(3)}.timer`)).next).toBe(nextFireTimes(cron(3), before, 1, 'UTC')[0]);
    // …until an install that can reload: the file is unchanged by then, but the timer is restarted.
    const again = await installFleet();
    expect(again.code, again.stdout).toBe(0);
    expect((await state(`${name(3)}.timer`)).next).toBe(nextFireTimes(cron(3, 9), before, 1, 'UTC')[0]);
  });

  it('a timer the manager refuses to start is reported for itself alone; the others start; exit 1', async () => {
    // An operator's drop-in outside acore's files (runtime unit path) makes one timer refuse a manual start.
    const refused = `${name(5)}.timer`;
    const dropIn = join(m.runtimeDir, 'systemd', 'user', `${refused}.d`);
    mkdirSync(dropIn, { recursive: true });
    writeFileSync(join(dropIn, 'refuse.conf'), '[Unit]\nRefuseManualStart=yes\n');
    expect((await m.systemctl('daemon-reload')).code).toBe(0);
    // Every timer stopped, so that the start is one command for all of them.
    await m.systemctl('stop', ...timers(all.slice(0, 37)));
    const r = await installFleet();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/some systemctl steps failed/);
    const failures = ran(r.stdout).filter((l) => l.startsWith('FAILED'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(new RegExp(`^FAILED: systemctl --user start ${refused.replace(/\./g, '\\.')}: .*refuse`));
    // Found by halving the command: a few commands, not one per timer; its neighbour was started.
    const starts = ran(r.stdout).filter((l) => l.startsWith('ran: systemctl --user start '));
    expect(starts.length).toBeGreaterThan(1);
    expect(starts.length).toBeLessThan(10);
    expect(starts.some((l) => l.endsWith(` ${name(6)}.timer`) || l.includes(` ${name(6)}.timer `))).toBe(true);
    expect(starts.some((l) => l.includes(refused))).toBe(false);
    // Each command that was halved says why it failed.
    const halved = r.stdout.split('\n').filter((l) => l.startsWith('retrying in halves: systemctl --user start '));
    expect(halved.length).toBeGreaterThan(0);
    for (const l of halved) expect(l).toMatch(/: Failed to start fleet\.j05\.timer: Operation refused/);
    const others = all.slice(0, 37).filter((i) => i !== 5);
    expect(await lines('is-active', timers(others))).toEqual(others.map(() => 'active'));
    expect((await state(refused)).active).toBe('inactive');
    rmSync(dropIn, { recursive: true });
    expect((await m.systemctl('daemon-reload')).code).toBe(0);
    const again = await installFleet();
    expect(again.code, again.stdout).toBe(0);
    expect((await state(refused)).active).toBe('active');
  });
});
