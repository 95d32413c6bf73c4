/**
 * The only code that changes files. An output directory may be shared with hand-written files
 * (e.g. ~/.config/systemd/user), so:
 *
 * - acore records what it wrote in `.acore-manifest.json` (path → sha256) in that directory;
 * - it rewrites or removes a file only if the file carries acore's generated marker AND is
 *   recorded in the manifest with the same hash (i.e. nobody edited it since); anything else
 *   in the way is a conflict, reported, and only replaced with --force;
 * - it never writes through a symlink;
 * - writes are atomic and all-or-nothing: every new file is first written to a temporary file
 *   beside it, and only when all of them (and the new manifest) are on disk are they renamed
 *   into place; unchanged files are not touched at all.
 */
import * as crypto from 'node:crypto';
import { closeSync, type Dirent, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Artefact } from '../targets/target.ts';
import { hasGeneratedMarker } from '../targets/target.ts';

export const MANIFEST = '.acore-manifest.json';

export interface Manifest {
  generator: 'acore';
  target: string;
  /** path → sha256 of the content acore wrote. */
  files: Record<string, string>;
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
  has(path: string): boolean {
    const dir = dirname(path);
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

function readManifest(dir: string): Manifest | undefined {
  const entry = inspect(join(dir, MANIFEST));
  if (entry.kind !== 'file') return undefined;
  try {
    const m = JSON.parse(entry.content) as Manifest;
    if (m && m.generator === 'acore' && typeof m.files === 'object' && m.files !== null) return m;
  } catch {
    // A broken manifest records nothing: every existing file is then treated as not ours.
  }
  return undefined;
}

export function manifestContent(target: string, artefacts: readonly Artefact[]): string {
  const files: Record<string, string> = {};
  for (const a of [...artefacts].sort((x, y) => (x.path < y.path ? -1 : 1))) files[a.path] = sha256(a.content);
  const m: Manifest = { generator: 'acore', target, files };
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** Decides what a compile into `dir` would change; reads, never writes. */
export function planOutput(dir: string, target: string, artefacts: readonly Artefact[], opts: { force: boolean }): Plan {
  const plan: Plan = { dir, target, changes: [], conflicts: [], notes: [] };
  const dirEntry = inspect(dir);
  if (dirEntry.kind === 'file' || dirEntry.kind === 'other') {
    if (!(dirEntry.kind === 'other' && dirEntry.what === 'a directory')) {
      throw new OutputError(`output directory ${dir} exists but is not a directory`);
    }
  }
  const old = readManifest(dir);
  if (old && old.target !== target) {
    plan.conflicts.push({ path: MANIFEST, reason: `${dir} holds acore output for target '${old.target}'; use a separate --out for '${target}'` });
    return plan;
  }
  const recorded = old?.files ?? {};
  const ours = (path: string, content: string) => hasGeneratedMarker(content) && recorded[path] === sha256(content);

  const wanted = new Map(artefacts.map((a) => [a.path, a]));
  const listing = new Listing();
  const all = [...artefacts, { path: MANIFEST, content: manifestContent(target, artefacts), ids: [] as string[] }];
  for (const a of all) {
    const entry = inspect(join(dir, a.path), listing);
    if (entry.kind === 'missing') plan.changes.push({ kind: 'create', path: a.path, content: a.content });
    else if (entry.kind === 'symlink') {
      plan.conflicts.push({ path: a.path, reason: 'is a symbolic link; acore never writes through one (remove it, or use --force to replace the link itself)' });
      if (opts.force) plan.changes.push({ kind: 'update', path: a.path, content: a.content, old: '' });
    } else if (entry.kind === 'other') {
      plan.conflicts.push({ path: a.path, reason: `is ${entry.what}; acore cannot put a file there, even with --force`, hard: true });
    } else if (entry.content === a.content) plan.changes.push({ kind: 'unchanged', path: a.path });
    else if (a.path === MANIFEST || ours(a.path, entry.content) || (opts.force && entry.kind === 'file')) {
      plan.changes.push({ kind: 'update', path: a.path, content: a.content, old: entry.content });
    } else {
      const why = !hasGeneratedMarker(entry.content)
        ? 'exists and was not generated by acore'
        : recorded[a.path] === undefined
          ? 'was generated by acore, but not recorded in this directory\'s manifest'
          : 'was generated by acore but has been edited since';
      plan.conflicts.push({ path: a.path, reason: `${why}; not overwriting it (use --force to replace it)`, old: entry.content, content: a.content });
    }
  }
  for (const path of Object.keys(recorded).sort()) {
    if (wanted.has(path) || path === MANIFEST || !isSafeRelative(path)) continue;
    const entry = inspect(join(dir, path));
    if (entry.kind !== 'file') continue;
    if (ours(path, entry.content) || opts.force) plan.changes.push({ kind: 'remove', path, old: entry.content });
    else plan.notes.push(`${path}: no longer generated, but edited since acore wrote it; left in place (remove it by hand, or use --force)`);
  }
  // Surface the conflicts first in the order the files are listed.
  plan.conflicts.sort((a, b) => (a.path < b.path ? -1 : 1));
  return plan;
}

/** Manifest entries are written by acore, but the file could be tampered with: never leave the directory. */
function isSafeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.split('/').some((s) => s === '..' || s === '' || s === '.');
}

export interface Applied {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
}

/** Carries out a plan without conflicts (or with --force). All temporary files first, then renames. */
export function applyPlan(plan: Plan): Applied {
  const applied: Applied = { created: [], updated: [], removed: [], unchanged: [] };
  const writes = plan.changes.filter((c): c is Extract<Change, { kind: 'create' | 'update' }> => c.kind === 'create' || c.kind === 'update');
  for (const c of plan.changes) if (c.kind === 'unchanged' && c.path !== MANIFEST) applied.unchanged.push(c.path);
  if (writes.length === 0 && !plan.changes.some((c) => c.kind === 'remove')) return applied;

  try {
    mkdirSync(plan.dir, { recursive: true });
  } catch (e) {
    throw new OutputError(`cannot create output directory ${plan.dir}: ${(e as Error).message}`);
  }

  // Phase 1: every new file's bytes on disk under a temporary name (disk full → nothing changed).
  // No fsync: rename is atomic for every reader and for a killed compile; a power cut is the
  // file system's to order (ext4 and xfs flush data before a replacing rename).
  const temps: { tmp: string; final: string; change: Change }[] = [];
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const made = new Set<string>([plan.dir]);
  try {
    for (const w of writes) {
      const final = join(plan.dir, w.path);
      const parent = dirname(final);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      const tmp = join(parent, `.${w.path.split('/').pop()}.acore-tmp-${tag}`);
      temps.push({ tmp, final, change: w });
      const fd = openSync(tmp, 'wx', 0o644);
      try {
        writeSync(fd, w.content);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    for (const t of temps) rmSync(t.tmp, { force: true });
    throw new OutputError(`cannot write to ${plan.dir}: ${(e as Error).message}; nothing was changed`);
  }

  // Phase 2: rename into place (the manifest last), then remove orphans.
  const ordered = [...temps.filter((t) => t.change.path !== MANIFEST), ...temps.filter((t) => t.change.path === MANIFEST)];
  try {
    for (const t of ordered) {
      renameSync(t.tmp, t.final);
      if (t.change.path !== MANIFEST) (t.change.kind === 'create' ? applied.created : applied.updated).push(t.change.path);
    }
  } catch (e) {
    for (const t of temps) rmSync(t.tmp, { force: true });
    throw new OutputError(`cannot move files into ${plan.dir}: ${(e as Error).message}`);
  }
  for (const c of plan.changes) {
    if (c.kind !== 'remove') continue;
    try {
      unlinkSync(join(plan.dir, c.path));
      applied.removed.push(c.path);
    } catch (e) {
      throw new OutputError(`cannot remove ${join(plan.dir, c.path)}: ${(e as Error).message}`);
    }
  }
  return applied;
}
