/**
 * Reads the definitions directory: every *.yaml / *.yml below it (hidden entries skipped),
 * sorted, decoded as strict UTF-8. Problems become diagnostics, never exceptions.
 */
import { closeSync, type Dirent, fstatSync, openSync, readdirSync, readSync, type Stats, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../compiler/diagnostics.ts';
import type { SourceFile } from '../compiler/source.ts';

/** Definition files larger than this are refused before parsing. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

export interface ReadResult {
  files: (SourceFile & { name: string; stamp: string })[];
  diagnostics: Diagnostic[];
}

/**
 * What identifies a file's content without reading it: size, mtime, ctime (which no one can set
 * back) and inode. Used by the no-change fast path (src/cli/incremental.ts).
 */
const stampOf = (st: Stats) => `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;

interface Walk {
  diagnostics: Diagnostic[];
  /** Called for every definition file, in path order. */
  file: (abs: string, path: string, name: string) => void;
}

/** A path as shown to the user: relative to `cwd` below it, else absolute; '/'-separated. */
function displayPath(cwd: string, abs: string): string {
  const shown = relative(cwd, abs);
  return (shown.startsWith('..') || isAbsolute(shown) ? abs : shown).split(sep).join('/');
}

/**
 * Every *.yaml / *.yml below `dir` (hidden entries skipped; symbolic links followed, loops
 * cut), in sorted order, with its display path (relative to `cwd`, or absolute outside it) and
 * its stable name (the root's own name, then the path below it).
 */
function walkDefinitions(dir: string, cwd: string, w: Walk): void {
  const abs = resolve(cwd, dir);
  let rootStat;
  try {
    rootStat = statSync(abs);
  } catch {
    w.diagnostics.push({ code: 'io-read', severity: 'error', message: `definitions directory ${dir} does not exist`, file: '' });
    return;
  }
  if (!rootStat.isDirectory()) {
    w.diagnostics.push({ code: 'io-read', severity: 'error', message: `${dir} is not a directory`, file: '' });
    return;
  }
  const rootName = basename(abs);
  // Display paths: computed once for the root (path.relative per file costs more than reading a small file).
  const shown = displayPath(cwd, abs);
  const prefix = shown === '' ? '' : `${shown}/`;
  // Directories already walked (device + inode): a symlink back to a parent (`loop -> ..`) would
  // otherwise read every file again, and two such links make the walk exponential (a hang).
  const walked = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const walk = (d: string, rel: string, depth: number) => {
    if (depth > 32) return;
    let entries: Dirent[];
    try {
      // With types: no stat per entry (only symbolic links and directories need one).
      entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      w.diagnostics.push({ code: 'io-read', severity: 'error', message: `cannot read directory: ${(e as Error).message}`, file: `${prefix}${rel}`.replace(/\/$/, '') });
      return;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (name.startsWith('.')) continue;
      // (d is already a resolved path and name a single entry: what join() would give)
      const p = d.endsWith('/') ? `${d}${name}` : `${d}/${name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let st;
      if (entry.isSymbolicLink() || isDir) {
        try {
          st = statSync(p);
        } catch {
          continue; // dangling symlink
        }
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) {
        const id = `${st!.dev}:${st!.ino}`;
        if (walked.has(id)) continue;
        walked.add(id);
        walk(p, `${rel}${name}/`, depth + 1);
      } else if (isFile && /\.ya?ml$/i.test(name)) w.file(p, `${prefix}${rel}${name}`, `${rootName}/${rel}${name}`);
    }
  };
  walk(abs, '', 0);
}

/**
 * @param dir the definitions directory as the user gave it
 * @param cwd for display paths relative to the working directory
 * @param skip names of files not to read (the caller reuses what they made)
 */
export function readDefinitions(dir: string, cwd: string, skip?: ReadonlySet<string>, listing: Listing = listDefinitions(dir, cwd)): ReadResult {
  const { files, diagnostics, skipped } = readListing(listing, skip);
  if (files.length === 0 && skipped === 0 && diagnostics.length === 0) {
    // Declarative: no definitions means no jobs (a compile removes what acore generated before).
    // A directory that does not exist is still an error (a mistyped path).
    diagnostics.push({
      code: 'no-definitions',
      severity: 'warning',
      message: `no *.yaml or *.yml files in ${dir}: nothing to generate; files acore generated from it before are removed`,
      file: '',
    });
  }
  return { files, diagnostics };
}

/** The files of a listing, read (but those named in `skip`); every problem a diagnostic. */
export function readListing(listing: Listing, skip?: ReadonlySet<string>): ReadResult & { skipped: number } {
  const diagnostics: Diagnostic[] = [...listing.diagnostics];
  const files: ReadResult['files'] = [];
  let skipped = 0;
  // One buffer for every file: a definition larger than MAX_DEFINITION_BYTES is refused, so
  // reading one byte more than that tells whether it is.
  const buffer = Buffer.allocUnsafe(MAX_DEFINITION_BYTES + 1);
  for (const [abs, path, name] of listing.files) {
    // A file the caller has already (reused from the last compile): not even opened.
    if (skip?.has(name)) {
      skipped++;
      continue;
    }
    const file = readOne(abs, path, name, buffer, diagnostics);
    if (file) files.push(file);
  }
  return { files, diagnostics, skipped };
}

/** One definition file, read whole into `buffer` and decoded; problems go to `diagnostics`. */
function readOne(abs: string, path: string, name: string, buffer: Buffer, diagnostics: Diagnostic[]): ReadResult['files'][number] | undefined {
  let size = 0;
  let stamp: string;
  try {
    const fd = openSync(abs, 'r');
    try {
      // Taken before reading: a change made while reading shows as a different stamp next time.
      const st = fstatSync(fd);
      stamp = stampOf(st);
      // As many bytes as fstat says (one read, no second one to see the end), or up to the
      // limit + 1 when it says 0 (/proc-like files) or too many.
      const expected = st.size > 0 ? Math.min(st.size, buffer.length) : buffer.length;
      for (let n; size < expected && (n = readSync(fd, buffer, size, buffer.length - size, null)) > 0; ) size += n;
      if (size > MAX_DEFINITION_BYTES) size = Math.max(size, st.size);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    diagnostics.push({ code: 'io-read', severity: 'error', message: `cannot read: ${(e as Error).message}`, file: path });
    return undefined;
  }
  if (size > MAX_DEFINITION_BYTES) {
    diagnostics.push({ code: 'io-read', severity: 'error', message: `file is ${size} bytes; definitions are limited to ${MAX_DEFINITION_BYTES} bytes`, file: path });
    return undefined;
  }
  const bytes = buffer.subarray(0, size);
  // Strict UTF-8 (isUtf8 refuses what a fatal TextDecoder refuses: overlong forms,
  // surrogates, truncated sequences), decoded without a byte order mark.
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    diagnostics.push({
      code: 'io-encoding',
      severity: 'error',
      message: `not valid UTF-8 (first bad byte 0x${(bytes[at.offset] ?? 0).toString(16).padStart(2, '0')} at byte ${at.offset})`,
      file: path,
      range: { start: { line: at.line, col: at.col }, end: { line: at.line, col: at.col + 1 } },
    });
    return undefined;
  }
  const decoded = bytes.toString('utf8');
  const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
  return { path, name, text, stamp };
}

/** The definition files below a directory (walked once: stamped, then the same list read), and the walk's problems. */
export interface Listing {
  /** Absolute path, display path, stable name; in path order. */
  files: [abs: string, path: string, name: string][];
  diagnostics: Diagnostic[];
}

export function listDefinitions(dir: string, cwd: string): Listing {
  const listing: Listing = { files: [], diagnostics: [] };
  walkDefinitions(dir, cwd, { diagnostics: listing.diagnostics, file: (abs, path, name) => listing.files.push([abs, path, name]) });
  return listing;
}

/**
 * Files named one by one (as an editor or a commit hook passes them; checked whatever their
 * extension) and directories (walked as the definitions directory is), each file once, in path
 * order. A file below the definitions directory `dir` has the name it has there.
 */
export function listPaths(paths: readonly string[], dir: string, cwd: string): Listing {
  const listing: Listing = { files: [], diagnostics: [] };
  const root = resolve(cwd, dir);
  const rootName = basename(root);
  const seen = new Set<string>();
  const add = (abs: string, path: string) => {
    if (seen.has(abs)) return;
    seen.add(abs);
    const below = relative(root, abs);
    const name = below.startsWith('..') || isAbsolute(below) ? path : `${rootName}/${below.split(sep).join('/')}`;
    listing.files.push([abs, path, name]);
  };
  for (const given of paths) {
    const abs = resolve(cwd, given);
    let st: Stats;
    try {
      st = statSync(abs);
    } catch {
      listing.diagnostics.push({ code: 'io-read', severity: 'error', message: 'does not exist', file: given });
      continue;
    }
    if (st.isDirectory()) {
      walkDefinitions(given, cwd, { diagnostics: listing.diagnostics, file: (a, path) => add(a, path) });
      continue;
    }
    add(abs, displayPath(cwd, abs));
  }
  listing.files.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return listing;
}

/** The definition files' names and stamps, without reading them: what the no-change fast path compares. */
export function stampDefinitions(listing: Listing): { files: { name: string; stamp: string }[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [...listing.diagnostics];
  const files: { name: string; stamp: string }[] = [];
  for (const [abs, path, name] of listing.files) {
    try {
      files.push({ name, stamp: stampOf(statSync(abs)) });
    } catch (e) {
      diagnostics.push({ code: 'io-read', severity: 'error', message: `cannot read: ${(e as Error).message}`, file: path });
    }
  }
  return { files, diagnostics };
}

function firstInvalidUtf8(bytes: Buffer): { offset: number; line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
    if (ok && len > 1) ok = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(i, i + len)) !== '\ufffd';
    if (!ok) return { offset: i, line, col };
    if (b === 0x0a) {
      line++;
      col = 1;
    } else col++;
    i += len;
  }
  return { offset: 0, line: 1, col: 1 };
}
