/**
 * Faults while writing output, against the real CLI (node bin/acore.js, built from the current
 * sources) and against src/cli/output.ts directly:
 *
 * - SIGKILL at ten points of a large compile (1000 definitions, 3000 unit files) into a
 *   directory holding an older compile: every file is the old or the new version, never partial;
 *   the next compile (forwards or backwards) succeeds without --force, cleans the killed run's
 *   temporary files and leaves exactly its own output;
 * - a full disk (a 64 KiB tmpfs), a read-only file system, an immutable directory (chattr +i; root
 *   ignores permission bits, so chmod 0555 proves nothing here): a clear error, nothing changed,
 *   no temporary file left; across targets too (applyPlans);
 * - a file where a directory should be, symlinks at output paths and at directories inside the
 *   output directory (never written or removed through), a tampered manifest, hand-written files
 *   in the way (reported, replaced only with --force), temporary files of killed compiles.
 *
 * Mounting needs CAP_SYS_ADMIN (the test environment runs as root); without it those cases are
 * skipped with a message saying so.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlans, MANIFEST, OutputError, planOutput } from '../src/cli/output.ts';
import type { Artefact } from '../src/targets/target.ts';
import { acore, listFiles, ROOT, tempDir } from './helpers.ts';

const BIN = join(ROOT, 'bin', 'acore.js');

/** Builds dist/ when a source file is newer than it (npm test builds first anyway). */
function ensureBuilt(): void {
  const built = existsSync(join(ROOT, 'dist', 'acore.cjs')) ? statSync(join(ROOT, 'dist', 'acore.cjs')).mtimeMs : 0;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'templates'))) > built) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  }
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process; a fresh cache directory each time, so the no-change fast path never hides the work. */
function cli(args: string[], cwd: string, onChild?: (c: ChildProcess) => void): Promise<Run> {
  const cache = mkdtempSync(join(tmpdir(), 'acore-faults-cache-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, XDG_CACHE_HOME: cache } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      rmSync(cache, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    });
    onChild?.(child);
  });
}

const TEMP = /\.acore-tmp-\d+-[0-9a-f]{8}$/;

/** path → content of every file below dir (dotfiles included, temporary files separately). */
function tree(dir: string): { files: Map<string, string>; temps: string[] } {
  const files = new Map<string, string>();
  const temps: string[] = [];
  if (!existsSync(dir)) return { files, temps };
  for (const f of listFiles(dir)) {
    if (TEMP.test(f)) temps.push(f);
    else files.set(f, readFileSync(join(dir, f), 'utf8'));
  }
  return { files, temps };
}

/** A definition of the fleet; `version` changes every command. */
function fleetDefinition(i: number, version: string): string {
  return [
    `id: fleet.job-${String(i).padStart(4, '0')}`,
    `description: Job ${i} of the fleet.`,
    'trigger:',
    '  trigger_type: cron',
    `  cron_expression: "${i % 60} ${i % 24} * * *"`,
    '  timezone: UTC',
    'instruction:',
    '  kind: shell',
    `  cmd: echo ${version} ${i} ${'x'.repeat(100)}`,
    `  env: { N: "${i}", VERSION: ${version} }`,
    '',
  ].join('\n');
}

function writeFleet(dir: string, ids: number[], version: string): void {
  mkdirSync(dir, { recursive: true });
  for (const i of ids) writeFileSync(join(dir, `d${String(i).padStart(4, '0')}.yaml`), fleetDefinition(i, version));
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL mid-write.

describe('a compile killed at any point leaves every file old or new, and the next compile recovers', () => {
  // 1000 definitions (3000 unit files) keep this under half a minute; ACORE_FAULTS_DEFS=2000 for more.
  const N = Number(process.env.ACORE_FAULTS_DEFS ?? 1000);
  let root: string;
  const refs: Record<'old' | 'new', Map<string, string>> = { old: new Map(), new: new Map() };
  let writeMs = 0;

  beforeAll(async () => {
    ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'acore-faults-kill-'));
    // old: jobs 0..1899; new: jobs 100..1999 with other commands (100 removed, 100 added, 1800 updated).
    writeFleet(join(root, 'old'), Array.from({ length: N - 100 }, (_, i) => i), 'old');
    writeFleet(join(root, 'new'), Array.from({ length: N - 100 }, (_, i) => i + 100), 'new');
    for (const v of ['old', 'new'] as const) {
      const r = await cli(['compile', '--target', 'systemd', '-d', v, '-o', `ref-${v}`], root);
      expect(r.code, r.stderr).toBe(0);
      refs[v] = tree(join(root, `ref-${v}`)).files;
    }
    // Calibration: how long the writing takes, from the first temporary file to the exit.
    cpSync(join(root, 'ref-old'), join(root, 'out'), { recursive: true });
    let first = 0;
    const watcher = watch(join(root, 'out'), (_e, f) => {
      if (!first && f && String(f).includes('acore-tmp')) first = Date.now();
    });
    const r = await cli(['compile', '--target', 'systemd', '-d', 'new', '-o', 'out'], root);
    watcher.close();
    expect(r.code, r.stderr).toBe(0);
    expect(first).toBeGreaterThan(0);
    writeMs = Date.now() - first;
    rmSync(join(root, 'out'), { recursive: true });
    cpSync(join(root, 'ref-old'), join(root, 'out'), { recursive: true });
  }, 120_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Every file is exactly the old or the new version; the manifest is one of acore's. */
  function checkOldOrNew(label: string): { temps: string[]; mixed: boolean } {
    const { files, temps } = tree(join(root, 'out'));
    let olds = 0;
    let news = 0;
    for (const [path, content] of files) {
      if (path === MANIFEST) {
        const m = JSON.parse(content) as { generator: string; files: Record<string, string>; pending?: Record<string, string> };
        expect(m.generator, label).toBe('acore');
        continue;
      }
      const o = refs.old.get(path);
      const n = refs.new.get(path);
      expect(o !== undefined || n !== undefined, `${label}: ${path} is neither version's file`).toBe(true);
      expect(content === o || content === n, `${label}: ${path} is partial or foreign (${content.length} bytes)`).toBe(true);
      if (content === o && o !== n) olds++;
      if (content === n && o !== n) news++;
    }
    return { temps, mixed: olds > 0 && news > 0 };
  }

  it('ten kill points: old-or-new after each, recovery without --force, temporary files cleaned', async () => {
    let state: 'old' | 'new' = 'old';
    let killed = 0;
    let mixed = 0;
    let tempsSeen = 0;
    const fractions = [0, 0.02, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0];
    for (const [i, f] of fractions.entries()) {
      const target: 'old' | 'new' = state === 'old' ? 'new' : 'old';
      let timer: NodeJS.Timeout | undefined;
      let watcher: ReturnType<typeof watch> | undefined;
      const r = await cli(['compile', '--target', 'systemd', '-d', target, '-o', 'out'], root, (child) => {
        watcher = watch(join(root, 'out'), (_e, name) => {
          if (timer || !name || !String(name).includes('acore-tmp')) return;
          timer = setTimeout(() => child.kill('SIGKILL'), Math.round(f * writeMs));
        });
      });
      watcher?.close();
      if (timer) clearTimeout(timer);
      const label = `kill ${i} (${Math.round(f * 100)}% into the writing, ${state} → ${target})`;
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, `${label}: ${r.stderr}`).toBe(0);
      const after = checkOldOrNew(label);
      if (after.mixed) mixed++;
      tempsSeen += after.temps.length;

      // Recovery: alternately finish the interrupted compile, or go back to the previous version.
      const recover: 'old' | 'new' = i % 2 === 0 ? target : state;
      const rec = await cli(['compile', '--target', 'systemd', '-d', recover, '-o', 'out'], root);
      expect(rec.code, `${label}, recovering to ${recover}: ${rec.stderr}`).toBe(0);
      expect(rec.stderr, label).not.toContain('output-conflict');
      const { files, temps } = tree(join(root, 'out'));
      expect(temps, `${label}: temporary files left after the recovery`).toEqual([]);
      expect([...files.keys()].sort(), label).toEqual([...refs[recover].keys()].sort());
      for (const [path, content] of files) expect(content === refs[recover].get(path), `${label}: ${path} after recovery`).toBe(true);
      state = recover;
    }
    // The kills really landed inside the writing: most interrupted it, some mid-rename.
    expect(killed).toBeGreaterThanOrEqual(7);
    expect(mixed + tempsSeen).toBeGreaterThan(0);
  }, 300_000);

  it('a first compile (no output directory yet) killed while writing: the directory is absent or complete; the next compile removes the leftovers', async () => {
    // A first compile writes everything into `.fresh.acore-tmp-PID-XXXXXXXX` beside the output
    // directory and renames that into place in one step.
    const staging = () => readdirSync(root).filter((f) => f.startsWith('.fresh.acore-tmp-'));
    // Calibration: from the staging directory's creation to the exit of an uninterrupted
    // compile, the fastest of three (a busy machine slows one down, and kill points placed
    // after a faster run's exit would not land).
    let freshMs = Infinity;
    for (let c = 0; c < 3; c++) {
      rmSync(join(root, 'fresh'), { recursive: true, force: true });
      let made = 0;
      const calibration = watch(root, (_e, name) => {
        if (!made && name && String(name).startsWith('.fresh.acore-tmp-')) made = Date.now();
      });
      const full = await cli(['compile', '--target', 'systemd', '-d', 'new', '-o', 'fresh'], root);
      calibration.close();
      expect(full.code, full.stderr).toBe(0);
      expect(made).toBeGreaterThan(0);
      freshMs = Math.min(freshMs, Date.now() - made);
    }
    let killed = 0;
    let leftovers = 0;
    for (const [i, f] of [0, 0.1, 0.25, 0.4, 0.55, 0.7].entries()) {
      rmSync(join(root, 'fresh'), { recursive: true, force: true });
      let timer: NodeJS.Timeout | undefined;
      let watcher: ReturnType<typeof watch> | undefined;
      const r = await cli(['compile', '--target', 'systemd', '-d', 'new', '-o', 'fresh'], root, (child) => {
        watcher = watch(root, (_e, name) => {
          if (timer || !name || !String(name).startsWith('.fresh.acore-tmp-')) return;
          timer = setTimeout(() => child.kill('SIGKILL'), Math.round(f * freshMs));
        });
      });
      watcher?.close();
      if (timer) clearTimeout(timer);
      const label = `kill ${i} (${Math.round(f * 100)}% into the writing)`;
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, `${label}: ${r.stderr}`).toBe(0);
      if (existsSync(join(root, 'fresh'))) {
        const { files, temps } = tree(join(root, 'fresh'));
        expect(temps, label).toEqual([]);
        expect([...files.keys()].filter((p) => p !== MANIFEST).sort(), label).toEqual([...refs.new.keys()].filter((p) => p !== MANIFEST).sort());
        for (const [path, content] of files) if (path !== MANIFEST) expect(content === refs.new.get(path), `${label}: ${path}`).toBe(true);
      }
      leftovers += staging().length;

      const rec = await cli(['compile', '--target', 'systemd', '-d', 'new', '-o', 'fresh'], root);
      expect(rec.code, `${label}, recovering: ${rec.stderr}`).toBe(0);
      expect(staging(), `${label}: staging directories left after the recovery`).toEqual([]);
      const { files } = tree(join(root, 'fresh'));
      expect([...files.keys()].sort(), label).toEqual([...refs.new.keys()].sort());
      for (const [path, content] of files) expect(content === refs.new.get(path), `${label}: ${path} after recovery`).toBe(true);
    }
    expect(killed).toBeGreaterThanOrEqual(3);
    expect(leftovers).toBeGreaterThan(0);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// 2. Full disk, read-only file system, immutable directory.

const small = (id: string, cmd = 'echo ok') =>
  ['id: ' + id, 'trigger:', '  trigger_type: cron', '  cron_expression: "0 3 * * *"', '  timezone: UTC', 'instruction:', '  kind: shell', `  cmd: ${cmd}`, ''].join('\n');

function project(defs: Record<string, string>): string {
  const root = tempDir('acore-faults-');
  mkdirSync(join(root, 'definitions'));
  for (const [n, t] of Object.entries(defs)) writeFileSync(join(root, 'definitions', n), t);
  return root;
}

interface Snap {
  [path: string]: { content: string; mtimeMs: number; ino: number };
}
function snapshot(dir: string): Snap {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    listFiles(dir).map((f) => {
      const st = statSync(join(dir, f));
      return [f, { content: readFileSync(join(dir, f), 'utf8'), mtimeMs: st.mtimeMs, ino: st.ino }];
    }),
  );
}

let canMount: boolean | undefined;
function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  canMount = r.status === 0;
  if (!canMount) console.warn(`skipped: cannot mount a tmpfs here (${r.stderr.trim() || `exit ${r.status}`}); these cases need root or CAP_SYS_ADMIN`);
  return canMount;
}
const unmount = (dir: string) => spawnSync('umount', ['-l', dir]);
const remount = (dir: string, mode: 'ro' | 'rw') => expect(spawnSync('mount', ['-o', `remount,${mode}`, dir]).status).toBe(0);

const COMPILE = (out: string, ...extra: string[]) => ['compile', '--target', 'systemd', '-d', 'definitions', '-o', out, ...extra];

describe('full disk, read-only and immutable output directories', () => {
  it('a full disk (64 KiB tmpfs): clear error, nothing written, no temporary file', async () => {
    const root = project(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`d${i}.yaml`, small(`big.job${i}`, `echo ${'y'.repeat(500)}`)])));
    const mnt = join(root, 'mnt');
    if (!mountTmpfs(mnt, 'size=64k')) return;
    try {
      const r = await acore(COMPILE('mnt/out'), root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[io-write\].*(ENOSPC|no space left on device).*nothing was changed/is);
      expect(readdirSync(mnt)).toEqual([]); // not even the output directory it created
    } finally {
      unmount(mnt);
    }
  });

  it('a full disk with an older compile in it: the old files stay exactly as they were', async () => {
    const root = project({ 'a.yaml': small('disk.a') });
    const mnt = join(root, 'mnt');
    if (!mountTmpfs(mnt, 'size=64k')) return;
    try {
      expect((await acore(COMPILE('mnt'), root)).code).toBe(0);
      const before = snapshot(mnt);
      for (let i = 0; i < 60; i++) writeFileSync(join(root, 'definitions', `d${i}.yaml`), small(`disk.job${i}`, `echo ${'y'.repeat(500)}`));
      writeFileSync(join(root, 'definitions', 'a.yaml'), small('disk.a', 'echo changed'));
      const r = await acore(COMPILE('mnt'), root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no space left on device/i);
      expect(snapshot(mnt)).toEqual(before);
    } finally {
      unmount(mnt);
    }
  });

  it('across targets (applyPlans): one target fits, the next does not → neither directory changes', () => {
    const root = tempDir('acore-faults-');
    const mnt = join(root, 'mnt');
    if (!mountTmpfs(mnt, 'size=64k')) return;
    try {
      const art = (target: 'systemd' | 'crontab', path: string, size: number): Artefact => ({ target, path, content: `# Generated by acore\n${'z'.repeat(size)}\n`, ids: [] });
      const a = planOutput(join(mnt, 'systemd'), 'systemd', [art('systemd', 'a.timer', 10_000)], { force: false });
      const b = planOutput(join(mnt, 'crontab'), 'crontab', [art('crontab', 'libexec/b.sh', 100_000)], { force: false });
      expect(() => applyPlans([a, b])).toThrow(OutputError);
      expect(readdirSync(mnt)).toEqual([]);
    } finally {
      unmount(mnt);
    }
  });

  it('a read-only file system: clear error, nothing changed; writable again → the compile goes through', async () => {
    const root = project({ 'a.yaml': small('ro.a') });
    const mnt = join(root, 'mnt');
    if (!mountTmpfs(mnt, 'size=1m')) return;
    try {
      expect((await acore(COMPILE('mnt'), root)).code).toBe(0);
      remount(mnt, 'ro');
      const before = snapshot(mnt);
      writeFileSync(join(root, 'definitions', 'a.yaml'), small('ro.a', 'echo changed'));
      writeFileSync(join(root, 'definitions', 'b.yaml'), small('ro.b'));
      const r = await acore(COMPILE('mnt'), root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[io-write\].*read-only file system.*nothing was changed/is);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(snapshot(mnt)).toEqual(before);
      remount(mnt, 'rw');
      const again = await acore(COMPILE('mnt'), root);
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(join(mnt, 'ro.a.service'), 'utf8')).toContain('echo changed');
    } finally {
      unmount(mnt);
    }
  });

  it('an immutable output directory (chattr +i): clear error, nothing changed', async () => {
    const root = project({ 'a.yaml': small('imm.a') });
    const out = join(root, 'out');
    expect((await acore(COMPILE('out'), root)).code).toBe(0);
    if (spawnSync('chattr', ['+i', out]).status !== 0) {
      console.warn('skipped: chattr +i is not supported on this file system');
      return;
    }
    try {
      const before = snapshot(out);
      writeFileSync(join(root, 'definitions', 'a.yaml'), small('imm.a', 'echo changed'));
      const r = await acore(COMPILE('out'), root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[io-write\].*operation not permitted.*nothing was changed/is);
      expect(snapshot(out)).toEqual(before);
    } finally {
      spawnSync('chattr', ['-i', out]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Things in the way: files, symlinks, tampered manifests, hand-written files, leftovers.

describe('things in the way', () => {
  const CRON = (out: string, ...extra: string[]) => ['compile', '--target', 'crontab', '-d', 'definitions', '-o', out, '--script-dir', '/opt/acore', ...extra];

  it('a file where the output directory should be: clear error, the file untouched', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    writeFileSync(join(root, 'out'), 'mine\n');
    const r = await acore(COMPILE('out'), root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a directory/);
    expect(readFileSync(join(root, 'out'), 'utf8')).toBe('mine\n');
  });

  it('a file where a directory inside the output should be (libexec): refused even with --force, nothing written', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    mkdirSync(join(root, 'out'));
    writeFileSync(join(root, 'out', 'libexec'), 'mine\n');
    for (const extra of [[], ['--force']]) {
      const r = await acore(CRON('out', ...extra), root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/out\/libexec: error\[output-conflict\]: is a file, where acore needs a directory/);
      expect(listFiles(join(root, 'out'))).toEqual(['libexec']);
    }
  });

  it('a symlink at an output path pointing outside: refused, the target untouched; --force replaces the link only', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    const outside = join(root, 'outside.sh');
    writeFileSync(outside, 'precious\n');
    mkdirSync(join(root, 'out', 'libexec'), { recursive: true });
    symlinkSync(outside, join(root, 'out', 'libexec', 'w.a.sh'));
    const r = await acore(CRON('out'), root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/libexec\/w\.a\.sh: error\[output-conflict\]: is a symbolic link/);
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
    expect(readlinkSync(join(root, 'out', 'libexec', 'w.a.sh'))).toBe(outside);
    expect(listFiles(join(root, 'out'))).toEqual(['libexec/w.a.sh']);
    const f = await acore(CRON('out', '--force'), root);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(root, 'out', 'libexec', 'w.a.sh')).isFile()).toBe(true);
  });

  it('a dangling symlink at an output path: nothing is created where it points', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    mkdirSync(join(root, 'out'));
    const target = join(root, 'would-be-created.timer');
    symlinkSync(target, join(root, 'out', 'w.a.timer'));
    const r = await acore(COMPILE('out'), root);
    expect(r.code).toBe(1);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(join(root, 'out'))).toEqual(['w.a.timer']);
    expect(lstatSync(join(root, 'out', 'w.a.timer')).isSymbolicLink()).toBe(true);
  });

  it('a symlinked directory inside the output (libexec → elsewhere): refused even with --force, nothing written through it', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(join(root, 'out'));
    symlinkSync(elsewhere, join(root, 'out', 'libexec'));
    for (const extra of [[], ['--force']]) {
      const r = await acore(CRON('out', ...extra), root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/out\/libexec: error\[output-conflict\]: is a symbolic link/);
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(readdirSync(join(root, 'out'))).toEqual(['libexec']);
    }
  });

  it('an orphan behind a symlinked directory is not removed through it', async () => {
    const root = project({ 'a.yaml': small('w.a'), 'b.yaml': small('w.b') });
    expect((await acore(CRON('out'), root)).code).toBe(0);
    // libexec becomes a link to a directory holding a file with the same name and content.
    const elsewhere = join(root, 'elsewhere');
    cpSync(join(root, 'out', 'libexec'), elsewhere, { recursive: true });
    rmSync(join(root, 'out', 'libexec'), { recursive: true });
    symlinkSync(elsewhere, join(root, 'out', 'libexec'));
    // No definition is for crontab any more: every file in the output is an orphan.
    rmSync(join(root, 'definitions', 'b.yaml'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), `${small('w.a')}targets:\n  systemd:\n`);
    const r = await acore(CRON('out'), root);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(elsewhere).sort()).toEqual(['w.a.sh', 'w.b.sh']);
    expect(r.stderr).toMatch(/libexec\/w\.a\.sh: no longer generated, but libexec is a symbolic link/);
    expect(r.stdout).toMatch(/removed out\/crontab/);
  });

  it('a tampered manifest naming paths outside the output directory removes nothing outside', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    expect((await acore(COMPILE('out'), root)).code).toBe(0);
    const victim = join(root, 'victim.timer');
    const content = readFileSync(join(root, 'out', 'w.a.timer'), 'utf8');
    writeFileSync(victim, content); // acore's marker and a hash the manifest will claim
    const manifest = JSON.parse(readFileSync(join(root, 'out', MANIFEST), 'utf8')) as { files: Record<string, string> };
    const hash = manifest.files['w.a.timer']!;
    for (const p of ['../victim.timer', `${victim}`, 'x/../../victim.timer', './../victim.timer']) manifest.files[p] = hash;
    writeFileSync(join(root, 'out', MANIFEST), JSON.stringify(manifest));
    rmSync(join(root, 'definitions', 'a.yaml'));
    writeFileSync(join(root, 'definitions', 'b.yaml'), small('w.b'));
    const r = await acore(COMPILE('out'), root);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe(content);
  });

  it('a hand-written unit with the same name is reported, not overwritten; --force replaces it', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    mkdirSync(join(root, 'out'));
    writeFileSync(join(root, 'out', 'w.a.service'), '[Service]\nExecStart=/bin/true\n');
    const r = await acore(COMPILE('out'), root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/w\.a\.service: error\[output-conflict\]: exists and was not generated by acore/);
    expect(listFiles(join(root, 'out'))).toEqual(['w.a.service']);
    expect(readFileSync(join(root, 'out', 'w.a.service'), 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
    expect((await acore(COMPILE('out', '--force'), root)).code).toBe(0);
    expect(readFileSync(join(root, 'out', 'w.a.service'), 'utf8')).toMatch(/^# Generated by acore/);
  });

  it('temporary files of a killed compile are removed by the next compile that writes; anything else is kept', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    expect((await acore(CRON('out'), root)).code).toBe(0);
    const out = join(root, 'out');
    // A dead PID (beyond pid_max), a live one (this process), look-alikes, a directory and a link.
    const dead = '.w.a.sh~0.acore-tmp-99999999-0badc0de';
    const live = `.w.a.sh~0.acore-tmp-${process.pid}-0badc0de`;
    writeFileSync(join(out, 'libexec', dead), '#!/bin/sh\n# Generated by acore (partial');
    writeFileSync(join(out, dead), '');
    writeFileSync(join(out, 'libexec', live), 'x');
    writeFileSync(join(out, 'libexec', 'notes.acore-tmp-1-0badc0de'), 'mine'); // not a dotfile: not ours
    writeFileSync(join(out, 'libexec', '.x.acore-tmp-1-0BADC0DE'), 'mine'); // not lower-case hex
    mkdirSync(join(out, 'libexec', '.d.acore-tmp-99999998-0badc0de'));
    symlinkSync('/etc/passwd', join(out, 'libexec', '.l.acore-tmp-99999997-0badc0de'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), small('w.a', 'echo changed'));
    const r = await acore(CRON('out'), root);
    expect(r.code, r.stderr).toBe(0);
    const left = readdirSync(join(out, 'libexec')).sort();
    expect(left).not.toContain(dead);
    expect(readdirSync(out)).not.toContain(dead);
    expect(left).toEqual([live, '.d.acore-tmp-99999998-0badc0de', '.l.acore-tmp-99999997-0badc0de', '.x.acore-tmp-1-0BADC0DE', 'notes.acore-tmp-1-0badc0de', 'w.a.sh'].sort());
    expect(existsSync('/etc/passwd')).toBe(true);
  });

  it('--check never cleans, never writes: leftovers are only mentioned', async () => {
    const root = project({ 'a.yaml': small('w.a') });
    expect((await acore(COMPILE('out'), root)).code).toBe(0);
    const dead = '.w.a.timer~0.acore-tmp-99999999-0badc0de';
    writeFileSync(join(root, 'out', dead), '');
    const before = snapshot(join(root, 'out'));
    const r = await acore(COMPILE('out', '--check'), root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(dead);
    expect(snapshot(join(root, 'out'))).toEqual(before);
  });
});
