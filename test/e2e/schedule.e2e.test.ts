/**
 * Under a real systemd user manager: the timer elapses when the expression says, a fire time
 * that falls during a run is dropped (misfire_policy: skip), and catch_up makes up exactly
 * one missed run. A control unit without acore's trigger shows the systemd 252 behaviour the
 * trigger exists for (a back-to-back re-run), so this test could tell them apart. The trigger
 * is an instance of the one shared template, acore-trigger@<name>.service, which starts exactly
 * the job named by its instance, escapes in a unit_name included.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextFireTimes } from '../oracle/cron-reference.ts';
import { definitionYaml } from './definitions.ts';
import { parseTimestamp, readStamps, sleep, startUserManager, type UserManager, waitFor, writeDefinitions } from './harness.ts';

let m: UserManager;
beforeAll(async () => {
  m = await startUserManager('schedule');
});
afterAll(async () => {
  await m?.stop();
});

/** Epoch seconds as the job writes them. */
const STAMP = '$(date +%s.%N)';

describe('schedule', () => {
  it('each timer’s next elapse is the expression’s next fire time', async () => {
    const cases: [string, string, string | undefined][] = [
      ['t.quarter', '*/15 * * * *', 'UTC'],
      ['t.nightly', '0 3 * * *', 'UTC'],
      ['t.or-rule', '0 12 1,15 * fri', 'UTC'],
      ['t.last-day', '0 0 L * *', 'UTC'],
      ['t.berlin', '30 2 * * *', 'Europe/Berlin'],
      ['t.first-monday', '0 9 * * 1#1', 'America/New_York'],
      ['t.weekly', '@weekly', undefined],
      ['t.seconds', '15,45 * * * * *', 'UTC'],
    ];
    const dir = writeDefinitions(
      m,
      'schedule',
      Object.fromEntries(cases.map(([id, cron, timezone]) => [`${id}.yaml`, definitionYaml({ id, cron, ...(timezone ? { timezone } : {}), cmd: 'true' })])),
    );
    const compiled = await m.compile(dir);
    expect(compiled.stderr).toBe('');
    const before = Date.now();
    const started = await m.systemctl('start', ...cases.map(([id]) => `${id}.timer`));
    expect(started.stderr).toBe('');
    const after = Date.now();
    for (const [id, cron, timezone] of cases) {
      const shown = await m.show(`${id}.timer`, 'NextElapseUSecRealtime', 'ActiveState');
      expect(shown.ActiveState, id).toBe('active');
      const elapse = parseTimestamp(shown.NextElapseUSecRealtime);
      expect(elapse, `${id}: NextElapseUSecRealtime=${shown.NextElapseUSecRealtime}`).toBeDefined();
      // The manager's host zone is UTC, the default for definitions without a zone.
      const candidates = [before - 1000, after].map((t) => nextFireTimes(cron, t, 1, timezone ?? 'UTC')[0]);
      expect(candidates, `${id} (${cron}): systemd says ${new Date(elapse!).toISOString()}`).toContain(elapse);
    }
    await m.systemctl('stop', ...cases.map(([id]) => `${id}.timer`));
  });
});

describe('misfire_policy: skip', () => {
  it('drops fire times that fall during a run; no back-to-back re-run (and a control shows the difference)', async () => {
    const runs = join(m.root, 'skip-runs');
    const control = join(m.root, 'control-runs');
    const job = (file: string) => `echo "start ${STAMP}" >> ${file}; sleep 5.5; echo "end ${STAMP}" >> ${file}`;
    const dir = writeDefinitions(m, 'skip', {
      'skip.yaml': definitionYaml({ id: 'e2e.skip', cron: '*/2 * * * * *', misfire: 'skip', cmd: job(runs) }),
      'control.yaml': definitionYaml({ id: 'e2e.control', cron: '*/2 * * * * *', cmd: job(control) }),
    });
    expect((await m.compile(dir)).code).toBe(0);
    // Control: the same timer pointed straight at the job, as a hand-written pair would be.
    writeFileSync(
      join(m.unitDir, 'e2e.control-direct.timer'),
      '[Timer]\nOnCalendar=*-*-* *:*:00/2\nAccuracySec=1s\nUnit=e2e.control.service\n',
    );
    await m.reload();
    // The skip timer goes through the shared template's instance, the control straight to the job.
    expect((await m.show('e2e.skip.timer', 'Triggers')).Triggers).toBe('acore-trigger@e2e.skip.service');
    expect((await m.show('e2e.control-direct.timer', 'Triggers')).Triggers).toBe('e2e.control.service');
    const startedAt = Date.now();
    await m.systemctl('start', 'e2e.skip.timer', 'e2e.control-direct.timer');
    await sleep(14_500);
    // The instance ran (the timer started it, it started the job); asked before the timer stops,
    // after which the manager may unload both.
    const instance = await m.show('acore-trigger@e2e.skip.service', 'InactiveExitTimestamp', 'Result');
    await m.systemctl('stop', 'e2e.skip.timer', 'e2e.control-direct.timer');
    expect(parseTimestamp(instance.InactiveExitTimestamp), JSON.stringify(instance)).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000);
    expect(instance.Result).toBe('success');
    await waitFor('runs to end', async () => ((await m.show('e2e.skip.service', 'ActiveState')).ActiveState === 'inactive' ? true : undefined), 10_000);
    await waitFor('control runs to end', async () => ((await m.show('e2e.control.service', 'ActiveState')).ActiveState === 'inactive' ? true : undefined), 10_000);

    const pairs = (file: string) => {
      const s = readStamps(file);
      const out: { start: number; end: number }[] = [];
      for (let i = 0; i + 1 < s.length; i += 2) {
        expect(s[i]!.label).toBe('start');
        expect(s[i + 1]!.label).toBe('end');
        out.push({ start: s[i]!.at, end: s[i + 1]!.at });
      }
      return out;
    };
    const skip = pairs(runs);
    expect(skip.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < skip.length; i++) {
      const prevEnd = skip[i - 1]!.end;
      const nextFire = 2 * Math.floor(prevEnd / 2) + 2; // first even second after the previous run
      expect(skip[i]!.start, `run ${i} started before the first fire time after run ${i - 1} ended`).toBeGreaterThanOrEqual(nextFire - 0.05);
      expect(skip[i]!.start - nextFire).toBeLessThan(1.5); // and at that fire time (AccuracySec=1s)
    }

    const ctl = pairs(control);
    expect(ctl.length).toBeGreaterThanOrEqual(2);
    const backToBack = ctl.slice(1).some((r, i) => r.start - ctl[i]!.end < 0.5);
    expect(backToBack, 'systemd 252 re-runs a plain oneshot right after a long run; the control should show it').toBe(true);
  });
});

describe('misfire_policy: catch_up', () => {
  it('makes up one missed run when the timer comes back; skip makes up none', async () => {
    const caught = join(m.root, 'catch-up-runs');
    const skipped = join(m.root, 'no-catch-up-runs');
    const dir = writeDefinitions(m, 'catchup', {
      'a.yaml': definitionYaml({ id: 'e2e.catch-up', cron: '*/4 * * * * *', misfire: 'catch_up', cmd: `echo "run ${STAMP}" >> ${caught}` }),
      'b.yaml': definitionYaml({ id: 'e2e.no-catch-up', cron: '*/4 * * * * *', misfire: 'skip', cmd: `echo "run ${STAMP}" >> ${skipped}` }),
    });
    expect((await m.compile(dir)).code).toBe(0);
    await m.systemctl('start', 'e2e.catch-up.timer', 'e2e.no-catch-up.timer');
    await waitFor('a first run of both', () => (readStamps(caught).length > 0 && readStamps(skipped).length > 0 ? true : undefined), 10_000);
    await m.systemctl('stop', 'e2e.catch-up.timer', 'e2e.no-catch-up.timer');
    // Stay stopped across two fire times, then come back 1 s after a fire time, so the next
    // scheduled one is 3 s away: any run in the first 2.5 s is a catch-up run.
    await sleep(8_200);
    const now = Date.now() / 1000;
    const restartAt = 4 * Math.ceil(now / 4) + 1;
    await sleep((restartAt - now) * 1000);
    const restarted = Date.now() / 1000;
    await m.systemctl('start', 'e2e.catch-up.timer', 'e2e.no-catch-up.timer');
    await sleep(2_500);
    const window = (f: string) => readStamps(f).filter((r) => r.at >= restarted && r.at < restarted + 2.5);
    expect(window(caught).length, 'catch_up: exactly one run for the missed fire times').toBe(1);
    expect(window(skipped).length, 'skip: nothing made up').toBe(0);
    // Then both continue on schedule.
    await sleep(2_500);
    await m.systemctl('stop', 'e2e.catch-up.timer', 'e2e.no-catch-up.timer');
    const later = (f: string) => readStamps(f).filter((r) => r.at >= restarted + 2.5);
    expect(later(caught).length).toBe(1);
    expect(later(skipped).length).toBe(1);
  });
});

describe('the shared trigger template', () => {
  it('an instance starts exactly the job it names, also a unit_name with a \\x2d escape or a colon', async () => {
    const ran = join(m.root, 'escaped-runs');
    const decoy = join(m.root, 'decoy-runs');
    const escaped = 'e2e\\x2descaped';
    const dir = writeDefinitions(m, 'escaped', {
      'a.yaml': definitionYaml({ id: 'e2e.escaped', cron: '* * * * * *', cmd: `echo escaped >> ${ran}`, systemd: { unit_name: escaped } }),
      'b.yaml': definitionYaml({ id: 'e2e.colon', cron: '* * * * * *', cmd: `echo colon >> ${ran}`, systemd: { unit_name: 'e2e:colon' } }),
    });
    expect((await m.compile(dir)).code).toBe(0);
    // The unit an unescaped name would start (%I, or the name written into ExecStart=, which
    // systemd unescapes): it must never run.
    writeFileSync(join(m.unitDir, 'e2e-escaped.service'), `[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo decoy >> ${decoy}'\n`);
    await m.reload();
    const argv = (await m.show(`acore-trigger@${escaped}.service`, 'ExecStart')).ExecStart ?? '';
    expect(argv).toContain(`argv[]=systemctl --user start --no-block ${escaped}.service ;`);
    await m.systemctl('start', `${escaped}.timer`, 'e2e:colon.timer');
    const lines = () => (existsSync(ran) ? readFileSync(ran, 'utf8').split('\n') : []);
    await waitFor('both jobs to run', () => (lines().includes('escaped') && lines().includes('colon') ? true : undefined), 10_000);
    await m.systemctl('stop', `${escaped}.timer`, 'e2e:colon.timer');
    expect(existsSync(decoy)).toBe(false);
    expect((await m.show(`${escaped}.service`, 'Result')).Result).toBe('success');
    // Its default lock keeps the name as written: a job with unit_name e2e-escaped has another.
    const job = await m.show(`${escaped}.service`, 'ExecStart', 'ExecCondition');
    expect(job.ExecStart).toContain(`/acore-${escaped}.lock `);
    expect(job.ExecCondition).toContain(`/acore-${escaped}.lock `);
  });
});
