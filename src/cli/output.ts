/**
 * The only code that changes files. An output directory may be shared with hand-written files
 * (e.g. ~/.config/systemd/user), so:
 *
 * - acore records what it wrote in `.acore-manifest.json` (path → sha256) in that directory;
 * - it rewrites or removes a file only if the file carries acore's generated marker AND is
 *   recorded in the manifest with the same hash (i.e. nobody edited it since); anything else
 *   in the way is a conflict, reported, and only replaced with --force;
 * - it never writes or removes through a symlink: not at an output path, and not at a
 *   directory between the output directory and an output path (the output directory itself
 *   may be a symlink: that is where the user pointed it);
 * - writes are atomic and all-or-nothing: every new file (of every target in one call of
 *   applyPlans) is first written in full to a temporary file beside it, and only when all of
 *   them are on disk are they renamed into place; unchanged files are not touched at all. An
 *   output directory that does not exist yet is written whole into a staging directory beside
 *   it (`.NAME.acore-tmp-PID-XXXXXXXX`) and renamed into place in one step. A failure before
 *   the first rename (disk full, read-only or immutable directory …) changes nothing; a process
 *   killed at any point leaves each file either old or new, and a new directory absent or whole.
 * - while files are being renamed, the manifest on disk records both the old and the new hash
 *   of each (`pending`), so a compile killed half-way leaves every file it touched still
 *   recognised as acore's own by the next compile;
 * - the temporary files and staging directories of a compile that was killed
 *   (`.NAME.acore-tmp-PID-XXXXXXXX`, PID no longer running) are the only unrecorded files acore
 *   removes, the next time it writes there.
 */
import * as crypto from 'node:crypto';
import { closeSync, type Dirent, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Artefact } from '../targets/target.ts';
import { hasGeneratedMarker } from '../targets/target.ts';
import { stillAsLeft } from './incremental.ts';

export const MANIFEST = '.acore-manifest.json';

export interface Manifest {
  generator: 'acore';
  target: string;
  /** path → sha256 of the content acore wrote. */
  files: Record<string, string>;
  /** Only while a compile renames its files into place: path → sha256 of what it is writing. */
  pending?: Record<string, string>;
}

export type Change =
  | { kind: 'create'; path: string; content: string }
  | { kind: 'update'; path: string; content: string; old: string }
  | { kind: 'unchanged'; path: string }
  | { kind: 'remove'; path: string; old: string };

export interface Conflict {
  path: string;
  reason: string;
  /** Cannot be overridden with --force (e.g. a directory in the way). */
  hard?: boolean;
  /** What is on disk and what acore would write, when both are text (for --check diffs). */
  old?: string;
  content?: string;
}

export interface Plan {
  dir: string;
  target: string;
  changes: Change[];
  conflicts: Conflict[];
  /** Things worth saying that do not stop the run (e.g. an edited orphan that is left alone). */
  notes: string[];
  /** What the manifest on disk records (files and pending), for the manifest written during the renames. */
  recorded?: Record<string, string>;
  /** Temporary files of a killed compile (relative paths), removed when this plan is applied. */
  stale?: string[];
  /** sha256 of every artefact's content, by path (each hashed once per compile). */
  hashes?: Map<string, string>;
  /** sha256 of the manifest this plan leaves once applied (a later compile checks it is still that one). */
  manifestHash?: string;
  /**
   * The output directory does not exist yet: everything is written into a staging directory
   * beside it, which is then renamed into place in one step (no per-file temporary names).
   */
  fresh?: boolean;
  /** Staging directories of killed compiles beside the output directory (absolute paths). */
  staleStaging?: string[];
  /** Size and mtime of the unchanged files the plan looked at (for the no-change fast path). */
  stats?: Map<string, [number, number]>;
}

export class OutputError extends Error {}

// crypto.hash (Node ≥ 20.12) is a one-shot, several times cheaper per small file than createHash.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
export const sha256 = (s: string): string => (oneShot ? oneShot('sha256', s, 'hex') : crypto.createHash('sha256').update(s, 'utf8').digest('hex'));

type Entry = { kind: 'missing' } | { kind: 'file'; content: string } | { kind: 'symlink' } | { kind: 'other'; what: string };

/**
 * Directory listings, read once per directory per plan: most output paths do not exist yet
 * (a first compile) and need no lstat at all then.
 */
class Listing {
  readonly #dirs = new Map<string, Map<string, Dirent> | null>();
  /** The entries of a directory; null when it cannot be read (for a reason other than not existing). */
  list(dir: string): Map<string, Dirent> | null {
    let entries = this.#dirs.get(dir);
    if (entries === undefined) {
      try {
        entries = new Map(readdirSync(dir, { withFileTypes: true }).map((d) => [d.name, d]));
      } catch (e) {
        // A directory that does not exist holds nothing; anything else: inspect() finds out.
        entries = (e as NodeJS.ErrnoException).code === 'ENOENT' ? new Map() : null;
      }
      this.#dirs.set(dir, entries);
    }
    return entries;
  }
  has(path: string): boolean {
    const dir = dirname(path);
    const entries = this.list(dir);
    return entries === null || entries.has(path.slice(dir.length + 1));
  }
}

function inspect(path: string, listing?: Listing): Entry {
  if (listing && !listing.has(path)) return { kind: 'missing' };
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'missing' };
    throw new OutputError(`cannot inspect ${path}: ${(e as Error).message}`);
  }
  if (st.isSymbolicLink()) return { kind: 'symlink' };
  if (!st.isFile()) return { kind: 'other', what: st.isDirectory() ? 'a directory' : 'not a regular file' };
  try {
    return { kind: 'file', content: readFileSync(path, 'utf8') };
  } catch (e) {
    throw new OutputError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

const hashes = (v: unknown): v is Record<string, string> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((h) => typeof h === 'string');

/** The manifest in `dir`, if there is a valid one. */
function readManifest(dir: string): Manifest | undefined {
  return readManifestText(dir)?.manifest;
}

/** The manifest in `dir`, if there is a valid one, and its text as read. */
export function readManifestText(dir: string): { manifest: Manifest; text: string } | undefined {
  const entry = inspect(join(dir, MANIFEST));
  if (entry.kind !== 'file') return undefined;
  try {
    const m = JSON.parse(entry.content) as Manifest;
    if (m && m.generator === 'acore' && hashes(m.files) && (m.pending === undefined || hashes(m.pending))) return { manifest: m, text: entry.content };
  } catch {
    // A broken manifest records nothing: every existing file is then treated as not ours.
  }
  return undefined;
}

export function manifestContent(target: string, artefacts: readonly Artefact[], pending?: Record<string, string>, hashes?: ReadonlyMap<string, string>): string {
  const files: Record<string, string> = {};
  for (const a of [...artefacts].sort((x, y) => (x.path < y.path ? -1 : 1))) files[a.path] = hashes?.get(a.path) ?? sha256(a.content);
  const m: Manifest = { generator: 'acore', target, files };
  if (pending) m.pending = pending;
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** A leading `/`, or an empty, `.` or `..` segment. */
const UNSAFE_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** Manifest entries are written by acore, but the file could be tampered with: never leave the directory. */
function isSafeRelative(path: string): boolean {
  return path !== '' && !path.includes('\0') && !UNSAFE_SEGMENT.test(path);
}

/**
 * The name of acore's temporary files: `.NAME~N.acore-tmp-PID-XXXXXXXX`, NAME cut to 64 characters
 * so that the whole fits in 255 bytes, N numbering the files of one compile (cut names may clash).
 */
const TEMP = /^\..*\.acore-tmp-(\d+)-[0-9a-f]{8}$/s;
const tempName = (final: string, n: number, tag: string) =>
  join(dirname(final), `.${Array.from(final.slice(dirname(final).length + 1)).slice(0, 64).join('')}~${n}.acore-tmp-${tag}`);

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Checks the directories between `dir` and `dir/path` (not `dir` itself): each must be a real
 * directory, or missing (then it and everything below it will be created). Returns why not,
 * naming the directory. `cache` holds each directory's verdict ('' = fine, 'missing', or why not).
 */
function parentProblem(dir: string, path: string, cache: Map<string, string>): { at: string; reason: string } | undefined {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    let verdict = cache.get(rel);
    if (verdict === undefined) {
      verdict = '';
      try {
        const st = lstatSync(join(dir, rel));
        if (st.isSymbolicLink()) verdict = 'is a symbolic link; acore never writes or removes files through one (remove it)';
        else if (!st.isDirectory()) verdict = `is ${st.isFile() ? 'a file' : 'not a directory'}, where acore needs a directory, even with --force`;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        verdict = code === 'ENOENT' ? 'missing' : `cannot be inspected: ${(e as Error).message}`;
      }
      cache.set(rel, verdict);
    }
    if (verdict === 'missing') return undefined;
    if (verdict !== '') return { at: rel, reason: verdict };
  }
  return undefined;
}

/**
 * Decides what a compile into `dir` would change; reads, never writes. `opts.left`: size and
 * mtime of the files the previous compile left (src/cli/incremental.ts), asked for only when
 * the directory exists; a file that still has them, recorded in the manifest with the hash of
 * what is wanted now, is unchanged without being read. (--check and --force do not pass it:
 * they read everything.) `opts.manifest`: the manifest in `dir`, when the caller has read it.
 */
export function planOutput(
  dir: string,
  target: string,
  artefacts: readonly Artefact[],
  opts: { force: boolean; left?: () => ReadonlyMap<string, [number, number]> | undefined; manifest?: Manifest },
): Plan {
  const plan: Plan = { dir, target, changes: [], conflicts: [], notes: [] };
  const dirEntry = inspect(dir);
  if (dirEntry.kind === 'file' || dirEntry.kind === 'other') {
    if (!(dirEntry.kind === 'other' && dirEntry.what === 'a directory')) {
      throw new OutputError(`output directory ${dir} exists but is not a directory`);
    }
  }
  for (const a of artefacts) {
    // Targets build paths from validated ids; this is the last line of defence.
    if (!isSafeRelative(a.path) || a.path === MANIFEST) throw new OutputError(`internal: refusing to write ${JSON.stringify(a.path)}, which is not a plain path inside ${dir}`);
  }
  const hashes = new Map<string, string>();
  for (const a of artefacts) hashes.set(a.path, a.hash ?? sha256(a.content));
  plan.hashes = hashes;
  plan.staleStaging = staleStagings(dir);
  for (const s of plan.staleStaging) plan.notes.push(`${s}: staging directory of an acore compile that was interrupted; removed by the next compile that writes here`);
  if (dirEntry.kind === 'missing' && Buffer.byteLength(basename(dir)) <= 160) {
    // Nothing there yet: nothing to compare, nothing that could be in the way.
    plan.fresh = true;
    for (const a of artefacts) plan.changes.push({ kind: 'create', path: a.path, content: a.content });
    const manifest = manifestContent(target, artefacts, undefined, hashes);
    plan.manifestHash = sha256(manifest);
    plan.changes.push({ kind: 'create', path: MANIFEST, content: manifest });
    plan.stale = [];
    return plan;
  }
  // (Given when the caller has just read it: reusing definitions takes their hashes from it.)
  const old = opts.manifest ?? readManifest(dir);
  if (old && old.target !== target) {
    plan.conflicts.push({ path: MANIFEST, reason: `${dir} holds acore output for target '${old.target}'; use a separate --out for '${target}'` });
    return plan;
  }
  const recorded = old?.files ?? {};
  const pending = old?.pending ?? {};
  // The hash of each file on disk that is acore's (recorded, or exactly what it would write now):
  // what the manifest records while this plan's files are renamed.
  const current: Record<string, string> = {};
  plan.recorded = current;
  const ours = (path: string, content: string) => {
    if (!hasGeneratedMarker(content)) return false;
    const h = sha256(content);
    if (recorded[path] !== h && pending[path] !== h) return false;
    current[path] = h;
    return true;
  };

  const wanted = new Map(artefacts.map((a) => [a.path, a]));
  const left = opts.left?.();
  const listing = new Listing();
  const parents = new Map<string, string>();
  const blocked = new Set<string>();
  const manifest = manifestContent(target, artefacts, undefined, hashes);
  plan.manifestHash = sha256(manifest);
  const all = [...artefacts, { path: MANIFEST, content: manifest, ids: [] as string[] }];
  for (const a of all) {
    const parent = parentProblem(dir, a.path, parents);
    if (parent) {
      if (!blocked.has(parent.at)) plan.conflicts.push({ path: parent.at, reason: parent.reason, hard: true });
      blocked.add(parent.at);
      continue;
    }
    const asLeft = a.path === MANIFEST || recorded[a.path] !== hashes.get(a.path) ? undefined : leftAsIs(dir, a.path, left, listing);
    if (asLeft) {
      plan.changes.push({ kind: 'unchanged', path: a.path });
      current[a.path] = hashes.get(a.path)!;
      (plan.stats ??= new Map()).set(a.path, asLeft);
      continue;
    }
    const entry = inspect(join(dir, a.path), listing);
    if (entry.kind === 'missing') plan.changes.push({ kind: 'create', path: a.path, content: a.content });
    else if (entry.kind === 'symlink') {
      plan.conflicts.push({ path: a.path, reason: 'is a symbolic link; acore never writes through one (remove it, or use --force to replace the link itself)' });
      if (opts.force) plan.changes.push({ kind: 'update', path: a.path, content: a.content, old: '' });
    } else if (entry.kind === 'other') {
      plan.conflicts.push({ path: a.path, reason: `is ${entry.what}; acore cannot put a file there, even with --force`, hard: true });
    } else if (entry.content === a.content) {
      plan.changes.push({ kind: 'unchanged', path: a.path });
      if (a.path !== MANIFEST) current[a.path] = hashes.get(a.path)!;
    } else if (a.path === MANIFEST || ours(a.path, entry.content) || (opts.force && entry.kind === 'file')) {
      plan.changes.push({ kind: 'update', path: a.path, content: a.content, old: entry.content });
    } else {
      const why = !hasGeneratedMarker(entry.content)
        ? 'exists and was not generated by acore'
        : recorded[a.path] === undefined && pending[a.path] === undefined
          ? "was generated by acore, but not recorded in this directory's manifest"
          : 'was generated by acore but has been edited since';
      plan.conflicts.push({ path: a.path, reason: `${why}; not overwriting it (use --force to replace it)`, old: entry.content, content: a.content });
    }
  }
  for (const path of [...new Set([...Object.keys(recorded), ...Object.keys(pending)])].sort()) {
    if (wanted.has(path) || path === MANIFEST || !isSafeRelative(path)) continue;
    const parent = parentProblem(dir, path, parents);
    if (parent) {
      plan.notes.push(`${path}: no longer generated, but ${parent.at} ${parent.reason.replace(/ \(remove it\)$/, '')}; left in place`);
      continue;
    }
    const entry = inspect(join(dir, path));
    if (entry.kind !== 'file') continue;
    if (ours(path, entry.content) || opts.force) plan.changes.push({ kind: 'remove', path, old: entry.content });
    else plan.notes.push(`${path}: no longer generated, but edited since acore wrote it; left in place (remove it by hand, or use --force)`);
  }
  plan.stale = staleTemps(dir, [...artefacts.map((a) => a.path), ...Object.keys(recorded)].filter(isSafeRelative), parents, listing);
  for (const s of plan.stale) plan.notes.push(`${s}: temporary file of an acore compile that was interrupted; removed by the next compile that writes here`);
  // Surface the conflicts first in the order the files are listed.
  plan.conflicts.sort((a, b) => (a.path < b.path ? -1 : 1));
  return plan;
}

/** `path`'s size and mtime if it is a regular file that still has those the previous compile left it with. */
function leftAsIs(dir: string, path: string, left: ReadonlyMap<string, [number, number]> | undefined, listing: Listing): [number, number] | undefined {
  const seen = left?.get(path);
  if (!seen) return undefined;
  const file = join(dir, path);
  return listing.has(file) && stillAsLeft(file, seen) ? seen : undefined;
}

/**
 * Temporary files of killed compiles in the directories these paths live in (the listings are
 * the plan's own, read once). A PID that is running may be a compile writing right now: kept.
 */
function staleTemps(dir: string, paths: readonly string[], parents: Map<string, string>, listing: Listing): string[] {
  const dirs = new Set<string>(['']);
  for (const p of paths) {
    const d = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    if (d && !parentProblem(dir, `${d}/x`, parents)) dirs.add(d);
  }
  const out: string[] = [];
  for (const d of [...dirs].sort()) {
    for (const e of listing.list(d ? join(dir, d) : dir)?.values() ?? []) {
      const m = TEMP.exec(e.name);
      if (m && e.isFile() && !running(Number(m[1]))) out.push(d ? `${d}/${e.name}` : e.name);
    }
  }
  return out.sort();
}

/**
 * Staging directories of killed compiles beside `dir` (`.NAME.acore-tmp-PID-XXXXXXXX`, PID no
 * longer running): only acore makes such names, and only for a directory that did not exist.
 */
function staleStagings(dir: string): string[] {
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.acore-tmp-`;
  let entries: Dirent[];
  try {
    entries = readdirSync(parent, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.name.startsWith(prefix) || !e.isDirectory()) continue;
    const m = /^(\d+)-[0-9a-f]{8}$/.exec(e.name.slice(prefix.length));
    if (m && !running(Number(m[1]))) out.push(join(parent, e.name));
  }
  return out.sort();
}

export interface Applied {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  /** Temporary files of an interrupted compile that were removed. */
  cleaned: string[];
  /** Size and mtime of every file written (as fstat(2) saw it) or found unchanged by the plan, for the no-change fast path. */
  stats: Map<string, [number, number]>;
}

/**
 * All bytes of `content`. The string is handed to write(2) as it is (no Buffer copy per file: a
 * fleet's worth of those was ~100 MB of memory held until a garbage collection); write(2) may
 * write less than asked (e.g. when the disk fills up), then the rest goes from a Buffer.
 */
function writeAll(fd: number, content: string): void {
  const first = writeSync(fd, content);
  const length = Buffer.byteLength(content, 'utf8');
  if (first === length) return;
  const bytes = Buffer.from(content, 'utf8');
  for (let off = first; off < bytes.length; ) {
    const n = writeSync(fd, bytes, off, bytes.length - off);
    if (n <= 0) throw new Error('write made no progress');
    off += n;
  }
}

/** Creates `path` (it must not exist) with `content`; returns its size and mtime. */
function createFile(path: string, content: string): [number, number] {
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeAll(fd, content);
    const st = fstatSync(fd);
    return [st.size, st.mtimeMs];
  } finally {
    closeSync(fd);
  }
}

/**
 * Carries out plans without conflicts (or with --force), all or nothing across all of them:
 * every temporary file of every plan is written before the first rename, so a failure while
 * writing them (disk full, read-only file system, immutable directory, a name too long …)
 * leaves every output directory exactly as it was.
 *
 * Per plan, the renames then go: the manifest with `pending` hashes, the files, the removal of
 * orphans, the final manifest. A process killed at any point leaves each file old or new,
 * and every file acore touched recorded as its own.
 */
export function applyPlans(plans: readonly Plan[]): Applied[] {
  const results: Applied[] = plans.map((plan) => {
    const a: Applied = { created: [], updated: [], removed: [], unchanged: [], cleaned: [], stats: new Map(plan.stats) };
    for (const c of plan.changes) if (c.kind === 'unchanged' && c.path !== MANIFEST) a.unchanged.push(c.path);
    return a;
  });
  const work = plans.map((plan) => ({
    plan,
    writes: plan.changes.filter((c): c is Extract<Change, { kind: 'create' | 'update' }> => c.kind === 'create' || c.kind === 'update'),
    removes: plan.changes.filter((c): c is Extract<Change, { kind: 'remove' }> => c.kind === 'remove'),
  }));
  const active = work.filter((w) => w.writes.length > 0 || w.removes.length > 0 || (w.plan.stale?.length ?? 0) > 0 || (w.plan.staleStaging?.length ?? 0) > 0);
  if (active.length === 0) return results;

  // Phase 1: directories, then every new file's bytes under a temporary name.
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const PENDING = `${MANIFEST}\0pending`;
  const made: { first: string; leaf: string }[] = []; // directories this call created
  const temps: { tmp: string; final: string; path: string; plan: Plan }[] = [];
  /** Fresh plans: the staging directory that becomes the output directory. */
  const stagings = new Map<Plan, string>();
  const renamed = new Set<string>();
  const ensured = new Set<string>();
  const mkdir = (d: string) => {
    if (ensured.has(d)) return;
    const first = mkdirSync(d, { recursive: true });
    if (first !== undefined) made.push({ first, leaf: d });
    ensured.add(d);
  };
  const undo = () => {
    for (const staging of stagings.values()) {
      if (renamed.has(staging)) continue;
      try {
        rmSync(staging, { recursive: true, force: true });
      } catch {
        // the file system refuses even that; a later compile removes it as stale
      }
    }
    for (const t of temps) {
      if (renamed.has(t.tmp)) continue;
      try {
        unlinkSync(t.tmp);
      } catch {
        // already gone, or the file system refuses even that
      }
    }
    // Directories this call created, deepest first; rmdir only ever removes empty ones.
    for (const { first, leaf } of made.reverse()) {
      for (let d = leaf; d.length >= first.length; d = dirname(d)) {
        try {
          rmdirSync(d);
        } catch {
          break;
        }
      }
    }
  };
  try {
    for (const { plan, writes } of active) {
      const stats = results[plans.indexOf(plan)]!.stats;
      if (plan.fresh) {
        try {
          mkdir(dirname(plan.dir));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way where a parent directory should be (not a directory)' : (e as Error).message;
          throw new OutputError(`cannot create output directory ${plan.dir}: ${why}; nothing was changed`);
        }
        const staging = join(dirname(plan.dir), `.${basename(plan.dir)}.acore-tmp-${tag}`);
        mkdirSync(staging);
        stagings.set(plan, staging);
        const subdirs = new Set<string>();
        for (const w of writes) {
          const file = join(staging, w.path);
          const sub = dirname(file);
          if (sub !== staging && !subdirs.has(sub)) {
            mkdirSync(sub, { recursive: true });
            subdirs.add(sub);
          }
          stats.set(w.path, createFile(file, w.content));
        }
        continue;
      }
      try {
        mkdir(plan.dir);
      } catch (e) {
        throw new OutputError(`cannot create output directory ${plan.dir}: ${(e as Error).message}; nothing was changed`);
      }
      const manifest = writes.find((w) => w.path === MANIFEST);
      const files = writes.filter((w) => w.path !== MANIFEST);
      const list: { path: string; content: string }[] = [...files];
      if (manifest && files.length > 0) {
        // What the manifest says while the files are renamed: the old hashes, and the new ones as pending.
        const pending: Record<string, string> = {};
        for (const f of files) pending[f.path] = plan.hashes?.get(f.path) ?? sha256(f.content);
        const interim: Manifest = { generator: 'acore', target: plan.target, files: plan.recorded ?? {}, pending };
        list.push({ path: PENDING, content: `${JSON.stringify(interim, null, 2)}\n` });
      }
      if (manifest) list.push(manifest);
      for (const w of list) {
        const final = join(plan.dir, w.path === PENDING ? MANIFEST : w.path);
        mkdir(dirname(final));
        const tmp = tempName(w.path === PENDING ? `${final}.pending` : final, temps.length, tag);
        temps.push({ tmp, final, path: w.path, plan });
        const st = createFile(tmp, w.content);
        if (w.path !== PENDING) stats.set(w.path, st);
      }
    }
  } catch (e) {
    undo();
    if (e instanceof OutputError) throw e;
    throw new OutputError(`cannot write to ${active.map((w) => w.plan.dir).join(', ')}: ${(e as Error).message}; nothing was changed`);
  }

  // Phase 2, per plan: manifest with pending hashes, files, orphans, final manifest.
  for (const { plan, removes, writes } of active) {
    const result = results[plans.indexOf(plan)]!;
    const staging = stagings.get(plan);
    if (staging) {
      try {
        // rename(2) does not replace a directory that is not empty: one that appeared meanwhile stays.
        renameSync(staging, plan.dir);
        renamed.add(staging);
      } catch (e) {
        undo();
        throw new OutputError(`cannot move the new files into ${plan.dir}: ${(e as Error).message}`);
      }
      for (const w of writes) if (w.path !== MANIFEST) result.created.push(w.path);
    }
    for (const s of plan.staleStaging ?? []) {
      try {
        rmSync(s, { recursive: true, force: true });
        result.cleaned.push(s);
      } catch {
        // not removable: harmless, tried again next time
      }
    }
    if (staging) continue;
    const mine = temps.filter((t) => t.plan === plan);
    const kinds = new Map(plan.changes.map((c) => [c.path, c.kind]));
    const rename = (t: (typeof temps)[number]) => {
      renameSync(t.tmp, t.final);
      renamed.add(t.tmp);
    };
    try {
      for (const t of mine) if (t.path === PENDING) rename(t);
      for (const t of mine) {
        if (t.path === PENDING || t.path === MANIFEST) continue;
        rename(t);
        (kinds.get(t.path) === 'create' ? result.created : result.updated).push(t.path);
      }
      for (const c of removes) {
        try {
          unlinkSync(join(plan.dir, c.path));
          result.removed.push(c.path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      for (const t of mine) if (t.path === MANIFEST) rename(t);
    } catch (e) {
      undo();
      throw new OutputError(`cannot move files into ${plan.dir}: ${(e as Error).message}`);
    }
    for (const s of plan.stale ?? []) {
      try {
        unlinkSync(join(plan.dir, s));
        result.cleaned.push(s);
      } catch {
        // gone already, or not removable: harmless either way
      }
    }
  }
  return results;
}
