/**
 * `acore next`: the pure fire-time module (src/compiler/cron/next.ts) against the independent
 * reference (test/oracle/cron-reference.ts, which models systemd's DST behaviour), the
 * host-cron and GitHub models against hand-written expectations from their documented
 * behaviour, systemd's own `systemd-analyze calendar` on the lines the systemd target emits,
 * and the CLI through `acore()`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { parseCron } from '../src/compiler/cron/parse.ts';
import type { CronSchedule } from '../src/compiler/cron/schedule.ts';
import { fireTimes, firstDifference, previewFireTimes, targetFireTimes } from '../src/compiler/cron/next.ts';
import { CAPABILITIES } from '../src/targets/capabilities.ts';
import { toOnCalendar } from '../src/targets/systemd/calendar.ts';
import { acore, tempDir } from './helpers.ts';
import { nextFireTimes } from './oracle/cron-reference.ts';
import { systemdElapses } from './oracle/systemd-analyze.ts';

const at = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad date ${iso}`);
  return t;
};
const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

function schedule(expr: string): CronSchedule {
  const r = parseCron(expr);
  if (!r.ok) throw new Error(`test expression does not parse: ${expr}`);
  return r.schedule;
}

const times = (list: { at: number }[]) => list.map((f) => iso(f.at));

// ---------------------------------------------------------------------------------------------
// The pure module against the reference

/** [expression, zone, base, count]: DST gaps and overlaps, seconds, L/W/#, the day rule, macros. */
const ZONED: Array<[string, string, string, number]> = [
  // Europe/Berlin: 2026-03-29 02:00 → 03:00 (gap), 2026-10-25 03:00 → 02:00 (overlap)
  ['30 2 * * *', 'Europe/Berlin', '2026-03-27T00:00:00Z', 5],
  ['30 2 * * *', 'Europe/Berlin', '2026-10-23T00:00:00Z', 5],
  ['*/15 * * * *', 'Europe/Berlin', '2026-03-29T00:30:00Z', 12],
  ['*/20 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 8],
  ['*/20 * * * * *', 'Europe/Berlin', '2026-03-29T00:59:00Z', 10], // seconds, across the gap
  ['0,30 */10 2 * * *', 'Europe/Berlin', '2026-10-25T00:00:00Z', 8], // seconds, in the overlap
  // America/New_York: 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00
  ['0 2 * * *', 'America/New_York', '2026-03-06T00:00:00Z', 4],
  ['*/20 1-2 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 12],
  ['0 18 L * *', 'America/New_York', '2026-01-15T00:00:00Z', 6],
  ['0 9 15W * *', 'Europe/Berlin', '2026-01-01T00:00:00Z', 8],
  ['0 12 * * 5#2', 'America/New_York', '2026-01-01T00:00:00Z', 6],
  ['0 0 * * 5L', 'Europe/Berlin', '2026-01-01T00:00:00Z', 6],
  ['0 0 LW * *', 'Europe/Berlin', '2026-01-01T00:00:00Z', 6],
  ['0 0 L-3 2 *', 'UTC', '2026-01-01T00:00:00Z', 4], // leap years
  ['0 18 L * 5#2', 'Europe/Berlin', '2026-01-01T00:00:00Z', 8], // day rule: either
  ['0 6 */2 * 1-5', 'America/New_York', '2026-02-01T00:00:00Z', 10], // day rule: both
  ['@weekly', 'America/New_York', '2026-02-20T00:00:00Z', 5],
  ['0 0 29 2 *', 'Europe/Berlin', '2026-01-01T00:00:00Z', 3],
  ['*/15 1-3 * * *', 'Australia/Lord_Howe', '2026-10-03T12:00:00Z', 16], // 30-minute DST
];

describe('next: systemd and zoned crontab fire when the reference says', () => {
  for (const [expr, zone, base, n] of ZONED) {
    it(`${expr} in ${zone} after ${base}`, () => {
      const s = schedule(expr);
      const expected = nextFireTimes(expr, at(base), n, zone).map(iso);
      expect(expected).toHaveLength(n);
      const req = { schedule: s, timezone: zone, hostZone: 'Asia/Kolkata', after: at(base), count: n };
      expect(times(targetFireTimes('systemd', req).times)).toEqual(expected);
      // crontab refuses seconds; with minutes only its job script checks the zone like systemd.
      if (!s.seconds.some((x) => x !== 0)) expect(times(targetFireTimes('crontab', req).times)).toEqual(expected);
    });
  }

  it('without a zone, systemd reads the host zone it is given', () => {
    const req = { schedule: schedule('30 2 * * *'), hostZone: 'Europe/Berlin', after: at('2026-03-27T00:00:00Z'), count: 4 };
    expect(times(targetFireTimes('systemd', req).times)).toEqual(nextFireTimes('30 2 * * *', at('2026-03-27T00:00:00Z'), 4, 'Europe/Berlin').map(iso));
  });

  it('is fast: years of a rare schedule, a whole day of seconds', () => {
    const t0 = performance.now();
    expect(times(fireTimes(schedule('0 0 29 2 1'), 'Europe/Berlin', at('2026-01-01T00:00:00Z'), 40))).toEqual(
      nextFireTimes('0 0 29 2 1', at('2026-01-01T00:00:00Z'), 40, 'Europe/Berlin').map(iso),
    );
    expect(fireTimes(schedule('* * * * * *'), 'Europe/Berlin', at('2026-10-25T00:59:00Z'), 1000)).toHaveLength(1000);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('next: github', () => {
  const cases: Array<[string, string, number]> = [
    ['0 3 * * *', '2026-03-27T00:00:00Z', 5],
    ['*/10 9-17 * * mon-fri', '2026-10-23T15:00:00Z', 20],
    ['0 0 1 * 1', '2026-01-01T00:00:00Z', 8],
    ['@monthly', '2026-10-01T00:00:00Z', 3],
  ];
  for (const [expr, base, n] of cases) {
    it(`without a zone it reads ${expr} in UTC, whatever the host's zone`, () => {
      const req = { schedule: schedule(expr), hostZone: 'America/New_York', after: at(base), count: n };
      expect(times(targetFireTimes('github', req).times)).toEqual(nextFireTimes(expr, at(base), n, 'UTC').map(iso));
    });
  }

  it("with a zone, a fire time in a skipped hour advances to the next valid time (GitHub's documentation)", () => {
    const req = { schedule: schedule('30 2 * * *'), timezone: 'Europe/Berlin', hostZone: 'UTC', after: at('2026-03-28T00:00:00Z'), count: 3 };
    const gh = targetFireTimes('github', req).times;
    // 02:30 CET on the 28th; 02:30 does not exist on the 29th: 03:00 CEST = 01:00Z; 02:30 CEST on the 30th.
    expect(times(gh)).toEqual(['2026-03-28T01:30:00Z', '2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']);
    expect(gh[1]!.note).toMatch(/02:30/);
    const preview = previewFireTimes({ ...req, targets: ['systemd', 'crontab', 'github'] });
    expect(preview.differ).toEqual({ at: at('2026-03-29T01:00:00Z'), firing: ['github'], silent: ['systemd', 'crontab'] });
  });

  it('skipped fire times that advance onto a regular one are one run', () => {
    const req = { schedule: schedule('*/15 * * * *'), timezone: 'Europe/Berlin', hostZone: 'UTC', after: at('2026-03-29T00:30:00Z'), count: 8 };
    expect(times(targetFireTimes('github', req).times)).toEqual(times(targetFireTimes('systemd', req).times));
  });
});

describe("next: crontab without a zone is the host's cron (Vixie clock handling)", () => {
  const host = 'Europe/Berlin';
  it('fixed-time fire times in a skipped hour run right after the jump, once each', () => {
    const req = { schedule: schedule('0,30 2 * * *'), hostZone: host, after: at('2026-03-28T12:00:00Z'), count: 3 };
    const cron = targetFireTimes('crontab', req).times;
    expect(times(cron)).toEqual(['2026-03-29T01:00:00Z', '2026-03-30T00:00:00Z', '2026-03-30T00:30:00Z']);
    expect(cron[0]!.note).toMatch(/02:00, 02:30/);
    expect(times(targetFireTimes('systemd', req).times)).toEqual(['2026-03-30T00:00:00Z', '2026-03-30T00:30:00Z', '2026-03-31T00:00:00Z']);
  });

  it('a line with * in minute or hour runs again in a repeated hour and does not make up a skipped one', () => {
    const back = { schedule: schedule('*/30 * * * *'), hostZone: host, after: at('2026-10-24T23:45:00Z'), count: 6 };
    // 02:00 and 02:30 CEST, then 02:00 and 02:30 CET again, then 03:00 CET.
    expect(times(targetFireTimes('crontab', back).times)).toEqual([
      '2026-10-25T00:00:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:00:00Z',
      '2026-10-25T01:30:00Z',
      '2026-10-25T02:00:00Z',
      '2026-10-25T02:30:00Z',
    ]);
    expect(times(targetFireTimes('systemd', back).times)).toEqual([
      '2026-10-25T00:00:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T02:00:00Z',
      '2026-10-25T02:30:00Z',
      '2026-10-25T03:00:00Z',
      '2026-10-25T03:30:00Z',
    ]);
    const forward = { schedule: schedule('*/30 * * * *'), hostZone: host, after: at('2026-03-29T00:15:00Z'), count: 3 };
    // 01:30 CET, then 03:00 CEST: 02:00 and 02:30 do not exist and are not made up.
    expect(times(targetFireTimes('crontab', forward).times)).toEqual(['2026-03-29T00:30:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z']);
  });

  it('a fixed-time job runs once in a repeated hour, at the first instant', () => {
    const req = { schedule: schedule('30 2 * * *'), hostZone: host, after: at('2026-10-24T12:00:00Z'), count: 2 };
    expect(times(targetFireTimes('crontab', req).times)).toEqual(['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']);
  });

  it('a line the job script checks (L/W/#) does not make up a skipped time', () => {
    // 2026-03-29 is the last Sunday of March, the day Berlin skips 02:00-02:59.
    const checked = { schedule: schedule('30 2 * * 0L'), hostZone: host, after: at('2026-03-28T00:00:00Z'), count: 1 };
    expect(times(targetFireTimes('crontab', checked).times)).toEqual(['2026-04-26T00:30:00Z']);
    const plain = { schedule: schedule('30 2 * * 0'), hostZone: host, after: at('2026-03-28T00:00:00Z'), count: 1 };
    expect(times(targetFireTimes('crontab', plain).times)).toEqual(['2026-03-29T01:00:00Z']);
  });

  it('a host zone without clock changes is plain wall-clock matching', () => {
    const req = { schedule: schedule('*/30 * * * *'), hostZone: 'UTC', after: at('2026-10-24T23:45:00Z'), count: 6 };
    expect(times(targetFireTimes('crontab', req).times)).toEqual(nextFireTimes('*/30 * * * *', at('2026-10-24T23:45:00Z'), 6, 'UTC').map(iso));
  });
});

describe('next: targets differ', () => {
  const all = ['systemd', 'crontab', 'github'] as const;
  it('a zone-less definition on a host outside UTC: systemd and cron read the host zone, GitHub UTC', () => {
    const preview = previewFireTimes({ schedule: schedule('0 3 * * *'), hostZone: 'Europe/Berlin', targets: all, after: at('2026-01-10T00:00:00Z'), count: 3 });
    // 03:00 CET = 02:00Z on systemd and cron; 03:00Z on GitHub.
    expect(preview.differ).toEqual({ at: at('2026-01-10T02:00:00Z'), firing: ['systemd', 'crontab'], silent: ['github'] });
    expect(preview.notes.join('\n')).toMatch(/targets differ.*2026-01-10T02:00:00Z/);
  });

  it('the same definition on a UTC host: no note', () => {
    const preview = previewFireTimes({ schedule: schedule('0 3 * * *'), hostZone: 'UTC', targets: all, after: at('2026-01-10T00:00:00Z'), count: 3 });
    expect(preview.differ).toBeUndefined();
    expect(preview.notes.join('\n')).not.toMatch(/differ/);
  });

  it('compares only the window every list covers', () => {
    const a = { target: 'systemd' as const, times: [1, 2, 3].map((x) => ({ at: x })) };
    const b = { target: 'github' as const, times: [1, 2].map((x) => ({ at: x })) };
    expect(firstDifference([a, b])).toBeUndefined();
    expect(firstDifference([a, { target: 'github', times: [{ at: 1 }, { at: 3 }] }])).toEqual({ at: 2, firing: ['systemd'], silent: ['github'] });
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI

function write(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
}

function project(): string {
  const root = tempDir('acore-next-');
  const defs = join(root, 'definitions');
  write(
    defs,
    'zoned.yaml',
    ['id: demo.zoned', 'description: Half past two in Berlin.', 'trigger:', '  trigger_type: cron', '  cron_expression: "30 2 * * *"', '  timezone: Europe/Berlin', 'instruction:', '  kind: shell', '  cmd: echo zoned', ''].join('\n'),
  );
  write(
    defs,
    'seconds.yaml',
    ['id: demo.seconds', 'trigger:', '  trigger_type: cron', '  cron_expression: "*/20 * * * * *"', '  timezone: UTC', 'instruction:', '  kind: shell', '  cmd: echo s', ''].join('\n'),
  );
  write(
    defs,
    'host.yaml',
    ['id: demo.host', 'trigger:', '  trigger_type: cron', '  cron_expression: "0 3 * * *"', 'instruction:', '  kind: shell', '  cmd: echo h', 'targets:', '  systemd:', '  github:', ''].join('\n'),
  );
  write(
    defs,
    'event.yaml',
    [
      'id: demo.event',
      'trigger:',
      '  trigger_type: event',
      '  event_type: org.repo.commit.pushed',
      '  filters:',
      '    repo_slug: "acme/*"',
      'instruction:',
      '  kind: shell',
      '  cmd: echo e',
      'targets:',
      '  github:',
      ''
    ].join('\n'),
  );
  write(
    defs,
    'systemd-only.yaml',
    ['id: demo.systemd-only', 'trigger:', '  trigger_type: cron', '  cron_expression: "0 4 * * *"', '  timezone: UTC', 'instruction:', '  kind: shell', '  cmd: echo x', 'targets:', '  systemd:', ''].join('\n'),
  );
  return root;
}

/** The UTC instants listed in one target's block. */
function block(stdout: string, target: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${target} (`) || l.startsWith(`${target}:`));
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    const m = /^\s+\d+\.\s.*?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/.exec(l);
    if (m) out.push(m[1]!);
  }
  return out;
}

describe('acore next (CLI)', () => {
  it('lists every target of the allow-list with the times it fires, and where they differ', async () => {
    const root = project();
    const r = await acore(['next', 'demo.zoned', '--from', '2026-03-27T00:00:00Z', '-n', '3'], root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 02:30 CET on the 27th and 28th; the 29th has no 02:30; 02:30 CEST on the 30th.
    expect(block(r.stdout, 'systemd')).toEqual(['2026-03-27T01:30:00Z', '2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z']);
    expect(block(r.stdout, 'crontab')).toEqual(['2026-03-27T01:30:00Z', '2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z']);
    expect(block(r.stdout, 'github')).toEqual(['2026-03-27T01:30:00Z', '2026-03-28T01:30:00Z', '2026-03-29T01:00:00Z']);
    expect(r.stdout).toMatch(/targets differ.*2026-03-29T01:00:00Z/);
    expect(r.stdout).toContain('Europe/Berlin');
    const again = await acore(['next', 'demo.zoned', '--from', '2026-03-27T00:00:00Z', '-n', '3'], root);
    expect(again.stdout).toBe(r.stdout);
  });

  it('a target that refuses the definition says why (the capability matrix)', async () => {
    const r = await acore(['next', 'demo.seconds', '--from', '2026-01-01T00:00:00Z', '-n', '2'], project());
    expect(r.code).toBe(0);
    expect(block(r.stdout, 'systemd')).toEqual(['2026-01-01T00:00:20Z', '2026-01-01T00:00:40Z']);
    const cell = CAPABILITIES.crontab['cron.seconds'];
    const gh = CAPABILITIES.github['cron.seconds'];
    if (cell.level !== 'unsupported' || gh.level !== 'unsupported') throw new Error('matrix changed');
    expect(r.stdout).toMatch(/^crontab: refuses/m);
    expect(r.stdout).toContain(cell.why);
    expect(r.stdout).toMatch(/^github: refuses/m);
    expect(r.stdout).toContain(gh.why);
  });

  it("a zone-less definition: the host's zone (TZ) on systemd, UTC on GitHub, and the note", async () => {
    let stdout = '';
    const code = await main(['next', 'demo.host', '--from', '2026-01-10T00:00:00Z', '-n', '2'], {
      cwd: project(),
      stdout: (t) => (stdout += t),
      stderr: () => {},
      color: false,
      env: { TZ: 'America/New_York' },
    });
    expect(code).toBe(0);
    expect(stdout).toContain('America/New_York');
    // 03:00 EST = 08:00Z on systemd; 03:00Z on GitHub.
    expect(block(stdout, 'systemd')).toEqual(['2026-01-10T08:00:00Z', '2026-01-11T08:00:00Z']);
    expect(block(stdout, 'github')).toEqual(['2026-01-10T03:00:00Z', '2026-01-11T03:00:00Z']);
    expect(stdout).toMatch(/targets differ.*2026-01-10T03:00:00Z/);
  });

  it('--target limits the listing to one target; a target outside the allow-list is an error', async () => {
    const root = project();
    const r = await acore(['next', 'demo.zoned', '--target', 'github', '--from', '2026-03-27T00:00:00Z', '-n', '1'], root);
    expect(r.code).toBe(0);
    expect(block(r.stdout, 'github')).toEqual(['2026-03-27T01:30:00Z']);
    expect(r.stdout).not.toMatch(/^systemd/m);
    const no = await acore(['next', 'demo.systemd-only', '--target', 'github'], root);
    expect(no.code).toBe(1);
    expect(no.stderr).toContain('systemd');
  });

  it('an event-triggered definition fires on events, with no times', async () => {
    const r = await acore(['next', 'demo.event', '--from', '2026-01-01T00:00:00Z'], project());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('org.repo.commit.pushed');
    expect(r.stdout).toContain('acme/*');
    expect(r.stdout).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  });

  it('an unknown id exits 1 and names the close ids', async () => {
    const r = await acore(['next', 'demo.zone'], project());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'demo.zoned'");
    expect(r.stdout).toBe('');
  });

  it('invalid definitions: diagnostics and exit 1', async () => {
    const root = project();
    write(join(root, 'definitions'), 'bad.yaml', ['id: demo.bad', 'trigger:', '  trigger_type: cron', '  cron_expression: "61 * * * *"', 'instruction:', '  kind: shell', '  cmd: echo', ''].join('\n'));
    const r = await acore(['next', 'demo.zoned'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:4:\d+: error\[cron-range\]/);
    expect(r.stdout).toBe('');
  });

  it('usage errors exit 2', async () => {
    const root = project();
    expect((await acore(['next', 'demo.zoned', '--from', 'tomorrow'], root)).code).toBe(2);
    expect((await acore(['next', 'demo.zoned', '-n', '0'], root)).code).toBe(2);
    expect((await acore(['next', 'demo.zoned', '--target', 'k8s'], root)).code).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// systemd's own view of the OnCalendar= lines the target emits

describe('acore next --target systemd lists what systemd-analyze calendar computes', () => {
  const cases: Array<[id: string, expr: string, zone: string, base: string]> = [
    ['sa.berlin-gap', '30 2 * * *', 'Europe/Berlin', '2026-03-26T12:00:00Z'],
    ['sa.new-york-overlap', '*/20 1-2 * * *', 'America/New_York', '2026-10-31T12:00:00Z'],
    ['sa.berlin-seconds-month-end', '0,30 */20 2 25,L * *', 'Europe/Berlin', '2026-10-24T12:00:00Z'],
  ];
  const N = 12;
  for (const [id, expr, zone, base] of cases) {
    it(`${expr} in ${zone}`, async () => {
      const lines = toOnCalendar(schedule(expr), zone);
      const analyzed = await systemdElapses(lines, at(base), N);
      expect(analyzed.failures.size).toBe(0);
      // Each line gives N elapses, so the first N of their union are exact.
      const union = [...new Set(lines.flatMap((l) => analyzed.elapses.get(l) ?? []))].sort((a, b) => a - b).slice(0, N).map(iso);
      expect(union).toHaveLength(N);

      const root = tempDir('acore-next-sa-');
      write(
        join(root, 'definitions'),
        'd.yaml',
        [`id: ${id}`, 'trigger:', '  trigger_type: cron', `  cron_expression: "${expr}"`, `  timezone: ${zone}`, 'instruction:', '  kind: shell', '  cmd: echo', 'targets:', '  systemd:', ''].join('\n'),
      );
      const r = await acore(['next', id, '--target', 'systemd', '--from', base, '-n', String(N)], root);
      expect(r.code).toBe(0);
      expect(block(r.stdout, 'systemd')).toEqual(union);
    });
  }
});
