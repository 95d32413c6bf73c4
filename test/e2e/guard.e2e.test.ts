/**
 * Under a real systemd user manager: the health check and rule (ExecCondition=) skip a run
 * without failing the unit when the hub is down, degraded, slow or not JSON; a missing tool
 * fails loudly; the lock makes a run skip while a manual run or another holder has it; and
 * when the hub is ok the command runs in the right directory with the right environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionYaml } from './definitions.ts';
import { type FakeHub, readStamps, sleep, startFakeHub, startUserManager, type UserManager, waitFor, writeDefinitions } from './harness.ts';

let m: UserManager;
let hub: FakeHub;
let down: string; // a URL nothing listens on
beforeAll(async () => {
  m = await startUserManager('guard');
  hub = await startFakeHub();
  const closed = await startFakeHub();
  down = closed.url;
  await closed.close();

  const wd = join(m.root, 'work dir');
  mkdirSync(wd, { recursive: true });
  // A PATH with the shell and coreutils but no jq: the guard must fail loudly, not skip.
  const bin = join(m.root, 'bin-without-jq');
  mkdirSync(bin);
  for (const tool of ['sh', 'flock', 'curl', 'cat', 'echo', 'env', 'timeout', 'pwd', 'printf']) {
    const path = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (path) symlinkSync(path, join(bin, tool));
  }
  const probe = (url: string) => [{ url, bind: 'hub_health', timeout_seconds: 1 }];
  const marker = (name: string) => `printf '%s\\n' "ran $(pwd) $APP_MODE" >> ${join(m.root, `${name}.ran`)}`;
  const dir = writeDefinitions(m, 'guard', {
    'guarded.yaml': definitionYaml({
      id: 'e2e.guarded',
      probes: probe(hub.url),
      when: ["hub_health.status == 'ok'"],
      cmd: marker('guarded'),
      workingDirectory: wd,
      env: { APP_MODE: 'sweep mode' },
    }),
    'down.yaml': definitionYaml({ id: 'e2e.hub-down', probes: probe(down), when: ["hub_health.status == 'ok'"], cmd: marker('down') }),
    'nojq.yaml': definitionYaml({
      id: 'e2e.no-jq',
      probes: probe(hub.url),
      when: ["hub_health.status == 'ok'"],
      cmd: marker('nojq'),
      env: { PATH: bin },
    }),
    'locked.yaml': definitionYaml({
      id: 'e2e.locked',
      cron: '* * * * * *',
      cmd: `echo "run $(date +%s.%N)" >> ${join(m.root, 'locked.ran')}; sleep 3`,
      lockFile: join(m.root, 'shared.lock'),
    }),
    'timer-skip.yaml': definitionYaml({ id: 'e2e.timer-skip', cron: '* * * * * *', probes: probe(down), cmd: marker('timer-skip') }),
  });
  const r = await m.compile(dir);
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(async () => {
  await hub?.close();
  await m?.stop();
});

async function startAndSettle(unit: string) {
  await m.systemctl('start', unit);
  return m.show(unit, 'ActiveState', 'Result', 'ExecMainStatus');
}

const ran = (name: string) => (existsSync(join(m.root, `${name}.ran`)) ? readFileSync(join(m.root, `${name}.ran`), 'utf8') : '');

describe('health check and rule', () => {
  it.each([
    ['hub answers {"status":"degraded"}', 'degraded', /skipped: rule is false: hub_health.status == 'ok'/],
    ['hub answers HTTP 503', 'error', /skipped: context probe hub_health: GET .* failed \(curl exit status 22\)/],
    ['hub slower than the probe timeout', 'slow', /skipped: context probe hub_health: GET .* failed \(curl exit status 28\)/],
    ['hub answers something that is not JSON', 'not-json', /skipped: context probe hub_health: GET .* did not return JSON/],
  ] as const)('%s → skipped, not failed', async (_name, mode, why) => {
    hub.mode = mode;
    const before = m.log('e2e.guarded.service').length;
    const t0 = Date.now();
    const s = await startAndSettle('e2e.guarded.service');
    expect(s).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect(ran('guarded')).toBe('');
    expect(m.log('e2e.guarded.service').slice(before)).toMatch(why);
    if (mode === 'slow') expect(Date.now() - t0).toBeLessThan(3500);
  });

  it('hub unreachable → skipped, not failed', async () => {
    const s = await startAndSettle('e2e.hub-down.service');
    expect(s).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect(ran('down')).toBe('');
    expect(m.log('e2e.hub-down.service')).toMatch(/skipped: context probe hub_health: GET .* failed \(curl exit status 7\)/);
  });

  it('hub ok → the command runs in its working directory with its environment', async () => {
    hub.mode = 'ok';
    const s = await startAndSettle('e2e.guarded.service');
    expect(s).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect(ran('guarded')).toBe(`ran ${join(m.root, 'work dir')} sweep mode\n`);
  });

  it('a missing tool (jq) fails the unit loudly instead of skipping', async () => {
    hub.mode = 'ok';
    const s = await startAndSettle('e2e.no-jq.service');
    expect(s).toMatchObject({ ActiveState: 'failed', Result: 'exit-code' });
    expect(ran('nojq')).toBe('');
    expect(m.log('e2e.no-jq.service')).toMatch(/jq is not installed/);
  });

  it('a timer whose probe fails keeps running and its service never enters the failed state', async () => {
    await m.systemctl('start', 'e2e.timer-skip.timer');
    await sleep(3_500);
    const timer = await m.show('e2e.timer-skip.timer', 'ActiveState');
    await m.systemctl('stop', 'e2e.timer-skip.timer');
    // The guard may be mid-run (activating) right now; once it settles it must not be failed.
    const service = await waitFor('the service to settle', async () => {
      const s = await m.show('e2e.timer-skip.service', 'ActiveState', 'Result');
      return s.ActiveState === 'activating' ? undefined : s;
    });
    expect(timer.ActiveState).toBe('active');
    expect(service).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect((m.log('e2e.timer-skip.service').match(/skipped: context probe/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(ran('timer-skip')).toBe('');
  });
});

describe('lock', () => {
  it('another holder of the lock (a legacy script) makes scheduled runs skip without failing', async () => {
    const holder: ChildProcess = spawn('flock', [join(m.root, 'shared.lock'), 'sleep', '4'], { stdio: 'ignore' });
    try {
      await sleep(300);
      const t0 = Date.now() / 1000;
      await m.systemctl('start', 'e2e.locked.timer');
      await sleep(3_000);
      const during = readStamps(join(m.root, 'locked.ran')).filter((r) => r.at >= t0);
      expect(during).toEqual([]);
      expect(await m.show('e2e.locked.service', 'Result')).toMatchObject({ Result: 'success' });
      expect(m.log('e2e.locked.service')).toMatch(/skipped: another run holds the lock/);
    } finally {
      holder.kill();
    }
    // Once the holder is gone the schedule resumes.
    await waitFor('a run after the lock is released', () => (readStamps(join(m.root, 'locked.ran')).length > 0 ? true : undefined), 8_000);
    await m.systemctl('stop', 'e2e.locked.timer');
  });

  it('a manual `systemctl start` run is not overlapped by the schedule', async () => {
    await waitFor('idle', async () => ((await m.show('e2e.locked.service', 'ActiveState')).ActiveState === 'inactive' ? true : undefined), 8_000);
    const file = join(m.root, 'locked.ran');
    const t0 = Date.now() / 1000;
    await m.systemctl('start', '--no-block', 'e2e.locked.service');
    await sleep(200);
    await m.systemctl('start', 'e2e.locked.timer'); // fires every second while the manual run sleeps 3 s
    await sleep(2_500);
    await m.systemctl('stop', 'e2e.locked.timer');
    await waitFor('idle', async () => ((await m.show('e2e.locked.service', 'ActiveState')).ActiveState === 'inactive' ? true : undefined), 8_000);
    const runs = readStamps(file).filter((r) => r.at >= t0);
    expect(runs.length).toBe(1);
  });
});
