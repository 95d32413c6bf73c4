/**
 * Parity with the hand-written custodian-sync units that definition A replaces
 * (test/fixtures/custodian-sync-takeover/legacy/, written as an operator would have).
 *
 * Same: the fire times (compared by systemd-analyze itself), the command and the directory it
 * runs in, and the unit names (targets.systemd.unit_name takes them over in place).
 * Intended differences, each checked below so the list cannot go stale:
 *   1. health check: ExecCondition= probes the hub and skips the run when it is not ok;
 *   2. lock + no overlap: flock in ExecStart, and the timer starts acore-trigger@custodian-sync.service
 *      (the shared template's instance, which starts custodian-sync.service unless it is running);
 *   3. log_and_continue: a failed sweep is logged, the unit does not enter the failed state;
 *   4. AccuracySec=1s: fires on the second (legacy: systemd's default 1 min window);
 *   5. the command runs through /bin/sh -c with `cd` (legacy: WorkingDirectory= + direct exec).
 * The run-time equivalence of the command is proven under a real user manager in
 * test/e2e/legacy-parity.e2e.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { systemdElapses } from './oracle/systemd-analyze.ts';
import { FIXTURES } from './helpers.ts';

const dir = join(FIXTURES, 'custodian-sync-takeover');
const read = (p: string) => readFileSync(join(dir, p), 'utf8');
const settings = (unit: string, key: string) =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

const legacyTimer = read('legacy/custodian-sync.timer');
const legacyService = read('legacy/custodian-sync.service');
const timer = read('expected/systemd/custodian-sync.timer');
const service = read('expected/systemd/custodian-sync.service');
const definition = parse(read('definitions/state-hub-consistency-sweep.yaml')) as { instruction: { cmd: string } };

describe('custodian-sync parity', () => {
  it('takes over the legacy unit names', () => {
    expect(settings(legacyTimer, 'Unit')).toEqual(['custodian-sync.service']);
    expect(settings(timer, 'Unit')).toEqual(['acore-trigger@custodian-sync.service']);
    // The template's %i is the instance name, so this instance starts custodian-sync.service.
    expect(settings(read('expected/systemd/acore-trigger@.service'), 'ExecStart')).toEqual(['systemctl --user start --no-block %i.service']);
  });

  it('fires at the same instants (systemd-analyze calendar, 4 bases × 300 iterations)', async () => {
    const legacy = settings(legacyTimer, 'OnCalendar');
    const compiled = settings(timer, 'OnCalendar');
    expect(legacy).toEqual(['*:0/15']);
    for (const base of ['2026-01-01T00:00:00Z', '2026-03-28T23:07:00Z', '2028-02-28T23:59:59Z', '2031-12-31T23:44:59Z']) {
      const at = Date.parse(base);
      // Legacy is in the host's zone; */15 is the same instants in every zone with
      // quarter-hour offsets, which is all of them, so compare under two host zones too.
      for (const tz of ['UTC', 'Asia/Kathmandu']) {
        const a = (await systemdElapses(legacy, at, 300, { tz })).elapses.get(legacy[0]!);
        const r = await systemdElapses(compiled, at, 300, { tz });
        expect(r.failures.size).toBe(0);
        const b = [...new Set(compiled.flatMap((l) => r.elapses.get(l) ?? []))].sort((x, y) => x - y);
        expect(a).toHaveLength(300);
        expect(b.slice(0, 300)).toEqual(a);
      }
    }
  });

  it('runs the same command in the same directory', () => {
    const [wd] = settings(legacyService, 'WorkingDirectory');
    const [exec] = settings(legacyService, 'ExecStart');
    const relative = exec!.replace(`${wd}/`, '');
    expect(definition.instruction.cmd).toBe(`cd ${wd} && ${relative}`);
    expect(service).toContain(`'${definition.instruction.cmd}'`);
  });

  it('differs only as intended', () => {
    // 1. health check
    expect(service).toMatch(/^ExecCondition=/m);
    expect(service).toContain('http://127.0.0.1:8000/state/health');
    expect(legacyService).not.toMatch(/^ExecCondition=/m);
    // 2. lock
    expect(service).toContain('flock -n -E 200 9');
    // 3. failure policy
    expect(service).toContain('on_failure is log_and_continue');
    // 4. accuracy
    expect(settings(timer, 'AccuracySec')).toEqual(['1s']);
    expect(settings(legacyTimer, 'AccuracySec')).toEqual([]);
    // 5. shell + cd instead of WorkingDirectory=
    expect(settings(service, 'WorkingDirectory')).toEqual([]);
    // Nothing else in [Timer] changes meaning.
    expect(settings(timer, 'Persistent')).toEqual(['false']);
    expect(settings(legacyTimer, 'Persistent')).toEqual([]);
    expect(settings(timer, 'WantedBy')).toEqual(settings(legacyTimer, 'WantedBy'));
  });
});
