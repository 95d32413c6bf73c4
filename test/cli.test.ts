/**
 * The CLI as a user sees it: exit codes, what lands on disk (and what does not), and the few
 * facts of the output a user relies on. Each test builds a small project in a temporary
 * directory and runs `acore` in-process (test/helpers.ts).
 *
 * Ownership and atomicity rules under test are the ones stated in src/cli/output.ts.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, acore, listFiles, readTree, tempDir } from './helpers.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

interface DefOptions {
  cron?: string;
  cmd?: string;
  description?: string;
}

/** A minimal valid definition, shaped like definitions/the-custodian/state-hub-stale-task-cleanup.yaml. */
function def(id: string, o: DefOptions = {}): string {
  return [
    `id: ${id}`,
    `description: ${o.description ?? `Job ${id}.`}`,
    'trigger:',
    '  trigger_type: cron',
    `  cron_expression: "${o.cron ?? '0 3 * * *'}"`,
    '  timezone: UTC',
    'instruction:',
    '  kind: shell',
    `  cmd: ${o.cmd ?? `echo ${id}`}`,
    '',
  ].join('\n');
}

/** A definition with an out-of-range cron minute: error[cron-range] at line 5. */
const BAD = def('demo.bad', { cron: '61 * * * *' });

/** The two units acore generates for one cron definition. */
const unitsOf = (id: string) => [`${id}.service`, `${id}.timer`];

/** The one trigger template every timer starts an instance of (acore-trigger@<id>.service). */
const TEMPLATE = 'acore-trigger@.service';

const MANIFEST = '.acore-manifest.json';

/** Every file of a systemd output directory for these definitions, sorted. */
const filesOf = (...ids: string[]) => [MANIFEST, TEMPLATE, ...ids.flatMap(unitsOf)].sort();

/** A temporary project: `<root>/definitions/<name>` for every entry (nested names allowed). */
function project(defs: Record<string, string | Buffer>): string {
  const root = tempDir('acore-cli-');
  mkdirSync(join(root, 'definitions'), { recursive: true });
  for (const [name, text] of Object.entries(defs)) writeDef(root, name, text);
  return root;
}

function writeDef(root: string, name: string, text: string | Buffer): void {
  const p = join(root, 'definitions', name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
}

/** Runs acore and checks the invariants that hold for every run: no stack trace, no internal error. */
async function run(args: string[], cwd: string): Promise<CliResult> {
  const r = await acore(args, cwd);
  expect(r.stderr, 'a stack trace was printed').not.toMatch(/^ {4}at /m);
  expect(r.stdout, 'a stack trace was printed').not.toMatch(/^ {4}at /m);
  expect(r.code, `internal error:\n${r.stderr}`).not.toBe(70);
  return r;
}

/** `acore compile --target systemd -d definitions -o out` (plus extra args) in a project. */
const compile = (root: string, ...extra: string[]) => run(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'out', ...extra], root);
const check = (root: string, ...extra: string[]) => compile(root, '--check', ...extra);

interface FileState {
  content: string;
  mtimeMs: number;
  ino: number;
}

/** Content, mtime and inode of every file below a directory (dotfiles included). */
function snapshot(dir: string): Record<string, FileState> {
  return Object.fromEntries(
    listFiles(dir).map((f) => {
      const st = statSync(join(dir, f));
      return [f, { content: readFileSync(join(dir, f), 'utf8'), mtimeMs: st.mtimeMs, ino: st.ino }];
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two definitions compiled into out/, and a unit of the operator's own (`name`) put beside them. */
async function compiledBesideOwnUnit(name: string): Promise<{ root: string; out: string }> {
  const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
  const out = join(root, 'out');
  expect((await compile(root)).code).toBe(0);
  writeFileSync(join(out, name), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
  return { root, out };
}


const noTempFiles = (dir: string) => expect(listFiles(dir).filter((f) => f.includes('acore-tmp'))).toEqual([]);

const readManifest = (out: string) => JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as { generator: string; target: string; files: Record<string, string> };

// ---------------------------------------------------------------------------------------------

describe('exit codes', () => {
  it('0 on a successful compile', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(listFiles(join(root, 'out'))).toEqual(filesOf('demo.alpha'));
  });

  it('1 on invalid definitions (compile), reported as file:line:col: error[code]', async () => {
    const root = project({ 'bad.yaml': BAD });
    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^definitions\/bad\.yaml:5:\d+: error\[[a-z-]+\]/m);
    expect(r.stderr).toContain('nothing was written');
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  const usage: [string, string[]][] = [
    ['unknown command', ['frobnicate']],
    ['unknown option', ['compile', '--target', 'systemd', '--frobnicate']],
    ['missing --target', ['compile']],
    ['bad --target value', ['compile', '--target', 'launchd']],
    ['a list with one unknown target', ['compile', '--target', 'crontab,launchd']],
    ['bad --scope value', ['compile', '--target', 'systemd', '--scope', 'global']],
    ['unknown option on validate', ['validate', '--frobnicate']],
  ];
  it.each(usage)('2 on a usage error: %s (and nothing is written)', async (_name, args) => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await run(args, root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error/i);
    expect(r.stderr).toContain('--help');
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  // Commander reports a missing command as an error (help on stderr, its exit code 1), and
  // main.ts even spells out `argv.length === 0 ? EXIT.usage : …`, but maps 'commander.help' to 0.
  it('2 when no command is given at all (help goes to stderr)', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await run([], root);
    expect(r.stderr).toContain('Usage:');
    expect(r.code).toBe(2);
  });

  it.each([[['--help']], [['-h']], [['compile', '--help']], [['validate', '--help']], [['help', 'compile']]])('0 for %j, with usage on stdout', async (args) => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await run(args, root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage:');
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  it.each([[['--version']], [['-V']]])('0 for %j, printing the package version', async (args) => {
    const root = project({});
    const r = await run(args, root);
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('validate', () => {
  it('valid definitions → 0, says how many, writes nothing', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const r = await run(['validate', '-d', 'definitions'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\b2 definitions\b/);
    expect(listFiles(root)).toEqual(['definitions/a.yaml', 'definitions/b.yaml']);
  });

  it('uses ./definitions by default', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await run(['validate'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\b1 definition\b/);
  });

  it('invalid definitions → 1 with a file:line:col: error[code] line for each problem', async () => {
    const root = project({
      'a.yaml': def('demo.alpha'),
      'bad.yaml': BAD,
      'typo.yaml': def('demo.typo').replace('cron_expression', 'cron_expresion'),
    });
    const r = await run(['validate', '-d', 'definitions'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^definitions\/bad\.yaml:5:\d+: error\[[a-z-]+\]: /m);
    expect(r.stderr).toMatch(/^definitions\/typo\.yaml:5:3: error\[[a-z-]+\]: .*cron_expresion/m);
    // (a.yaml may get warnings about targets that approximate it, never an error)
    expect(r.stderr).not.toMatch(/^definitions\/a\.yaml:\d+:\d+: error/m);
  });

  it('a missing definitions directory → 1 with a message naming it', async () => {
    const root = tempDir('acore-cli-');
    const r = await run(['validate', '-d', 'no-such-dir'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no-such-dir');
    expect(r.stderr).toMatch(/does not exist|not found|no such/i);
  });

  it('an empty definitions directory → 0 with a warning: no jobs', async () => {
    const root = project({});
    const r = await run(['validate', '-d', 'definitions'], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning\[no-definitions\]: no \*\.yaml or \*\.yml files in definitions/);
    expect(r.stdout).toContain('0 definitions valid (1 warning)');
  });

  it('a definitions path that is a file → 1, no stack trace', async () => {
    const root = project({});
    writeFileSync(join(root, 'defs.yaml'), def('demo.alpha'));
    const r = await run(['validate', '-d', 'defs.yaml'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not a directory');
  });
});

describe('validate FILE…: only the files (or directories) named, as an editor or a commit hook passes them', () => {
  it('checks those files, with the same diagnostics as a whole-directory validate gives them', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'team/bad.yaml': BAD, 'team/ok.yaml': def('demo.ok'), 'other.yaml': def('demo.other') });
    const whole = await run(['validate', '-d', 'definitions'], root);
    const some = await run(['validate', 'definitions/team/bad.yaml', 'definitions/a.yaml'], root);
    expect(some.code).toBe(1);
    const errorLines = (t: string) => t.split('\n').filter((l) => /^\S+:\d+:\d+: error\[/.test(l));
    const badLines = errorLines(some.stderr);
    expect(badLines.length).toBeGreaterThan(0);
    expect(badLines.every((l) => l.startsWith('definitions/team/bad.yaml:'))).toBe(true);
    expect(badLines).toEqual(errorLines(whole.stderr).filter((l) => l.startsWith('definitions/team/bad.yaml:')));
    // Files not named are not read: other.yaml could be anything.
    writeFileSync(join(root, 'definitions', 'other.yaml'), BAD);
    const good = await run(['validate', 'definitions/a.yaml', 'definitions/team/ok.yaml', './definitions/a.yaml'], root);
    expect(good.stderr).not.toMatch(/error/);
    expect(good.code).toBe(0);
    // Each file once, however it is named.
    expect(good.stdout).toMatch(/^2 definitions valid/);
  });

  it('a directory is walked like the definitions directory; a file outside it and any extension are checked', async () => {
    const root = project({ 'team/x.yaml': def('demo.x'), 'team/y.yml': def('demo.y'), 'team/.hidden.yaml': BAD, 'team/notes.txt': 'not yaml: [' });
    writeFileSync(join(root, 'elsewhere.definition'), def('demo.elsewhere'));
    const r = await run(['validate', 'definitions/team', 'elsewhere.definition'], root);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^3 definitions valid/);
  });

  it('an id two of the named files share is reported; a missing file is an error naming it', async () => {
    const root = project({ 'a.yaml': def('demo.same'), 'b.yaml': def('demo.same') });
    const dup = await run(['validate', 'definitions/a.yaml', 'definitions/b.yaml'], root);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^definitions\/b\.yaml:\d+:\d+: error\[id-duplicate\]/m);
    const missing = await run(['validate', 'definitions/a.yaml', 'definitions/gone.yaml'], root);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^definitions\/gone\.yaml: error\[io-read\]: does not exist/m);
  });
});

describe('many warnings alike', () => {
  // Without a time zone, github warns for each definition that it reads the schedule in UTC.
  const zoneless = (id: string) => def(id).replace('  timezone: UTC\n', '');
  const WARNING = /^definitions\/(\w)\.yaml:(\d+):(\d+): warning\[target-approximated\]: github approximates no trigger\.timezone/gm;
  const shown = (stderr: string) => [...stderr.matchAll(WARNING)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
  // It points at the cron expression (read in UTC): line and column from the text itself.
  const cronAt = (() => {
    const lines = zoneless('demo.x').split('\n');
    const i = lines.findIndex((l) => l.trimStart().startsWith('cron_expression:'));
    return `${i + 1}:${lines[i]!.indexOf('"') + 1}`;
  })();
  const seven = () => project(Object.fromEntries([...'abcdefg'].map((c) => [`${c}.yaml`, zoneless(`demo.${c}`)])));

  it('compile prints the first three (in file order, at their places) and counts the rest', async () => {
    const root = seven();
    const r = await run(['compile', '--target', 'github', '-d', 'definitions', '-o', 'out'], root);
    expect(r.code).toBe(0);
    expect(shown(r.stderr)).toEqual(['a', 'b', 'c'].map((c) => `${c}:${cronAt}`));
    // Two kinds of warning (no time zone; misfire_policy: skip), each counted on its own.
    expect(r.stderr.match(/= note: .*/g)).toEqual(Array(2).fill('= note: 4 more warnings like this one not shown (--all-warnings prints every one)'));
    expect(listFiles(join(root, 'out')).filter((f) => f.endsWith('.yml'))).toHaveLength(7);
  });

  it('--all-warnings prints every one, in order', async () => {
    const root = seven();
    const r = await run(['compile', '--target', 'github', '-d', 'definitions', '-o', 'out', '--all-warnings'], root);
    expect(r.code).toBe(0);
    expect(shown(r.stderr)).toEqual([...'abcdefg'].map((c) => `${c}:${cronAt}`));
    expect(r.stderr).not.toContain('= note:');
    const v = await run(['validate', '--target', 'github', '-d', 'definitions', '--all-warnings'], root);
    expect(shown(v.stderr)).toHaveLength(7);
    // (each also gets another warning, misfire_policy: skip)
    expect(v.stdout).toContain('7 definitions valid (14 warnings)');
  });

  it('validate counts the same way; the summary still counts every warning', async () => {
    const root = seven();
    const r = await run(['validate', '--target', 'github', '-d', 'definitions'], root);
    expect(r.code).toBe(0);
    expect(shown(r.stderr)).toHaveLength(3);
    expect(r.stderr).toContain('= note: 4 more warnings like this one not shown');
    expect(r.stdout).toContain('7 definitions valid (14 warnings)');
  });

  it('exactly three alike: all three, and no note', async () => {
    const root = project(Object.fromEntries([...'abc'].map((c) => [`${c}.yaml`, zoneless(`demo.${c}`)])));
    const r = await run(['validate', '--target', 'github', '-d', 'definitions'], root);
    expect(shown(r.stderr)).toHaveLength(3);
    expect(r.stderr).not.toContain('= note:');
    expect(r.stdout).toContain('3 definitions valid (6 warnings)');
  });

  it('every error is printed, however many are alike', async () => {
    const root = project(Object.fromEntries([...'abcdefg'].map((c) => [`${c}.yaml`, def(`demo.${c}`, { cron: '61 * * * *' })])));
    const r = await run(['validate', '-d', 'definitions'], root);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/^definitions\/\w\.yaml:5:\d+: error\[cron-range\]/gm)).toHaveLength(7);
    expect(r.stderr).not.toContain('= note:');
  });
});

describe('all or nothing', () => {
  it('one good and one bad definition → 1 and the out dir is not created', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'bad.yaml': BAD });
    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing was written');
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  it('one good and one bad definition → 1 and an existing out dir is byte-identical, no temp files', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    expect((await compile(root)).code).toBe(0);
    const out = join(root, 'out');
    writeFileSync(join(out, 'hand.service'), '[Service]\nExecStart=/bin/true\n');
    const before = snapshot(out);
    const dirMtime = statSync(out).mtimeMs;
    await sleep(20);

    // The good definition changes (would update its files); a new bad one appears.
    writeDef(root, 'a.yaml', def('demo.alpha', { cmd: 'echo changed' }));
    writeDef(root, 'bad.yaml', BAD);
    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing was written');
    expect(snapshot(out)).toEqual(before);
    expect(statSync(out).mtimeMs).toBe(dirMtime);
    noTempFiles(out);
  });
});

describe('unchanged input', () => {
  it('a second compile reports 0 created / 0 updated and touches no file (mtime and inode)', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    const first = await compile(root);
    expect(first.code).toBe(0);
    // Two units per definition and the shared trigger template.
    expect(first.stdout).toMatch(/\b5 created\b/);
    const before = snapshot(out);
    const dirMtime = statSync(out).mtimeMs;
    await sleep(20);

    const second = await compile(root);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/\b0 created\b/);
    expect(second.stdout).toMatch(/\b0 updated\b/);
    expect(second.stdout).toMatch(/\b0 removed\b/);
    expect(snapshot(out)).toEqual(before);
    expect(statSync(out).mtimeMs).toBe(dirMtime);
  });

  it('changing one definition rewrites only its files', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    const before = snapshot(out);
    await sleep(20);

    writeDef(root, 'b.yaml', def('demo.beta', { cmd: 'echo changed' }));
    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\b0 created\b/);
    expect(r.stdout).not.toMatch(/\b0 updated\b/);
    const after = snapshot(out);

    const changed = Object.keys(after).filter((f) => after[f]!.mtimeMs !== before[f]!.mtimeMs || after[f]!.ino !== before[f]!.ino);
    expect(changed.length).toBeGreaterThan(0);
    for (const f of changed) expect([...unitsOf('demo.beta'), MANIFEST]).toContain(f);
    for (const f of [...unitsOf('demo.alpha'), TEMPLATE]) expect(after[f]).toEqual(before[f]);
    expect(after['demo.beta.service']!.content).toContain('echo changed');
    // Exactly the rewritten units are reported as updated.
    for (const f of changed.filter((f) => f !== MANIFEST)) expect(r.stdout).toContain(`updated ${join('out', f)}`);
    expect(r.stdout).not.toContain('demo.alpha');
  });
});

describe('orphans', () => {
  it('removing a definition removes its generated files, keeps the others, and drops them from the manifest', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    expect(Object.keys(readManifest(out).files).sort()).toEqual([TEMPLATE, ...unitsOf('demo.alpha'), ...unitsOf('demo.beta')].sort());
    const before = snapshot(out);
    await sleep(20);

    rmSync(join(root, 'definitions', 'b.yaml'));
    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\b2 removed\b/);
    expect(listFiles(out)).toEqual(filesOf('demo.alpha'));
    const after = snapshot(out);
    // The shared trigger template stays, untouched, for the timers that are left.
    for (const f of [...unitsOf('demo.alpha'), TEMPLATE]) expect(after[f]).toEqual(before[f]);
    expect(Object.keys(readManifest(out).files).sort()).toEqual([TEMPLATE, ...unitsOf('demo.alpha')].sort());
    noTempFiles(out);
  });

  it('removing the last definition for systemd removes the shared trigger template too', async () => {
    // A hand-written template of the operator's own in the same directory stays.
    const { root, out } = await compiledBesideOwnUnit('mine@.service');
    // The last one is disabled (deleting it too: next test).
    rmSync(join(root, 'definitions', 'b.yaml'));
    writeDef(root, 'a.yaml', `${def('demo.alpha')}enabled: false\n`);
    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`removed ${join('out', TEMPLATE)}`);
    expect(listFiles(out)).toEqual([MANIFEST, 'mine@.service']);
    expect(readManifest(out).files).toEqual({});
    expect((await check(root)).code).toBe(0);
    noTempFiles(out);
  });
});

describe('no definitions left', () => {
  it('deleting every definition and compiling removes every file acore generated, nothing else', async () => {
    const { root, out } = await compiledBesideOwnUnit('mine.service');
    rmSync(join(root, 'definitions', 'a.yaml'));
    rmSync(join(root, 'definitions', 'b.yaml'));
    const r = await compile(root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning[no-definitions]');
    expect(r.stdout).toMatch(/\b5 removed\b/);
    expect(listFiles(out)).toEqual([MANIFEST, 'mine.service']);
    expect(readManifest(out).files).toEqual({});
    expect((await check(root)).code).toBe(0);
    noTempFiles(out);
  });

  it('a definitions directory that does not exist is still an error, and nothing is removed', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    const before = listFiles(out);
    rmSync(join(root, 'definitions'), { recursive: true });
    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not exist');
    expect(listFiles(out)).toEqual(before);
  });
});

describe('ownership', () => {
  it('a hand-written file without the acore header stays untouched across compiles (and orphan removal)', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    mkdirSync(out);
    const hand = '[Unit]\nDescription=mine\n\n[Service]\nExecStart=/bin/true\n';
    writeFileSync(join(out, 'x.service'), hand);
    const st = statSync(join(out, 'x.service'));
    await sleep(20);

    expect((await compile(root)).code).toBe(0);
    writeDef(root, 'a.yaml', def('demo.alpha', { cmd: 'echo changed' }));
    expect((await compile(root)).code).toBe(0);
    rmSync(join(root, 'definitions', 'b.yaml'));
    expect((await compile(root)).code).toBe(0);

    expect(readFileSync(join(out, 'x.service'), 'utf8')).toBe(hand);
    const st2 = statSync(join(out, 'x.service'));
    expect([st2.mtimeMs, st2.ino]).toEqual([st.mtimeMs, st.ino]);
    expect(Object.keys(readManifest(out).files)).not.toContain('x.service');
  });

  it('a hand-written file at a path acore wants → 1, "nothing was written", file unchanged, no other file written', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    mkdirSync(out);
    const hand = '[Timer]\nOnCalendar=daily\n';
    writeFileSync(join(out, 'demo.alpha.timer'), hand);
    const before = snapshot(out);

    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('demo.alpha.timer');
    expect(r.stderr).toContain('nothing was written');
    expect(listFiles(out)).toEqual(['demo.alpha.timer']);
    expect(snapshot(out)).toEqual(before);
  });

  it('… and with --force it is replaced (and then owned by acore)', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'demo.alpha.timer'), '[Timer]\nOnCalendar=daily\n');

    const r = await compile(root, '--force');
    expect(r.code).toBe(0);
    expect(listFiles(out)).toEqual(filesOf('demo.alpha'));
    expect(readFileSync(join(out, 'demo.alpha.timer'), 'utf8')).toMatch(/^# Generated by acore/);
    expect(readFileSync(join(out, 'demo.alpha.timer'), 'utf8')).toContain('OnCalendar=*-*-* 03:00:00 UTC');
    // Now ours: a plain compile is clean.
    expect((await compile(root)).code).toBe(0);
    expect((await check(root)).code).toBe(0);
  });

  it('a generated file edited by hand → the next compile refuses (1) and changes nothing; --force replaces it', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    const generated = readFileSync(join(out, 'demo.alpha.timer'), 'utf8');
    const edited = generated.replace('03:00:00', '04:00:00');
    expect(edited).not.toBe(generated);
    writeFileSync(join(out, 'demo.alpha.timer'), edited);
    // Another definition changes at the same time: its update must not happen either.
    writeDef(root, 'b.yaml', def('demo.beta', { cmd: 'echo changed' }));
    const before = snapshot(out);
    await sleep(20);

    const refused = await compile(root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('demo.alpha.timer');
    expect(refused.stderr).toMatch(/edited/);
    expect(refused.stderr).toContain('nothing was written');
    expect(snapshot(out)).toEqual(before);
    noTempFiles(out);

    const forced = await compile(root, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'demo.alpha.timer'), 'utf8')).toBe(generated);
    expect(readFileSync(join(out, 'demo.beta.service'), 'utf8')).toContain('echo changed');
    expect((await check(root)).code).toBe(0);
  });

  it('an edited generated file whose definition was deleted is left in place and mentioned', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    const edited = `${readFileSync(join(out, 'demo.beta.timer'), 'utf8')}# my note\n`;
    writeFileSync(join(out, 'demo.beta.timer'), edited);

    rmSync(join(root, 'definitions', 'b.yaml'));
    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('demo.beta.timer');
    expect(readFileSync(join(out, 'demo.beta.timer'), 'utf8')).toBe(edited);
    // The unedited orphans are gone.
    expect(listFiles(out)).toEqual([...filesOf('demo.alpha'), 'demo.beta.timer'].sort());
    noTempFiles(out);
  });
});

describe('symlinks', () => {
  it('a symlink at a target path → 1, the link and the file it points to are unchanged', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    mkdirSync(out);
    const elsewhere = join(root, 'elsewhere.timer');
    writeFileSync(elsewhere, 'precious\n');
    symlinkSync(elsewhere, join(out, 'demo.alpha.timer'));

    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('demo.alpha.timer');
    expect(r.stderr).toMatch(/symbolic link|symlink/);
    expect(readFileSync(elsewhere, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(out, 'demo.alpha.timer')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(out, 'demo.alpha.timer'))).toBe(elsewhere);
    expect(listFiles(out)).toEqual(['demo.alpha.timer']);
  });

  it('… with --force the link itself is replaced, never the file it points to', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    mkdirSync(out);
    const elsewhere = join(root, 'elsewhere.timer');
    writeFileSync(elsewhere, 'precious\n');
    symlinkSync(elsewhere, join(out, 'demo.alpha.timer'));

    const r = await compile(root, '--force');
    expect(r.code).toBe(0);
    expect(readFileSync(elsewhere, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(out, 'demo.alpha.timer')).isFile()).toBe(true);
    expect(readFileSync(join(out, 'demo.alpha.timer'), 'utf8')).toMatch(/^# Generated by acore/);
  });

  it('the out dir being a symlink to a real directory works (and stays a symlink)', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const real = join(root, 'real-units');
    mkdirSync(real);
    symlinkSync(real, join(root, 'out'));

    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(lstatSync(join(root, 'out')).isSymbolicLink()).toBe(true);
    expect(listFiles(real)).toEqual(filesOf('demo.alpha'));
    const before = snapshot(real);
    await sleep(20);
    const again = await compile(root);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\b0 created\b/);
    expect(snapshot(real)).toEqual(before);
    expect((await check(root)).code).toBe(0);
  });
});

describe('out directory in the way', () => {
  it('a file where the out directory should be → 1 with a clear message, file unchanged', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    writeFileSync(join(root, 'out'), 'not a dir\n');
    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a directory/i);
    expect(r.stderr).toContain('out');
    expect(readFileSync(join(root, 'out'), 'utf8')).toBe('not a dir\n');
    expect(listFiles(root)).toEqual(['definitions/a.yaml', 'out']);
  });

  it('a file where a parent of the out directory should be → 1 with a clear message, file unchanged', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    writeFileSync(join(root, 'parent'), 'not a dir\n');
    const r = await run(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'parent/systemd'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a directory/i);
    expect(readFileSync(join(root, 'parent'), 'utf8')).toBe('not a dir\n');
    expect(listFiles(root)).toEqual(['definitions/a.yaml', 'parent']);
  });
});

describe('--check', () => {
  it('on a fresh out dir → 1 listing the missing files, and creates nothing', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await check(root);
    expect(r.code).toBe(1);
    for (const f of [TEMPLATE, ...unitsOf('demo.alpha')]) expect(r.stdout).toContain(join('out', f));
    expect(r.stdout).toMatch(/missing/);
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  it('after compile → 0 "up to date"', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    expect((await compile(root)).code).toBe(0);
    const r = await check(root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('up to date');
  });

  it('after hand-editing a generated file → 1 with a unified diff containing the changed line', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    const timer = join(out, 'demo.alpha.timer');
    writeFileSync(timer, readFileSync(timer, 'utf8').replace('OnCalendar=*-*-* 03:00:00 UTC', 'OnCalendar=*-*-* 04:00:00 UTC'));

    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('demo.alpha.timer');
    // A unified diff: a hunk header, the edited line on one side and the compiled one on the other.
    expect(r.stdout).toMatch(/^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/m);
    expect(r.stdout).toMatch(/^-OnCalendar=\*-\*-\* 04:00:00 UTC$/m);
    expect(r.stdout).toMatch(/^\+OnCalendar=\*-\*-\* 03:00:00 UTC$/m);
  });

  it('after a definition changed → 1 with a unified diff of the stale file', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    expect((await compile(root)).code).toBe(0);
    writeDef(root, 'a.yaml', def('demo.alpha', { cron: '0 4 * * *' }));
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('demo.alpha.timer');
    expect(r.stdout).toMatch(/^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/m);
    expect(r.stdout).toMatch(/^-OnCalendar=\*-\*-\* 03:00:00 UTC$/m);
    expect(r.stdout).toMatch(/^\+OnCalendar=\*-\*-\* 04:00:00 UTC$/m);
  });

  it('after deleting a definition → 1 naming the orphaned files', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    expect((await compile(root)).code).toBe(0);
    rmSync(join(root, 'definitions', 'b.yaml'));
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/orphan/);
    for (const f of unitsOf('demo.beta')) expect(r.stdout).toContain(join('out', f));
    expect(listFiles(join(root, 'out'))).toContain('demo.beta.timer');
  });

  it('never writes: listing, contents, mtimes and inodes unchanged, even with drift of every kind and --force', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'b.yaml': def('demo.beta') });
    const out = join(root, 'out');
    expect((await compile(root)).code).toBe(0);
    // stale (definition changed), edited, missing, orphaned, and a new definition.
    writeDef(root, 'a.yaml', def('demo.alpha', { cmd: 'echo changed' }));
    writeFileSync(join(out, 'demo.alpha.timer'), `${readFileSync(join(out, 'demo.alpha.timer'), 'utf8')}# edit\n`);
    rmSync(join(out, TEMPLATE));
    rmSync(join(root, 'definitions', 'b.yaml'));
    writeDef(root, 'c.yaml', def('demo.gamma'));
    const before = snapshot(out);
    const dirMtime = statSync(out).mtimeMs;
    await sleep(20);

    const r = await check(root);
    expect(r.code).toBe(1);
    expect((await check(root, '--force')).code).toBe(1);
    expect(snapshot(out)).toEqual(before);
    expect(statSync(out).mtimeMs).toBe(dirMtime);
  });
});

describe('default paths', () => {
  it('cwd with definitions/ and no --definitions/--out → writes out/systemd/', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const r = await run(['compile', '--target', 'systemd'], root);
    expect(r.code).toBe(0);
    expect(listFiles(root)).toEqual(['definitions/a.yaml', ...filesOf('demo.alpha').map((f) => `out/systemd/${f}`)]);
    expect(r.stdout).toContain(join('out', 'systemd'));
    const c = await run(['compile', '--target', 'systemd', '--check'], root);
    expect(c.code).toBe(0);
  });
});

describe('reading the definitions directory', () => {
  it('hidden files and directories are skipped, .yml is accepted, nested directories are found', async () => {
    const root = project({
      'a.yaml': def('demo.alpha'),
      'b.yml': def('demo.beta'),
      'team/ops/c.yaml': def('demo.gamma'),
      // Hidden: would be errors (or duplicates) if they were read.
      '.draft.yaml': BAD,
      '.git/config.yaml': 'this: [is not valid',
      '.hidden/d.yaml': def('demo.alpha'),
      'team/.wip.yml': BAD,
      'notes.txt': 'not yaml: [',
    });
    const v = await run(['validate', '-d', 'definitions'], root);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/\b3 definitions\b/);

    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(listFiles(join(root, 'out'))).toEqual(filesOf('demo.alpha', 'demo.beta', 'demo.gamma'));
  });

  it('a directory named x.yaml is not read as a file', async () => {
    const root = project({ 'a.yaml': def('demo.alpha'), 'x.yaml/README': 'a directory, not a definition\n' });
    const r = await compile(root);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/error\[/);
    expect(listFiles(join(root, 'out'))).toEqual(filesOf('demo.alpha'));
  });

  it('a non-UTF-8 definition file → 1 with an io-encoding error at file:line:col, nothing written', async () => {
    const root = project({
      'a.yaml': def('demo.alpha'),
      // "Café" in Latin-1: the é is the lone byte 0xe9 on line 2.
      'latin1.yaml': Buffer.from(def('demo.latin1', { description: 'Café' }), 'latin1'),
    });
    const v = await run(['validate', '-d', 'definitions'], root);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/^definitions\/latin1\.yaml:2:\d+: error\[io-encoding\]/m);

    const r = await compile(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[io-encoding\]/);
    expect(existsSync(join(root, 'out'))).toBe(false);
  });
});

describe('--scope', () => {
  const trigger = (out: string) => readFileSync(join(out, TEMPLATE), 'utf8');
  const timerUnit = (out: string) => /^Unit=(.*)$/m.exec(readFileSync(join(out, 'demo.alpha.timer'), 'utf8'))?.[1];

  it('default (user) scope: the timer starts its trigger instance, whose template calls `systemctl --user start`', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    expect((await compile(root)).code).toBe(0);
    expect(timerUnit(join(root, 'out'))).toBe('acore-trigger@demo.alpha.service');
    expect(trigger(join(root, 'out'))).toMatch(/^ExecStart=systemctl --user start --no-block %i\.service$/m);
  });

  it('--scope system: the trigger template calls `systemctl start` without --user', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    expect((await compile(root, '--scope', 'system')).code).toBe(0);
    const text = trigger(join(root, 'out'));
    expect(timerUnit(join(root, 'out'))).toBe('acore-trigger@demo.alpha.service');
    expect(text).toMatch(/^ExecStart=systemctl start --no-block %i\.service$/m);
    expect(text).not.toContain('--user');
  });

  it('switching scope updates the existing generated files in place', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    expect((await compile(root)).code).toBe(0);
    const r = await compile(root, '--scope', 'system');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`updated ${join('out', TEMPLATE)}`);
    expect(trigger(join(root, 'out'))).not.toContain('--user');
  });
});

describe('beyond the brief', () => {
  // planOutput records a conflict for a directory at a wanted path, but with --force adds no
  // change for it; applyPlan then writes the other files and a manifest that claims the timer.
  it('--force with a directory where a unit file should go → 1 and nothing written (all or nothing)', async () => {
    const root = project({ 'a.yaml': def('demo.alpha') });
    const out = join(root, 'out');
    mkdirSync(join(out, 'demo.alpha.timer'), { recursive: true });
    const r = await compile(root, '--force');
    expect(r.stderr).toContain('demo.alpha.timer');
    expect(r.code).toBe(1);
    expect(readTree(out)).toEqual({});
  });
});

describe('install: systemctl commands for a fleet', () => {
  it('groups timers in order, at most 1,000 per command and well under the argument limit, none empty', async () => {
    const { chunks } = await import('../src/cli/install-command.ts');
    const names = Array.from({ length: 2500 }, (_, i) => `fleet.t${i}.timer`);
    const groups = chunks(names);
    expect(groups.map((g) => g.length)).toEqual([1000, 1000, 500]);
    expect(groups.flat()).toEqual(names);
    expect(chunks([])).toEqual([]);
    // Long names: the byte limit cuts first (each name counts its length and a separator).
    const long = Array.from({ length: 10 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(96)}`);
    const byBytes = chunks(long, 1000, 350);
    expect(byBytes.map((g) => g.length)).toEqual([3, 3, 3, 1]);
    expect(byBytes.flat()).toEqual(long);
    for (const g of byBytes) expect(g.reduce((n, u) => n + u.length + 1, 0)).toBeLessThanOrEqual(350);
    // A single name longer than the limit still gets its command.
    expect(chunks(['y'.repeat(500)], 1000, 350)).toEqual([['y'.repeat(500)]]);
  });
});
