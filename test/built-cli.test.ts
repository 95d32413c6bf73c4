/**
 * The built CLI as users run it (node bin/acore.js → dist/acore.cjs with its code cache):
 * the no-change fast path, which only the built CLI takes (src/cli/incremental.ts), and output
 * straight to the file descriptors (src/cli/main.ts).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acore, listFiles, readTree, ROOT, tempDir } from './helpers.ts';

const BIN = join(ROOT, 'bin', 'acore.js');

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'acore.cjs'))) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  }
}, 120_000);

function run(args: string[], cwd: string, cache: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, XDG_CACHE_HOME: cache } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const definition = (id: string, hour: number) =>
  [`id: ${id}`, 'trigger:', '  trigger_type: cron', `  cron_expression: "0 ${hour} * * *"`, '  timezone: UTC', 'instruction:', '  kind: shell', `  cmd: echo ${id}`, ''].join('\n');

describe('no-change fast path (built CLI)', () => {
  const NOTHING = /is as the last compile left it, from the same \d+ definition files?: nothing to do/;

  function project() {
    const root = tempDir('acore-fast-');
    const cache = join(root, '.cache');
    mkdirSync(join(root, 'definitions'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition('fast.a', 3));
    writeFileSync(join(root, 'definitions', 'b.yaml'), definition('fast.b', 4));
    const compile = (...extra: string[]) => run(['compile', '--target', 'systemd', ...extra], root, cache);
    const first = compile();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('5 created');
    return { root, cache, compile, unit: join(root, 'out', 'systemd', 'fast.a.service') };
  }

  it('a second compile of the same definitions reads and writes nothing', () => {
    const { compile, unit } = project();
    const before = statSync(unit);
    const again = compile();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(NOTHING);
    expect(again.stdout).toContain('from the same 2 definition files');
    expect(statSync(unit).mtimeMs).toBe(before.mtimeMs);
    expect(statSync(unit).ino).toBe(before.ino);
  });

  it('a same-sized edit of a definition with its mtime put back is still compiled (ctime)', () => {
    const { root, compile, unit } = project();
    const file = join(root, 'definitions', 'a.yaml');
    const ref = join(root, 'a.ref');
    expect(spawnSync('cp', ['-p', file, ref]).status).toBe(0);
    const st = statSync(file, { bigint: true });
    writeFileSync(file, definition('fast.a', 5)); // hour 3 → 5: same size
    expect(spawnSync('touch', ['-r', ref, file]).status).toBe(0); // the mtime put back, to the nanosecond
    const now = statSync(file, { bigint: true });
    expect(now.size).toBe(st.size);
    expect(now.mtimeNs).toBe(st.mtimeNs);
    expect(now.ctimeNs).not.toBe(st.ctimeNs);
    const r = compile();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(NOTHING);
    expect(readFileSync(join(root, 'out', 'systemd', 'fast.a.timer'), 'utf8')).toContain('OnCalendar=*-*-* 05:00:00 UTC');
    expect(readFileSync(unit, 'utf8')).toContain('echo fast.a');
  });

  it('an added or removed definition, or other options, take the full path', () => {
    const { root, compile } = project();
    writeFileSync(join(root, 'definitions', 'c.yaml'), definition('fast.c', 6));
    const added = compile();
    expect(added.stdout).not.toMatch(NOTHING);
    expect(existsSync(join(root, 'out', 'systemd', 'fast.c.timer'))).toBe(true);
    expect(compile().stdout).toMatch(NOTHING);
    rmSync(join(root, 'definitions', 'c.yaml'));
    const removed = compile();
    expect(removed.stdout).not.toMatch(NOTHING);
    expect(existsSync(join(root, 'out', 'systemd', 'fast.c.timer'))).toBe(false);
    const system = compile('--scope', 'system');
    expect(system.stdout).not.toMatch(NOTHING);
    expect(system.stdout).toContain('updated');
  });

  it('a generated file that was edited, touched or removed is noticed', () => {
    const { root, compile, unit } = project();
    appendFileSync(unit, '# a local change\n');
    const edited = compile();
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('output-conflict');
    writeFileSync(unit, readFileSync(unit, 'utf8').replace('# a local change\n', ''));
    // The same bytes again, but a new mtime: the full path finds it unchanged and remembers it.
    const touched = compile();
    expect(touched.code, touched.stderr).toBe(0);
    expect(touched.stdout).not.toMatch(NOTHING);
    expect(compile().stdout).toMatch(NOTHING);
    rmSync(join(root, 'out', 'systemd', 'fast.b.timer'));
    const missing = compile();
    expect(missing.stdout).toContain('created out/systemd/fast.b.timer');
  });

  it('after one definition changed, files the last compile left as they were are not read, and an edited one is still found', () => {
    const { root, compile, unit } = project();
    const other = join(root, 'out', 'systemd', 'fast.b.service');
    const before = statSync(other);
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition('fast.a', 7));
    const changed = compile();
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('updated out/systemd/fast.a.timer');
    expect(changed.stdout).toContain('1 updated, 0 removed, 4 unchanged');
    expect(statSync(other).mtimeMs).toBe(before.mtimeMs);
    // A hand edit of a file whose definition did not change: still a conflict, never trusted.
    appendFileSync(other, '# mine\n');
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition('fast.a', 8));
    const edited = compile();
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/fast\.b\.service: error\[output-conflict\]: was generated by acore but has been edited since/);
    expect(readFileSync(unit, 'utf8')).toContain('echo fast.a');
  });

  it('--check and --force never take it', () => {
    const { compile } = project();
    const check = compile('--check');
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('up to date');
    expect(check.stdout).not.toMatch(NOTHING);
    const force = compile('--force');
    expect(force.code, force.stderr).toBe(0);
    expect(force.stdout).not.toMatch(NOTHING);
  });
});

describe('the cache directory stays as small as the output directories that exist (built CLI)', () => {
  it('a compile into a new output directory forgets the entries of directories that are gone, and only those', () => {
    const root = tempDir('acore-prune-');
    const cache = join(root, '.cache');
    mkdirSync(join(root, 'definitions'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition('prune.a', 3));
    const compileInto = (out: string) => {
      const r = run(['compile', '--target', 'systemd', '--out', out], root, cache);
      expect(r.code, r.stderr).toBe(0);
    };
    const entries = () => readdirSync(join(cache, 'acore')).sort();
    compileInto('kept');
    compileInto('gone');
    const two = entries();
    // A state and a per-definition record per output directory.
    expect(two.filter((f) => /^[0-9a-f]{32}\.json$/.test(f))).toHaveLength(2);
    expect(two.filter((f) => /^[0-9a-f]{32}\.made\.json$/.test(f))).toHaveLength(2);
    // Files acore did not name are never removed.
    writeFileSync(join(cache, 'acore', 'notes.txt'), 'mine\n');
    writeFileSync(join(cache, 'acore', 'other.json'), '{}\n');
    rmSync(join(root, 'gone'), { recursive: true });
    // A compile into a directory it has an entry for prunes nothing…
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition('prune.a', 4));
    compileInto('kept');
    expect(entries()).toEqual([...two, 'notes.txt', 'other.json'].sort());
    // …one into a new directory forgets the gone one's two files.
    compileInto('new');
    const now = entries();
    expect(now.filter((f) => OWN_FILE.test(f))).toHaveLength(4);
    expect(now).toEqual(expect.arrayContaining(['notes.txt', 'other.json']));
    const gone = two.filter((f) => !now.includes(f));
    expect(gone).toHaveLength(2);
    expect(new Set(gone.map((f) => f.slice(0, 32))).size).toBe(1);
    // The kept directory's entry still works: an unchanged compile has nothing to do.
    const again = run(['compile', '--target', 'systemd', '--out', 'kept'], root, cache);
    expect(again.stdout).toMatch(/nothing to do/);
  });
});

const OWN_FILE = /^[0-9a-f]{32}(\.made)?\.json$/;

describe('reusing unchanged definitions (built CLI)', () => {
  // A definition for systemd and crontab, or one GitHub also gets (with GitHub's warning about
  // misfire_policy: skip, which a reused definition must give again).
  const def = (id: string, o: { hour?: number; cmd?: string; github?: boolean; unit?: string; enabled?: boolean } = {}) =>
    [
      `id: ${id}`,
      ...(o.enabled === false ? ['enabled: false'] : []),
      'trigger:',
      '  trigger_type: cron',
      `  cron_expression: "0 ${o.hour ?? 3} * * *"`,
      '  timezone: UTC',
      'instruction:',
      '  kind: shell',
      `  cmd: ${o.cmd ?? `echo ${id}`}`,
      'targets:',
      o.unit ? `  systemd: {unit_name: ${o.unit}}` : '  systemd:',
      '  crontab:',
      ...(o.github ? ['  github:'] : []),
      '',
    ].join('\n');

  /** Exit code, stderr and every generated file of a compile (paths relative to the project). */
  const outcome = (root: string, r: { code: number | null; stderr: string }) => ({ code: r.code, stderr: r.stderr.split(root).join('<root>'), out: existsSync(join(root, 'out')) ? readTree(join(root, 'out')) : {} });

  it('gives what a full compile of the same definitions gives, step after step', () => {
    const root = tempDir('acore-reuse-');
    const cache = join(root, '.cache');
    const defs = join(root, 'definitions');
    mkdirSync(join(defs, 'team'), { recursive: true });
    for (let i = 0; i < 12; i++) writeFileSync(join(defs, 'team', `d${i}.yaml`), def(`reuse.d${i}`, { hour: i, github: i % 4 === 0 }));
    const compile = () => {
      const timings = join(root, 'timings.json');
      rmSync(timings, { force: true });
      const r = spawnSync(process.execPath, [BIN, 'compile', '--target', 'all'], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, XDG_CACHE_HOME: cache, ACORE_TIMINGS: timings } });
      const reused = existsSync(timings) ? ((JSON.parse(readFileSync(timings, 'utf8')) as { counts?: { reused?: number } }).counts?.reused ?? 0) : 0;
      return { r: { code: r.status, stderr: r.stderr }, reused };
    };
    /** The same definitions compiled from nothing, in a fresh project with a fresh cache. */
    const reference = () => {
      const fresh = tempDir('acore-reuse-ref-');
      cpSync(defs, join(fresh, 'definitions'), { recursive: true });
      const r = spawnSync(process.execPath, [BIN, 'compile', '--target', 'all'], { cwd: fresh, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: fresh, XDG_CACHE_HOME: join(fresh, '.cache') } });
      return outcome(fresh, { code: r.status, stderr: r.stderr });
    };
    const file = (name: string) => join(defs, 'team', name);
    const steps: [string, () => void, number?][] = [
      ['first compile', () => {}],
      ['one command edited', () => writeFileSync(file('d1.yaml'), def('reuse.d1', { hour: 1, cmd: 'echo changed' })), 11],
      ['one schedule edited', () => writeFileSync(file('d2.yaml'), def('reuse.d2', { hour: 14 })), 11],
      ['a definition added', () => writeFileSync(file('d12.yaml'), def('reuse.d12', { hour: 12 })), 12],
      ['a definition removed', () => rmSync(file('d5.yaml')), 12],
      ['a file renamed', () => renameSync(file('d6.yaml'), file('d6-renamed.yaml'))],
      ['a changed file takes the id of an unchanged one', () => writeFileSync(file('d12.yaml'), def('reuse.d3', { hour: 12 }))],
      ['… and gives it back', () => writeFileSync(file('d12.yaml'), def('reuse.d12', { hour: 12 }))],
      ['a changed definition would write an unchanged one’s units', () => writeFileSync(file('d7.yaml'), def('reuse.d7', { unit: 'reuse.d2' }))],
      ['… and stops', () => writeFileSync(file('d7.yaml'), def('reuse.d7', { hour: 7 }))],
      ['a schema error', () => writeFileSync(file('d9.yaml'), def('reuse.d9').replace('cron_expression', 'cron_expresion'))],
      ['… fixed', () => writeFileSync(file('d9.yaml'), def('reuse.d9', { hour: 9 }))],
      ['a definition disabled', () => writeFileSync(file('d10.yaml'), def('reuse.d10', { enabled: false }))],
      ['two definitions in one new file', () => writeFileSync(file('multi.yaml'), `${def('reuse.m1', { hour: 1 })}---\n${def('reuse.m2', { hour: 2 })}`)],
      ['one of them edited', () => writeFileSync(file('multi.yaml'), `${def('reuse.m1', { hour: 1 })}---\n${def('reuse.m2', { hour: 22 })}`)],
      ['a generated file of an unchanged definition removed', () => rmSync(join(root, 'out', 'systemd', 'reuse.d11.service'))],
      ['a generated file of an unchanged definition removed, and another definition edited', () => {
        rmSync(join(root, 'out', 'crontab', 'scripts', 'reuse.d4.sh'), { force: true });
        writeFileSync(file('d3.yaml'), def('reuse.d3', { hour: 23 }));
      }],
      ['a definition touched, not changed', () => {
        const t = new Date(Date.now() + 5000);
        utimesSync(file('d11.yaml'), t, t);
      }],
    ];
    let reusedSomewhere = 0;
    let before: Record<string, string> = {};
    for (const [step, change, least] of steps) {
      change();
      const { r, reused } = compile();
      const got = outcome(root, r);
      const want = reference();
      expect({ code: got.code, stderr: got.stderr }, step).toEqual({ code: want.code, stderr: want.stderr });
      // A failed compile writes nothing: the output stays as the last good compile left it.
      expect(got.out, step).toEqual(want.code === 0 ? want.out : before);
      before = got.out;
      if (least !== undefined) expect(reused, `${step}: definitions reused`).toBeGreaterThanOrEqual(least);
      reusedSomewhere += reused;
    }
    expect(reusedSomewhere).toBeGreaterThan(40);
  });

  it('gives what a full compile gives, over random edits (cron.d form, systemd system scope)', () => {
    // A fixed seed: every run checks the same 40 steps.
    let seed = 20261128;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const root = tempDir('acore-reuse-rand-');
    const defs = join(root, 'definitions');
    mkdirSync(defs);
    const args = ['compile', '--target', 'systemd,crontab', '--cron-form', 'cron.d', '--scope', 'system'];
    const env = (home: string) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_CACHE_HOME: join(home, '.cache') });
    const names = Array.from({ length: 10 }, (_, i) => `f${i}.yaml`);
    // Valid edits mostly; a break (an error) now and then, repaired at the next step, so that
    // about half the steps compile (and reuse) and the others must fail exactly alike.
    const valid = (id: string) =>
      pick([
        () => def(id, { hour: Math.floor(rand() * 24) }),
        () => def(id, { cmd: `echo ${Math.floor(rand() * 1000)}` }),
        () => def(id, { unit: `${id}.unit` }),
        () => def(id, { enabled: false }),
        () => def(id).replace('timezone: UTC', 'timezone: Europe/Berlin'),
        () => `${def(id, { hour: 1 })}---\n${def(`${id}.second`, { hour: 2 })}`,
      ])();
    const broken = (id: string) =>
      pick([() => def(id).replace('  kind: shell', '  kind: shel'), () => def(id, { unit: 'r.f0' }), () => def(`r.${pick(names).slice(0, -5)}`, { hour: 5 })])();
    for (const n of names.slice(0, 6)) writeFileSync(join(defs, n), def(`r.${n.slice(0, -5)}`, { hour: 4 }));
    let reusedSomewhere = 0;
    let succeeded = 0;
    let repair: string | undefined;
    for (let step = 0; step < 40; step++) {
      if (repair) writeFileSync(join(defs, repair), def(`r.${repair.slice(0, -5)}`, { hour: 6 }));
      repair = undefined;
      const n = pick(names);
      const op = pick(['edit', 'edit', 'edit', 'edit', 'remove', 'break', 'drop-output', 'none']);
      if (op === 'edit') writeFileSync(join(defs, n), valid(`r.${n.slice(0, -5)}`));
      else if (op === 'remove') rmSync(join(defs, n), { force: true });
      else if (op === 'break') {
        writeFileSync(join(defs, n), broken(`r.${n.slice(0, -5)}`));
        repair = n;
      } else if (op === 'drop-output' && existsSync(join(root, 'out'))) {
        const files = listFiles(join(root, 'out')).filter((f) => !f.endsWith('.acore-manifest.json'));
        if (files.length > 0) rmSync(join(root, 'out', pick(files)));
      }
      // A failed compile writes nothing: the output stays as it is now.
      const before = existsSync(join(root, 'out')) ? readTree(join(root, 'out')) : {};
      const timings = join(root, 'timings.json');
      rmSync(timings, { force: true });
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env: { ...env(root), ACORE_TIMINGS: timings } });
      reusedSomewhere += existsSync(timings) ? ((JSON.parse(readFileSync(timings, 'utf8')) as { counts?: { reused?: number } }).counts?.reused ?? 0) : 0;
      const fresh = tempDir('acore-reuse-rand-ref-');
      if (existsSync(defs)) cpSync(defs, join(fresh, 'definitions'), { recursive: true });
      const ref = spawnSync(process.execPath, [BIN, ...args], { cwd: fresh, encoding: 'utf8', env: env(fresh) });
      const got = outcome(root, { code: r.status, stderr: r.stderr });
      const want = outcome(fresh, { code: ref.status, stderr: ref.stderr });
      const what = `step ${step}: ${op} ${n}`;
      // Nothing changed at all: the no-change path, which does not repeat the last compile's warnings.
      const nothing = /nothing to do/.test(r.stdout);
      expect({ code: got.code, stderr: nothing ? want.stderr : got.stderr }, what).toEqual({ code: want.code, stderr: want.stderr });
      expect(got.out, what).toEqual(want.code === 0 ? want.out : before);
      if (want.code === 0) succeeded++;
    }
    expect(succeeded).toBeGreaterThan(15);
    expect(reusedSomewhere).toBeGreaterThan(40);
  }, 120_000);

  it('records older than the manifest (their write failed) are not used: the hashes would be another compile’s', () => {
    const root = tempDir('acore-reuse-');
    const cache = join(root, '.cache');
    mkdirSync(join(root, 'definitions'));
    for (let i = 0; i < 3; i++) writeFileSync(join(root, 'definitions', `d${i}.yaml`), def(`reuse.d${i}`, { hour: i }));
    const compile = (...extra: string[]) => run(['compile', '--target', 'systemd', ...extra], root, cache);
    expect(compile().code).toBe(0);
    const records = readdirSync(join(cache, 'acore')).filter((f) => f.endsWith('.made.json'));
    expect(records).toHaveLength(1);
    const file = join(cache, 'acore', records[0]!);
    const user = readFileSync(file, 'utf8');
    // The same directory compiled for the system manager (other units, other manifest)…
    expect(compile('--scope', 'system').code).toBe(0);
    // …and its records lost, as if writing them had failed: the user-scope ones are back.
    writeFileSync(file, user);
    writeFileSync(join(root, 'definitions', 'd0.yaml'), def('reuse.d0', { hour: 9 }));
    const timings = join(root, 'timings.json');
    const r = spawnSync(process.execPath, [BIN, 'compile', '--target', 'systemd'], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, XDG_CACHE_HOME: cache, ACORE_TIMINGS: timings } });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(readFileSync(timings, 'utf8')) as { counts: { reused?: number } }).counts.reused ?? 0).toBe(0);
    const fresh = tempDir('acore-reuse-ref-');
    cpSync(join(root, 'definitions'), join(fresh, 'definitions'), { recursive: true });
    expect(run(['compile', '--target', 'systemd'], fresh, join(fresh, '.cache')).code).toBe(0);
    expect(readTree(join(root, 'out'))).toEqual(readTree(join(fresh, 'out')));
  });

  it('a hand edit of a generated file of an unchanged definition is still a conflict', () => {
    const root = tempDir('acore-reuse-');
    const cache = join(root, '.cache');
    mkdirSync(join(root, 'definitions'));
    for (let i = 0; i < 3; i++) writeFileSync(join(root, 'definitions', `d${i}.yaml`), def(`reuse.d${i}`, { hour: i }));
    const compile = () => run(['compile', '--target', 'systemd'], root, cache);
    expect(compile().code).toBe(0);
    const unit = join(root, 'out', 'systemd', 'reuse.d2.service');
    appendFileSync(unit, '# mine\n');
    writeFileSync(join(root, 'definitions', 'd0.yaml'), def('reuse.d0', { hour: 9 }));
    const r = compile();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reuse\.d2\.service: error\[output-conflict\]: was generated by acore but has been edited since/);
    expect(readFileSync(unit, 'utf8')).toContain('# mine');
  });
});

describe('the launcher (bin/acore.js, bin/load.cjs)', () => {
  it('runs the same without its code cache, or with V8 flags that make V8 reject it', () => {
    const root = tempDir('acore-launch-');
    const args = ['validate', '--definitions', join(ROOT, 'definitions')];
    const plain = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8' });
    expect(plain.status, plain.stderr).toBe(0);
    // Other flags: V8 rejects the cache (it was made without them) and compiles as usual.
    const flagged = spawnSync(process.execPath, ['--max-old-space-size=1024', '--stack-size=2000', BIN, ...args], { cwd: root, encoding: 'utf8' });
    expect(flagged.status, flagged.stderr).toBe(0);
    expect(flagged.stdout).toBe(plain.stdout);
    expect(flagged.stderr).toBe(plain.stderr);
    // No cache file at all (a copy of dist/ without it).
    const copy = join(root, 'acore');
    mkdirSync(join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist', 'acore.cjs'), join(copy, 'dist', 'acore.cjs'));
    const bare = spawnSync(process.execPath, [join(copy, 'bin', 'acore.js'), ...args], { cwd: root, encoding: 'utf8' });
    expect(bare.status, bare.stderr).toBe(0);
    expect(bare.stdout).toBe(plain.stdout);
    expect(bare.stderr).toBe(plain.stderr);
  });

  it('the cache is accepted by the Node.js that built it', async () => {
    const { loadCli } = (await import(join(ROOT, 'bin', 'load.cjs'))) as { loadCli: () => { cacheRejected: boolean } };
    expect(loadCli().cacheRejected).toBe(false);
  });
});

describe('output straight to the file descriptors (built CLI)', () => {
  it('a large output (well over a pipe buffer) reaches a pipe whole and in order', async () => {
    const root = tempDir('acore-out-');
    mkdirSync(join(root, 'definitions'));
    for (let i = 0; i < 150; i++) writeFileSync(join(root, 'definitions', `d${i}.yaml`), definition(`big.d${i}`, i % 24));
    // --check with nothing compiled yet: a diff for every file that would be created.
    const r = run(['compile', '--target', 'systemd', '--check'], root, join(root, '.cache'));
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeGreaterThan(256 * 1024);
    const inProcess = await acore(['compile', '--target', 'systemd', '--check'], root);
    expect(r.stdout).toBe(inProcess.stdout);
    expect(r.stderr).toBe(inProcess.stderr);
  });

  it('a reader that goes away early (| head -c 10) ends the output quietly', () => {
    const root = tempDir('acore-out-');
    const status = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" schema | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`], { cwd: root, encoding: 'utf8' });
    expect(status.stderr).toBe('');
    expect(status.stdout.trim()).toBe('0');
  });
});
