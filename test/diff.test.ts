/**
 * `acore diff`: scratch git repositories holding the project's own definitions, changed the
 * way a pull request would change them, compared in words and in bytes.
 *
 * Expectations come from the semantics (the cron reference in test/oracle/, the compiler's own
 * output for the systemd timer), never from copying `acore diff` output.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron } from '../src/compiler/cron/parse.ts';
import type { CronSchedule } from '../src/compiler/ir.ts';
import { main } from '../src/cli/main.ts';
import { describeCron, nextFireTimes as describeNext, preciseDays, rate } from '../src/cli/describe.ts';
import { acore, type CliResult, ROOT, tempDir } from './helpers.ts';
import { nextFireTimes, zoneOffsetMs } from './oracle/cron-reference.ts';

// ---------------------------------------------------------------------------------------------
// Scratch repositories

const SWEEP = 'definitions/the-custodian/state-hub-consistency-sweep.yaml';
const CLEANUP = 'definitions/the-custodian/state-hub-stale-task-cleanup.yaml';
const COMMIT_SYNC = 'definitions/the-custodian/state-hub-commit-sync.yaml';
const SWEEP_ID = 'the-custodian.state-hub-consistency-sweep';
const CLEANUP_ID = 'the-custodian.state-hub-stale-task-cleanup';
const COMMIT_SYNC_ID = 'the-custodian.state-hub-commit-sync';

/** The head commit's date, and so the `now` fire times are listed from. */
const HEAD_DATE = '2026-05-04T10:07:00Z';
const HEAD_MS = Date.parse(HEAD_DATE);

function git(repo: string, args: string[], date = '2026-05-01T08:00:00Z'): string {
  return execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Reviewer',
      GIT_AUTHOR_EMAIL: 'reviewer@example.com',
      GIT_COMMITTER_NAME: 'Reviewer',
      GIT_COMMITTER_EMAIL: 'reviewer@example.com',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
}

function commitAll(repo: string, message: string, date?: string): void {
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '--allow-empty', '-m', message], date);
}

/** Made once (git is slow to start), copied for each test. */
let template: string | undefined;
afterAll(() => {
  if (template) rmSync(template, { recursive: true, force: true });
});

/** A repository on `main` whose first commit holds the project's definitions/. */
function repoWithDefinitions(): string {
  if (!template) {
    template = mkdtempSync(join(tmpdir(), 'acore-diff-template-'));
    git(template, ['init', '-q', '-b', 'main']);
    cpSync(join(ROOT, 'definitions'), join(template, 'definitions'), { recursive: true });
    commitAll(template, 'definitions');
  }
  const repo = tempDir('acore-diff-');
  cpSync(template, repo, { recursive: true });
  return repo;
}

function read(repo: string, path: string): string {
  return readFileSync(join(repo, path), 'utf8');
}

function write(repo: string, path: string, text: string): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}

function edit(repo: string, path: string, from: string, to: string): void {
  const text = read(repo, path);
  expect(text).toContain(from);
  write(repo, path, text.replace(from, to));
}

/** Every run: no stack trace, no internal error. */
function sane(r: CliResult): CliResult {
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(r.code).not.toBe(70);
  return r;
}

async function diff(repo: string, args: string[]): Promise<CliResult> {
  return sane(await acore(['diff', ...args], repo));
}

/** Runs acore with a chosen environment and colour (the helper runs with neither). */
async function acoreWith(args: string[], cwd: string, env: Record<string, string>, color: boolean): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color, env });
  return sane({ code, stdout, stderr });
}

/** `YYYY-MM-DD HH:MM` of an instant on the wall clock of a zone (by the oracle's offsets). */
function wall(ms: number, zone = 'UTC'): string {
  return new Date(ms + zoneOffsetMs(zone, ms)).toISOString().slice(0, 16).replace('T', ' ');
}

/** Positions of each needle in order; fails if one is missing or out of order. */
function expectInOrder(haystack: string, needles: string[]): void {
  let at = -1;
  for (const n of needles) {
    const i = haystack.indexOf(n, at + 1);
    expect(i, `'${n}' after position ${at} in:\n${haystack}`).toBeGreaterThan(at);
    at = i;
  }
}

function lineWith(text: string, needle: string): string {
  const line = text.split('\n').find((l) => l.includes(needle));
  expect(line, `a line with '${needle}'`).toBeDefined();
  return line!;
}

/** The OnCalendar= lines the compiler itself writes for a cron expression in UTC. */
async function onCalendar(cron: string): Promise<string[]> {
  const { compile } = await import('../src/compiler/compile.ts');
  const { systemdTarget } = await import('../src/targets/systemd/index.ts');
  const text = `id: probe.calendar\ntrigger:\n  trigger_type: cron\n  cron_expression: "${cron}"\n  timezone: UTC\ninstruction:\n  kind: shell\n  cmd: "true"\n`;
  const result = compile([{ path: 'probe.yaml', text }], [systemdTarget], { scope: 'user' });
  const timer = result.artefacts.find((a) => a.path.endsWith('.timer'));
  expect(timer, JSON.stringify(result.diagnostics)).toBeDefined();
  return timer!.content.split('\n').filter((l) => l.startsWith('OnCalendar='));
}

/** The bodies of the ```diff fences of a Markdown text. */
function diffFences(md: string): string[] {
  return [...md.matchAll(/^(`{3,})diff\n([\s\S]*?)\n\1$/gm)].map((m) => m[2]!);
}

// ---------------------------------------------------------------------------------------------

describe('acore diff: a schedule and a command change (two commits)', () => {
  // One repository for the whole block (the tests only read it).
  let repo = '';
  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'acore-diff-pr-'));
    cpSync(repoWithDefinitions(), repo, { recursive: true });
    edit(repo, SWEEP, '"*/15 * * * *"', '"0 */2 * * *"');
    edit(repo, CLEANUP, 'scripts/cleanup_stale_tasks.py', 'scripts/cleanup_stale_tasks.py --dry-run');
    commitAll(repo, 'every two hours; dry run', HEAD_DATE);
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('says what changed in words, with rates and fire times, and shows the generated bytes', async () => {
    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'markdown']);
    expect(r.code).toBe(1); // like git diff --exit-code: something changed
    expect(r.stderr).toBe('');
    const md = r.stdout;
    expect(md).toMatch(/^## /); // a heading for the PR comment

    // The sweep: its schedule, described both ways.
    const sweep = md.slice(md.indexOf(SWEEP_ID), md.indexOf(CLEANUP_ID));
    expect(sweep).toMatch(/changed/);
    const schedule = lineWith(sweep, '*/15 * * * *');
    expect(schedule).toContain('0 */2 * * *');
    expect(schedule.indexOf('*/15 * * * *')).toBeLessThan(schedule.indexOf('0 */2 * * *'));
    expect(sweep).toMatch(/every 15 minutes[\s\S]*every 2 hours/i);
    // 96 runs a day before (24 × 4), 12 after (24 / 2); 7 times that a week.
    expect(lineWith(sweep, 'runs a day')).toMatch(/\b96\b.*\b12\b/);
    expect(lineWith(sweep, 'runs a week')).toMatch(/\b672\b.*\b84\b/);
    // The next five fire times after the head commit's date, before then after (UTC).
    const before = nextFireTimes('*/15 * * * *', HEAD_MS, 5, 'UTC');
    const after = nextFireTimes('0 */2 * * *', HEAD_MS, 5, 'UTC');
    expect(before).toHaveLength(5);
    expectInOrder(lineWith(sweep, 'next five'), [...before, ...after].map((t) => wall(t)));
    // Nothing else about the sweep changed.
    expect(sweep).not.toMatch(/command/);

    // The cleanup: its command, old and new.
    const cleanup = md.slice(md.indexOf(CLEANUP_ID), md.indexOf('Generated files'));
    const command = lineWith(cleanup, 'command');
    expectInOrder(command, ['cleanup_stale_tasks.py`', 'cleanup_stale_tasks.py --dry-run`']);
    expect(cleanup).not.toMatch(/schedule/);

    // The unchanged definition is not listed as a change.
    expect(md).not.toContain(`${COMMIT_SYNC_ID}\``);

    // The bytes: a diff fence with the timer's OnCalendar= change, as the compiler writes it.
    const [oldCal, newCal] = [await onCalendar('*/15 * * * *'), await onCalendar('0 */2 * * *')];
    const fences = diffFences(md);
    const timerDiff = fences.find((f) => f.includes(`${SWEEP_ID}.timer`));
    expect(timerDiff, md).toBeDefined();
    for (const l of oldCal) expect(timerDiff!.split('\n')).toContain(`-${l}`);
    for (const l of newCal) expect(timerDiff!.split('\n')).toContain(`+${l}`);
    // crontab and GitHub files changed too (all targets by default), in <details> blocks.
    expect(md).toMatch(/<details>[\s\S]*crontab[\s\S]*<\/details>/);
    expect(fences.some((f) => f.includes(`b/github/${SWEEP_ID}.yml`))).toBe(true);
  });

  it('-t limits the generated files to the targets named; text has no colour when io.color is false', async () => {
    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD', '-t', 'systemd']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`+++ b/systemd/${SWEEP_ID}.timer`);
    expect(r.stdout).not.toMatch(/[ab]\/(crontab|github)\//);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/every 15 minutes[\s\S]*every 2 hours/i);
  });

  it('with colour on, marks and diff lines are coloured', async () => {
    const r = await acoreWith(['diff', '--base', 'HEAD~1', '--head', 'HEAD', '-t', 'systemd'], repo, {}, true);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('\x1b[32m+OnCalendar=');
  });

  it('reads DIR relative to the working directory, from the repository root', async () => {
    const sub = join(repo, 'sub');
    mkdirSync(sub, { recursive: true });
    const r = await diff(sub, ['--base', 'HEAD~1', '--head', 'HEAD', '-d', '../definitions', '-t', 'systemd']);
    expect(r.code).toBe(1);
    expect(lineWith(r.stdout, `${SWEEP_ID} (`)).toMatch(/changed/);
    expect(r.stdout).toContain(`+++ b/systemd/${SWEEP_ID}.timer`);
  });
});

describe('acore diff: added, removed and renamed definitions', () => {
  it('tells them apart (text format)', async () => {
    const repo = repoWithDefinitions();
    // Added: a new definition. Removed: the event one. Renamed: the cleanup moved to a new file.
    write(repo, 'definitions/reports/weekly.yaml', read(repo, CLEANUP).replace(CLEANUP_ID, 'reports.weekly').replace('"0 3 * * *"', '"0 6 * * 1"'));
    git(repo, ['rm', '-q', COMMIT_SYNC]);
    git(repo, ['mv', CLEANUP, 'definitions/cleanup.yaml']);
    commitAll(repo, 'reshuffle', HEAD_DATE);

    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD']);
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).not.toContain('\x1b['); // io.color is false: no ANSI escapes
    expect(lineWith(out, 'reports.weekly')).toMatch(/added/);
    expect(lineWith(out, COMMIT_SYNC_ID)).toMatch(/removed/);
    const renamed = out.slice(out.indexOf(CLEANUP_ID));
    expect(lineWith(renamed, CLEANUP_ID)).toMatch(/renamed/);
    expectInOrder(renamed, [CLEANUP, 'definitions/cleanup.yaml']);
    expect(lineWith(out, 'summary')).toMatch(/1 added.*1 removed.*1 renamed.*1 unchanged/);
    // The added definition is described: Mondays at 06:00 UTC, once a week.
    const added = out.slice(out.indexOf('reports.weekly'), out.indexOf(COMMIT_SYNC_ID));
    expect(lineWith(added, 'runs a week')).toMatch(/\b1\b/);
    for (const t of nextFireTimes('0 6 * * 1', HEAD_MS, 5, 'UTC')) expect(added).toContain(wall(t));
    // The generated files follow: new units for the added one, the old workflow gone.
    expect(out).toContain('+++ b/systemd/reports.weekly.timer');
    expect(out).toContain(`--- a/github/${COMMIT_SYNC_ID}.yml`);
  });

  it('a definition with a new id and nothing else changed is an id rename', async () => {
    const repo = repoWithDefinitions();
    edit(repo, CLEANUP, `id: ${CLEANUP_ID}`, 'id: the-custodian.cleanup');
    commitAll(repo, 'shorter id', HEAD_DATE);
    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'markdown']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/renamed/);
    expectInOrder(lineWith(r.stdout, 'Renamed'), [CLEANUP_ID, 'the-custodian.cleanup']);
    expect(r.stdout).not.toMatch(/: added|: removed/);
  });

  it('a definitions directory missing at the base means every definition is added', async () => {
    const repo = tempDir('acore-diff-');
    git(repo, ['init', '-q', '-b', 'main']);
    write(repo, 'README.md', 'nothing yet\n');
    commitAll(repo, 'start');
    cpSync(join(ROOT, 'definitions'), join(repo, 'definitions'), { recursive: true });
    commitAll(repo, 'definitions', HEAD_DATE);
    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD']);
    expect(r.code).toBe(1);
    for (const id of [SWEEP_ID, CLEANUP_ID, COMMIT_SYNC_ID]) expect(lineWith(r.stdout, `${id} (`)).toMatch(/added/);
  });
});

describe('acore diff: no change, the working tree, usage errors', () => {
  it('exits 0 when nothing changed', async () => {
    const repo = repoWithDefinitions();
    commitAll(repo, 'an empty commit', HEAD_DATE);
    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 unchanged/);
    // A comment-only edit compiles to the same files: still nothing changed.
    edit(repo, SWEEP, '# if a prior run is still active, skip', '# reworded comment');
    const clean = await diff(repo, []);
    expect(clean.code).toBe(0);
  });

  it('compares the working tree (untracked files included) with the merge base by default', async () => {
    const repo = repoWithDefinitions();
    git(repo, ['checkout', '-q', '-b', 'feature']);
    edit(repo, SWEEP, '"*/15 * * * *"', '"*/30 * * * *"');
    commitAll(repo, 'on the branch');
    // Uncommitted: a changed command and an untracked definition.
    edit(repo, CLEANUP, 'scripts/cleanup_stale_tasks.py', 'scripts/cleanup_stale_tasks.py --verbose');
    write(repo, 'definitions/untracked.yaml', read(repo, CLEANUP).replace(CLEANUP_ID, 'demo.untracked'));

    const r = await acoreWith(['diff'], repo, { ACORE_NOW: HEAD_DATE }, false);
    expect(r.code).toBe(1);
    // Base: where feature left main (the first commit), so the branch's own commit counts too.
    expect(r.stdout).toMatch(/merge base of HEAD with main/);
    expect(r.stdout).toMatch(/working tree/);
    expect(lineWith(r.stdout, `${SWEEP_ID} (`)).toMatch(/changed/);
    expect(lineWith(r.stdout, `${CLEANUP_ID} (`)).toMatch(/changed/);
    expect(lineWith(r.stdout, 'demo.untracked (')).toMatch(/added/);
    expect(r.stdout).toContain('--verbose');
    // Fire times from ACORE_NOW.
    for (const t of nextFireTimes('*/30 * * * *', HEAD_MS, 5, 'UTC')) expect(r.stdout).toContain(wall(t));
  });

  it('a bad ref is a usage error (exit 2) with a message, not a stack trace', async () => {
    const repo = repoWithDefinitions();
    const r = await diff(repo, ['--base', 'no-such-branch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-such-branch/);
    expect(r.stdout).toBe('');
    const option = await diff(repo, ['--head', '--output=/tmp/x']);
    expect(option.code).toBe(2);
    const notRepo = await diff(tempDir('acore-norepo-'), []);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toMatch(/git/);
    const badNow = await acoreWith(['diff'], repo, { ACORE_NOW: 'yesterday' }, false);
    expect(badNow.code).toBe(2);
    expect(badNow.stderr).toMatch(/ACORE_NOW/);
  });
});

describe('acore diff: invalid definitions', () => {
  it('invalid YAML at the base is reported with the side named, and exits 1', async () => {
    const repo = repoWithDefinitions();
    const good = read(repo, CLEANUP);
    write(repo, CLEANUP, good.replace('trigger:\n', 'trigger: [\n'));
    commitAll(repo, 'broken');
    write(repo, CLEANUP, good);
    commitAll(repo, 'fixed', HEAD_DATE);

    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'markdown']);
    expect(r.code).toBe(1);
    const report = lineWith(r.stderr, 'invalid');
    expect(report).toMatch(/\bbase\b/);
    expect(report).toContain('HEAD~1');
    expect(r.stderr).toContain(CLEANUP);
    expect(r.stderr).toMatch(/error\[yaml-/);
    expect(r.stderr).not.toMatch(/\bhead\b.*invalid/);
    // The PR comment says so too, and does not pretend to compare generated files.
    expect(r.stdout).toMatch(/Invalid definitions at the base/);
    expect(r.stdout).toContain('error[yaml-');
    expect(r.stdout).not.toMatch(/^\+\+\+ b\//m);
    // The cleanup loaded only at the head; the report says why it may look added.
    expect(r.stdout.slice(r.stdout.indexOf(CLEANUP_ID))).toMatch(/invalid at the base/);
  });
});

describe('acore diff: files git holds that cannot be definitions', () => {
  it('a file that is not UTF-8 or too large is an error on each side that holds it, named on that side', async () => {
    const repo = repoWithDefinitions();
    const latin1 = 'definitions/the-custodian/latin1.yaml';
    const huge = 'definitions/the-custodian/huge.yaml';
    mkdirSync(join(repo, 'definitions/the-custodian'), { recursive: true });
    // Valid YAML in Latin-1: "\xe9" alone is not UTF-8.
    writeFileSync(join(repo, latin1), Buffer.from('id: x.caf\xe9\n', 'latin1'));
    writeFileSync(join(repo, huge), `# ${'x'.repeat(1024 * 1024)}\n`);
    commitAll(repo, 'bad files');
    // The head keeps the Latin-1 file as it is (the same blob) and drops the huge one.
    rmSync(join(repo, huge));
    commitAll(repo, 'one dropped', HEAD_DATE);

    const r = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD']);
    expect(r.code).toBe(1);
    const [baseReport, headReport] = r.stderr.split(/^acore: head /m);
    expect(baseReport).toMatch(/^acore: base \(HEAD~1/);
    expect(baseReport).toMatch(new RegExp(`${latin1}: error\\[io-encoding\\]: not valid UTF-8`));
    expect(baseReport).toMatch(new RegExp(`${huge}: error\\[io-read\\]: file is \\d+ bytes; definitions are limited to 1048576 bytes`));
    expect(headReport).toMatch(/^\(HEAD/);
    expect(headReport).toMatch(new RegExp(`${latin1}: error\\[io-encoding\\]`));
    expect(headReport).not.toContain(huge);
  });
});

// ---------------------------------------------------------------------------------------------
// The words and numbers behind the report

function schedule(expr: string): CronSchedule {
  const p = parseCron(expr);
  if (!p.ok) throw new Error(`${expr}: ${JSON.stringify(p.errors)}`);
  return p.schedule;
}

describe('describe: fire times, rates and words', () => {
  const cases = ['*/15 * * * *', '30 2 * * *', '0 0 L * *', '0 9 15W * *', '0 0 * * 5L', '0 12 * * 1#1', '0 0 */2 * 1', '0 0 1-7 * 1', '15 1 29 2 *', '30 */20 * * * *'];
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
  // Around the 2026 DST changes in both hemispheres.
  const starts = ['2026-03-27T00:00:00Z', '2026-10-24T12:00:00Z', '2026-04-04T10:00:00Z'];

  it('lists the same next fire times as the reference, DST included', () => {
    for (const expr of cases) {
      for (const zone of zones) {
        for (const start of starts) {
          const at = Date.parse(start);
          expect(describeNext(schedule(expr), zone, at, 5), `${expr} ${zone} ${start}`).toEqual(nextFireTimes(expr, at, 5, zone));
        }
      }
    }
  });

  it('counts runs exactly: DST gaps skipped, rates rounded only when inexact', async () => {
    const { countFires } = await import('../src/cli/describe.ts');
    const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
    // Berlin springs forward on 2026-03-29: 02:30 does not exist that day.
    expect(countFires(schedule('30 2 * * *'), 'Europe/Berlin', day('2026-03-28'), 3)).toBe(2);
    // …and falls back on 2026-10-25: 02:30 happens twice but fires once.
    expect(countFires(schedule('30 2 * * *'), 'Europe/Berlin', day('2026-10-24'), 3)).toBe(3);
    expect(countFires(schedule('*/15 * * * *'), 'Europe/Berlin', day('2026-03-29'), 1)).toBe(92);
    expect(countFires(schedule('0 9 * * 1-5'), 'UTC', day('2026-05-04'), 406)).toBe(58 * 5);
    expect(rate(58 * 5, 406 / 7)).toBe('5');
    expect(rate(96 * 406, 406)).toBe('96');
    expect(rate(290, 406)).toBe('≈0.71');
  });

  it('adds precise words where the day rule or L/W/# make cronstrue vague', () => {
    expect(preciseDays(schedule('*/5 * * * *'))).toBeUndefined();
    expect(preciseDays(schedule('0 9 * * 1-5'))).toBeUndefined();
    // Both day fields restricted: either one is enough.
    expect(preciseDays(schedule('0 0 1-7 * 1'))).toMatch(/days 1–7 of the month, or on Monday.*either/);
    // A `*`-started day field counts as unrestricted: both must match.
    expect(preciseDays(schedule('0 0 */2 * 1'))).toMatch(/days 1, 3, 5, …, 31 of the month.* and also Monday.*both must match/);
    expect(preciseDays(schedule('0 9 15W * *'))).toMatch(/weekday .*nearest the 15th.*within|without leaving the month/);
    expect(preciseDays(schedule('0 0 * * 5L'))).toMatch(/last Friday of the month/);
    expect(preciseDays(schedule('0 12 * * 1#1'))).toMatch(/first Monday of the month/);
    expect(preciseDays(schedule('0 0 L-2 * *'))).toMatch(/2 days before the last day of the month/);
    expect(describeCron(schedule('*/15 * * * *'))).toMatch(/every 15 minutes/i);
    expect(describeCron(schedule('0 0 */2 * 1'))).toMatch(/precisely/);
  });
});

describe('SharedWork: the two sides of a diff compiled with shared work', () => {
  const TARGETS = ['systemd', 'crontab', 'github'] as const;

  /** What a compile says, every lazily placed diagnostic read in full. */
  function outcome(r: { artefacts: { target: string; path: string; content: string }[]; diagnostics: unknown[] }) {
    return {
      artefacts: r.artefacts.map((a) => [a.target, a.path, a.content]),
      diagnostics: JSON.parse(JSON.stringify(r.diagnostics)) as unknown,
    };
  }

  it('gives each side exactly what a compile of its own gives, and shares what the sides have alike', async () => {
    const { emit, loadDefinitions, SharedWork } = await import('../src/compiler/compile.ts');
    const { loadTarget, targetOptions } = await import('../src/cli/compile-shared.ts');
    const targets = await Promise.all(TARGETS.map(loadTarget));
    const options = targetOptions({ scope: 'user' });
    const file = (path: string, text = read(ROOT, path)) => ({ path, name: path, text });
    const sweep = read(ROOT, SWEEP);
    const changedSweep = sweep.replace('cron_expression: "*/15 * * * *"', 'cron_expression: "*/20 * * * *"');
    expect(changedSweep).not.toBe(sweep);
    const base = [file(SWEEP), file(CLEANUP), file(COMMIT_SYNC)];
    const heads = {
      // One definition changed (its text, same path), the others alike.
      edited: [file(SWEEP, changedSweep), file(CLEANUP), file(COMMIT_SYNC)],
      // A new file sorts first and takes the id of an unchanged one, which is now the duplicate;
      // and a file that does not parse.
      clash: [file(SWEEP), file(CLEANUP), file(COMMIT_SYNC), file('definitions/a-first.yaml', read(ROOT, CLEANUP)), file('definitions/broken.yaml', 'id: [unclosed\n')],
      // The same text under another name: another source, so other generated headers.
      moved: [file('definitions/moved/sweep.yaml', sweep), file(CLEANUP), file(COMMIT_SYNC)],
    };
    const alone = (files: typeof base) => outcome(emit(loadDefinitions(files), targets, options));
    for (const [name, head] of Object.entries(heads)) {
      const shared = new SharedWork();
      const baseShared = emit(loadDefinitions(base, undefined, shared), targets, options, undefined, { shared });
      const headShared = emit(loadDefinitions(head, undefined, shared), targets, options, undefined, { shared });
      expect(outcome(baseShared), name).toEqual(alone(base));
      expect(outcome(headShared), name).toEqual(alone(head));
      if (name === 'edited') {
        // Work was shared, not merely repeated: the unchanged definitions' files are the same objects.
        const same = headShared.artefacts.filter((a) => baseShared.artefacts.includes(a));
        expect(same.map((a) => a.path)).toEqual(expect.arrayContaining([expect.stringContaining('state-hub-stale-task-cleanup')]));
        expect(same.some((a) => a.path.includes('consistency-sweep'))).toBe(false);
      }
    }
    expect(alone(heads.clash).diagnostics).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'id-duplicate', file: CLEANUP }), expect.objectContaining({ file: 'definitions/broken.yaml', severity: 'error' })]),
    );
  });
});
