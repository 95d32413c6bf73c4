/**
 * Differential test, by EXECUTION under /bin/sh (dash), of the generated `acore_fires` function
 * (src/targets/shell/schedule-check.ts) against the independent cron oracle
 * (test/oracle/cron-reference.ts).
 *
 * For every case the crontab line would run on `supersetFields(schedule, zone)`; this test parses
 * that text itself (plain `*`, `n`, `a-b` lists only), enumerates every instant the line would
 * start the job at inside the case's windows (host zone UTC, as the sh processes run with TZ=UTC),
 * and runs `acore_fires` at each of them in ONE sh process per case, with a fake `date` first on
 * PATH that answers for the simulated instant ACORE_FAKE_NOW by delegating to the real /bin/date
 * (`-d @<seconds>`, so TZ= set by the generated code still applies). The instants where
 * `acore_fires` returns 0 must be exactly the oracle's fire times in those windows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron } from '../src/compiler/cron/parse.ts';
import { scheduleCheck, supersetFields } from '../src/targets/shell/schedule-check.ts';
import { nextFireTimes } from './oracle/cron-reference.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

// ---------------------------------------------------------------------------------------------
// Windows

type Window = readonly [fromMs: number, toMs: number];

const at = (s: string): number => {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`bad date ${s}`);
  return t;
};
/** [from, to) between two UTC dates / date-times. */
const span = (from: string, to: string): Window => [at(from.includes('T') ? from : `${from}T00:00:00Z`), at(to.includes('T') ? to : `${to}T00:00:00Z`)];
/**
 * `before` hours before to `after` hours after a UTC instant (usually a DST transition). Zoned
 * schedules run their crontab line every quarter hour and every run forks `date` (a fake one
 * that forks the real one), so their windows are hours, not days, to keep the test fast.
 */
const around = (t: string, before = 2.5, after = 2.5): Window => [at(t) - before * HOUR_MS, at(t) + after * HOUR_MS];

/**
 * Day-level schedules in host time run once a day (or a few times): the last five days of the leap
 * February 2028 and all of March 2028 (31 days, five Fridays), plus per-case windows around rarer days.
 */
const LATE_FEB_MAR_2028 = span('2028-02-25', '2028-04-01');

// DST transitions (UTC instants), from zdump.
const BERLIN_SPRING = '2026-03-29T01:00:00Z'; // 02:00 CET -> 03:00 CEST (02:00-02:59 missing)
const BERLIN_FALL = '2026-10-25T01:00:00Z'; // 03:00 CEST -> 02:00 CET (02:00-02:59 twice)
const NY_SPRING = '2026-03-08T07:00:00Z'; // 02:00 EST -> 03:00 EDT (02:00-02:59 missing)
const NY_FALL = '2026-11-01T06:00:00Z'; // 02:00 EDT -> 01:00 EST (01:00-01:59 twice)
const LH_FALL = '2026-04-04T15:00:00Z'; // Lord Howe 02:00 +11 -> 01:30 +1030 (01:30-01:59 twice)
const LH_SPRING = '2026-10-03T15:30:00Z'; // Lord Howe 02:00 +1030 -> 02:30 +11 (02:00-02:29 missing)
const TROLL_FALL = '2026-10-25T01:00:00Z'; // Antarctica/Troll 03:00 +02 -> 01:00 +00 (01:00-02:59 twice)

interface Case {
  expr: string;
  zone?: string;
  windows: Window[];
  why: string;
}

const D = LATE_FEB_MAR_2028;

const CASES: Case[] = [
  // -- plain schedules in zones
  { expr: '0 3 * * *', zone: 'UTC', windows: [around('2028-02-29T03:00:00Z')], why: 'explicit UTC, leap day' },
  { expr: '0 3 * * *', zone: 'Europe/Berlin', windows: [around(BERLIN_SPRING), around(BERLIN_FALL)], why: 'both transitions' },
  { expr: '0 3 * * *', zone: 'America/New_York', windows: [around(NY_SPRING), around(NY_FALL)], why: 'both transitions' },
  { expr: '0 3 * * *', zone: 'Asia/Kathmandu', windows: [around('2026-06-30T21:15:00Z')], why: '+05:45' },
  { expr: '0 3 * * *', zone: 'Australia/Lord_Howe', windows: [around(LH_FALL), around(LH_SPRING)], why: '30-minute DST, both transitions' },
  { expr: '30 2 * * *', zone: 'Europe/Berlin', windows: [around(BERLIN_SPRING), around(BERLIN_FALL)], why: 'gap: no fire; overlap: once, at CEST' },
  { expr: '30 1,2 * * *', zone: 'America/New_York', windows: [around(NY_SPRING), around(NY_FALL)], why: '02:30 in the gap; 01:30 in the overlap: once' },
  { expr: '15,45 1,2 * * *', zone: 'Australia/Lord_Howe', windows: [around(LH_FALL), around(LH_SPRING)], why: '01:45 in the 30-min overlap: once; 02:15 in the 30-min gap' },
  { expr: '*/15 * * * *', zone: 'Asia/Kathmandu', windows: [around('2026-06-30T12:00:00Z', 2, 2)], why: 'every quarter hour at +05:45' },
  { expr: '*/15 * * * *', zone: 'Asia/Kathmandu', windows: [around('1985-12-31T18:30:00Z', 1.5, 1.5)], why: '1986: +05:30 -> +05:45, 00:00-00:14 missing' },
  // Troll's clocks go back 2 hours: acore_fires must look 2 h back to see the first 01:30.
  { expr: '30 1 * * *', zone: 'Antarctica/Troll', windows: [around(TROLL_FALL)], why: 'overlap of 2 h (+02 -> +00): once' },

  // -- day extensions in host time (no zone)
  { expr: '0 0 L * *', windows: [span('2027-02-26', '2027-03-02'), D, span('2028-04-28', '2028-05-02')], why: 'Feb 28, Feb 29, Mar 31, Apr 30' },
  { expr: '0 0 L-3 * *', windows: [D], why: 'L-n' },
  { expr: '0 0 LW * *', windows: [D, span('2028-04-26', '2028-05-02'), span('2028-09-27', '2028-10-02')], why: 'Feb 29 Tue, Mar 31 Fri, Apr 30 Sun -> 28th, Sep 30 Sat -> 29th' },
  { expr: '0 0 1W * *', windows: [span('2027-12-29', '2028-01-05'), D, span('2028-09-29', '2028-10-04')], why: 'Jan 1 Sat -> 3rd; Mar 1 Wed; Oct 1 Sun -> 2nd' },
  { expr: '0 0 15W * *', windows: [span('2028-01-12', '2028-01-18'), D, span('2028-10-12', '2028-10-18')], why: 'Jan 15 Sat -> 14th; Mar 15 Wed; Oct 15 Sun -> 16th' },
  {
    expr: '0 0 28W * *',
    windows: [span('2026-02-25', '2026-03-03'), span('2027-02-24', '2027-03-03'), D, span('2028-05-25', '2028-06-01')],
    why: 'Feb 28 2026 Sat -> 27th; Feb 28 2027 Sun and last -> 26th; May 28 2028 Sun -> 29th',
  },
  { expr: '0 0 31W * *', windows: [D, span('2028-12-27', '2029-01-03'), span('2029-03-27', '2029-04-03')], why: 'no fire in Feb; Dec 31 2028 Sun -> 29th; Mar 31 2029 Sat -> 30th' },
  { expr: '0 0 * * 5L', windows: [D], why: 'last Friday' },
  { expr: '0 0 * * 1#1', windows: [span('2028-02-05', '2028-02-09'), D, span('2028-04-29', '2028-05-09')], why: 'first Monday on the 7th, 6th, 1st (not the 8th)' },
  { expr: '0 0 * * 5#5', windows: [D, span('2028-09-22', '2028-10-01')], why: 'fifth Friday: Mar 31, Sep 29 (not Sep 22)' },
  { expr: '0 0 L * 5', windows: [D], why: 'both restricted: OR' },
  { expr: '0 0 */2 * 1-5', windows: [D], why: 'dom starts with *: AND' },
  { expr: '0 0 */3,15 * mon', windows: [D], why: 'dom starts with *: AND' },
  { expr: '0 12 1,15 * fri', windows: [D], why: 'both restricted: OR' },
  { expr: '0 0 1-31 * 5L', windows: [span('2028-02-20', '2028-03-05')], why: 'both restricted, dom covers all: every day' },
  { expr: '0 0 LW,1 * 0#2,6L', windows: [D], why: 'lists of extensions, OR' },
  { expr: '0,30 9,17 L-1 2 *', windows: [span('2027-02-25', '2027-03-02'), span('2028-02-26', '2028-03-02')], why: 'several minutes/hours, month restricted' },
  {
    expr: '0 0 L 2 *',
    windows: [span('2000-02-25', '2000-03-02'), span('2027-02-25', '2027-03-02'), span('2028-02-25', '2028-03-02'), span('2100-02-25', '2100-03-02')],
    why: 'leap rule: 2000 (400), 2027, 2028, 2100 (100)',
  },

  // -- zones and extensions combined
  { expr: '30 2 L * *', zone: 'Europe/Berlin', windows: [around('2030-03-31T01:00:00Z'), around('2030-04-30T00:30:00Z', 1, 1)], why: 'L falls into the gap; next L fires' },
  { expr: '30 2 * 10 0L', zone: 'Europe/Berlin', windows: [around(BERLIN_FALL)], why: 'last Sunday, overlap: once' },
  { expr: '45 1 * 4 0#1', zone: 'Australia/Lord_Howe', windows: [around(LH_FALL)], why: 'first Sunday, 30-min overlap: once' },
  { expr: '0 0 LW * *', zone: 'Asia/Kathmandu', windows: [around('2028-03-30T18:15:00Z')], why: 'local midnight of Mar 31 is UTC Mar 30' },
  { expr: '0 23 L * *', zone: 'America/Los_Angeles', windows: [around('2028-03-01T07:00:00Z')], why: 'local Feb 29 23:00 is UTC Mar 1' },
];

// ---------------------------------------------------------------------------------------------
// The crontab superset, read independently from supersetFields' text

/** A plain crontab field: `*` or a comma list of `n` and `a-b`. Anything else is refused. */
function plainCronField(text: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  if (text === '*') {
    for (let v = min; v <= max; v++) out.add(v);
    return out;
  }
  for (const item of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) throw new Error(`superset field '${text}': cannot read item '${item}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < min || hi > max || lo > hi) throw new Error(`superset field '${text}': '${item}' outside ${min}-${max}`);
    for (let v = lo; v <= hi; v++) out.add(v);
  }
  return out;
}

/** Every instant (epoch ms) the crontab line `fields` starts the job at within the windows; host zone UTC. */
function cronStarts(fields: string, windows: Window[]): number[] {
  const parts = fields.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`superset '${fields}' does not have 5 fields`);
  const [mi, h, dom, mon, dow] = parts as [string, string, string, string, string];
  // With both day fields `*` cron's day rule is "every day"; anything else is not this test's business.
  if (dom !== '*' || dow !== '*') throw new Error(`superset '${fields}': day fields must be *`);
  const minutes = plainCronField(mi, 0, 59);
  const hours = plainCronField(h, 0, 23);
  const months = plainCronField(mon, 1, 12);
  const out: number[] = [];
  for (const [from, to] of windows) {
    if (from % MINUTE_MS !== 0 || to % MINUTE_MS !== 0) throw new Error('windows must start and end on a minute');
    for (let t = from; t < to; t += MINUTE_MS) {
      const d = new Date(t);
      if (minutes.has(d.getUTCMinutes()) && hours.has(d.getUTCHours()) && months.has(d.getUTCMonth() + 1)) out.push(t);
    }
  }
  return out;
}

function oracleFires(c: Case): number[] {
  return c.windows.flatMap(([from, to]) => nextFireTimes(c.expr, from - 1, 1_000_000, c.zone, { untilMs: to }));
}

// ---------------------------------------------------------------------------------------------
// The fake `date` and the sh runner

const FAKE_DATE = `#!/bin/sh
# Fake GNU date for acore_fires: the clock is ACORE_FAKE_NOW (epoch seconds). Only the
# invocations the generated code uses are answered, by the real /bin/date (which honours TZ).
bad() {
  printf 'fake date: unsupported invocation:' >&2; printf ' [%s]' "$@" >&2; echo >&2
  { printf 'date'; printf ' [%s]' "$@"; echo; } >>"\${ACORE_FAKE_LOG:-/dev/null}"
  exit 97
}
case \${ACORE_FAKE_NOW-} in '' | *[!0-9]*) bad "ACORE_FAKE_NOW='\${ACORE_FAKE_NOW-}'" "$@" ;; esac
now=$ACORE_FAKE_NOW
if [ $# -eq 1 ]; then
  fmt=$1
elif [ $# -eq 3 ] && [ "$1" = -d ]; then
  case $2 in
    '-1 hour') now=$((now - 3600)) ;;
    '-30 minutes') now=$((now - 1800)) ;;
    '-2 hours') now=$((now - 7200)) ;;
    *) bad "$@" ;;
  esac
  fmt=$3
else
  bad "$@"
fi
case $fmt in +*) ;; *) bad "$@" ;; esac
exec /bin/date -d "@$now" "$fmt"
`;

let work = '';
let fakeBin = '';

function shEnv(log: string, now?: number): NodeJS.ProcessEnv {
  return {
    PATH: `${fakeBin}:/usr/bin:/bin`,
    TZ: 'UTC', // the host's zone: unzoned schedules are in host time, which the oracle takes as UTC
    LC_ALL: 'C',
    ACORE_FAKE_LOG: log,
    ...(now === undefined ? {} : { ACORE_FAKE_NOW: String(now) }),
  };
}

interface Run {
  verdicts: Map<number, number>;
  stderr: string;
  exitCode: number | null;
  fakeLog: string;
  ms: number;
}

/** One sh process: define acore_fires, then call it at every instant and print `<seconds> <status>`. */
function runCase(index: number, fn: string[], instants: number[]): Promise<Run> {
  const script = join(work, `case-${index}.sh`);
  const log = join(work, `case-${index}.fake-date.log`);
  const secs = instants.map((t) => t / 1000);
  writeFileSync(
    script,
    [
      ...fn,
      `for acore_test_now in ${secs.join(' ')}; do`,
      '  ACORE_FAKE_NOW=$acore_test_now; export ACORE_FAKE_NOW',
      '  acore_fires </dev/null',
      '  echo "$acore_test_now $?"',
      'done',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('/bin/sh', [script], { env: shEnv(log), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('error', reject);
    p.on('close', (code) => {
      const verdicts = new Map<number, number>();
      for (const line of out.split('\n')) {
        const m = /^(\d+) (\d+)$/.exec(line);
        if (m) verdicts.set(Number(m[1]) * 1000, Number(m[2]));
        else if (line !== '') err += `\n(unexpected stdout: ${line})`;
      }
      resolve({ verdicts, stderr: err, exitCode: code, fakeLog: existsSync(log) ? readFileSync(log, 'utf8') : '', ms: performance.now() - started });
    });
  });
}

async function pool<T, R>(items: T[], limit: number, f: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Static checks on the generated text

/** Lines still holding a `%` once date format strings ('+…') and modulo operators inside $(( … )) are set aside. */
function percentOutsideDateFormats(text: string): string[] {
  let s = text.replace(/'\+[^']*'/g, "''");
  // Arithmetic expansions, with nested parentheses: blank out their `%` operators.
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s.startsWith('$((', i)) {
      let depth = 0;
      let j = i + 1;
      for (; j < s.length; j++) {
        if (s[j] === '(') depth++;
        else if (s[j] === ')' && --depth === 0) break;
      }
      out += s.slice(i, j + 1).replace(/%/g, ' MOD ');
      i = j + 1;
    } else out += s[i++];
  }
  s = out;
  return s.split('\n').filter((l) => l.includes('%'));
}

// ---------------------------------------------------------------------------------------------

interface Prepared {
  c: Case;
  label: string;
  fn: string[];
  fields: string;
  instants: number[];
  oracle: number[];
  run?: Run;
}

const label = (c: Case) => `${c.expr}${c.zone ? ` ${c.zone}` : ''}`;
const iso = (t: number) => new Date(t).toISOString().replace(':00.000Z', 'Z');
const wall = (t: number, zone = 'UTC') =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'short', hourCycle: 'h23' }).format(t) +
  ` ${new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? ''}`;

const prepared: Prepared[] = CASES.map((c) => {
  const parsed = parseCron(c.expr);
  if (!parsed.ok) throw new Error(`parseCron('${c.expr}') failed: ${JSON.stringify(parsed.errors)}`);
  const fields = supersetFields(parsed.schedule, c.zone);
  return { c, label: label(c), fn: scheduleCheck(parsed.schedule, c.zone), fields, instants: cronStarts(fields, c.windows), oracle: oracleFires(c) };
});
let totalMs = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'acore-schedule-check-'));
  fakeBin = join(work, 'bin');
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, 'date'), FAKE_DATE);
  chmodSync(join(fakeBin, 'date'), 0o755);
  const started = performance.now();
  // fork/exec-bound: one more process than CPUs keeps them busy.
  const runs = await pool(prepared, Math.max(3, availableParallelism() + 1), (p, i) => runCase(i, p.fn, p.instants));
  runs.forEach((r, i) => (prepared[i]!.run = r));
  totalMs = performance.now() - started;
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (totalMs === 0) return;
  const rows = prepared.map((p) => {
    const shFires = p.run ? [...p.run.verdicts.values()].filter((v) => v === 0).length : NaN;
    return `${p.label.padEnd(44)} ${p.fields.padEnd(22)} instants ${String(p.instants.length).padStart(5)}  oracle ${String(p.oracle.length).padStart(3)}  sh ${String(shFires).padStart(3)}  ${Math.round(p.run?.ms ?? 0)} ms`;
  });
  const instants = prepared.reduce((n, p) => n + p.instants.length, 0);
  console.log(`acore_fires differential: ${prepared.length} cases, ${instants} instants, sh wall time ${Math.round(totalMs)} ms\n${rows.join('\n')}`);
});

describe('fake date', () => {
  /** Runs the fake as `sh` would find it on PATH. */
  const fake = (now: number | undefined, ...args: string[]) => {
    const log = join(work, 'fake-self-test.log');
    rmSync(log, { force: true });
    const r = spawnSync('/bin/sh', ['-c', 'date "$@"', 'sh', ...args], { env: shEnv(log, now), encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout.trim(), logged: existsSync(log) };
  };
  const withTz = (tz: string, now: number, ...args: string[]) => {
    const r = spawnSync('/bin/sh', ['-c', 'date "$@"', 'sh', ...args], { env: { ...shEnv(join(work, 'unused.log'), now), TZ: tz }, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout.trim() };
  };

  it('answers for the simulated instant, in the TZ it is given', () => {
    const t = at('2026-10-25T01:30:00Z') / 1000;
    expect(withTz('Europe/Berlin', t, '+%Y %m %d %H %M %w')).toEqual({ status: 0, stdout: '2026 10 25 02 30 0' });
    expect(withTz('Asia/Kathmandu', t, '+%Y %m %d %H %M %w')).toEqual({ status: 0, stdout: '2026 10 25 07 15 0' });
    // Elapsed-time arithmetic, as GNU date does for hour/minute items: 02:30 CET - 1 h = 02:30 CEST.
    expect(withTz('Europe/Berlin', t, '-d', '-1 hour', '+%H:%M %Z')).toEqual({ status: 0, stdout: '02:30 CEST' });
    expect(withTz('Australia/Lord_Howe', at(LH_FALL) / 1000 + 900, '-d', '-30 minutes', '+%H:%M %z')).toEqual({ status: 0, stdout: '01:45 +1100' });
    expect(withTz('Australia/Lord_Howe', at(LH_FALL) / 1000 + 900, '+%H:%M %z')).toEqual({ status: 0, stdout: '01:45 +1030' });
  });

  it('fails loudly on anything else', () => {
    const t = at('2026-01-01T00:00:00Z') / 1000;
    for (const args of [[], ['-u', '+%s'], ['-d', 'now', '+%s'], ['-d', '-1 hour'], ['+%s', 'x'], ['%s'], ['-d', '-3 hours', '+%s']]) {
      const r = fake(t, ...args);
      expect({ args, status: r.status, logged: r.logged }).toEqual({ args, status: 97, logged: true });
    }
    expect(fake(undefined, '+%s')).toMatchObject({ status: 97, logged: true });
    expect(fake(t, '+%s')).toEqual({ status: 0, stdout: String(t), logged: false });
  });
});

describe.each(prepared.map((p) => [p.label, p] as const))('acore_fires: %s', (_name, p) => {
  it('is valid sh (sh -n) and has % only in date formats or as $(( )) modulo; the crontab fields have none', () => {
    const file = join(work, `syntax-${CASES.indexOf(p.c)}.sh`);
    writeFileSync(file, `${p.fn.join('\n')}\n`);
    const r = spawnSync('/bin/sh', ['-n', file], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(percentOutsideDateFormats(p.fn.join('\n'))).toEqual([]);
    expect(p.fields).not.toContain('%');
  });

  it(`fires exactly at the oracle's fire times (${p.c.why})`, () => {
    const run = p.run!;
    expect(p.instants.length).toBeGreaterThan(0);
    expect(run.fakeLog, 'fake date was called in an unsupported way').toBe('');
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.verdicts.size).toBe(p.instants.length);
    // Only 0 (fire) and 1 (not now); 2 would mean date failed.
    expect([...new Set(run.verdicts.values())].filter((v) => v !== 0 && v !== 1)).toEqual([]);

    const starts = new Set(p.instants);
    const zone = p.c.zone ?? 'UTC';
    // The crontab line must start the job at every fire time, or acore_fires never gets asked.
    expect(p.oracle.filter((t) => !starts.has(t)).map((t) => `${iso(t)} (${wall(t, zone)}) not started by '${p.fields}'`)).toEqual([]);

    const oracle = new Set(p.oracle);
    const mismatches = p.instants
      .filter((t) => oracle.has(t) !== (run.verdicts.get(t) === 0))
      .map((t) => `${iso(t)} (${wall(t, zone)}): oracle ${oracle.has(t) ? 'fires' : 'no fire'}, acore_fires returned ${run.verdicts.get(t)}`);
    expect(mismatches).toEqual([]);
  });
});
