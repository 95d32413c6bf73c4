/**
 * The no-change fast path. After a compile, acore remembers — in its cache directory
 * ($XDG_CACHE_HOME/acore, not in the output directory, so nothing committed churns) — which
 * build, options and definition texts produced each output directory, and the size and mtime
 * of every file it left there. A later compile whose inputs hash to the same value, and whose
 * files are all still exactly as left, has nothing to do: it skips parsing and generating.
 * Anything else (a changed definition, option or acore build, an edited, missing or touched
 * file, a dev run of the TypeScript sources) takes the full path. `--check` never uses it.
 *
 * Beside it, what each definition file made (by its stamp): its files (their hashes are in the
 * output directory's manifest), its share of the shared files, and its warnings. When only some definitions changed, the others
 * are reused as they were, without compiling them (compile's `reuse`; a file with warnings is
 * read again to place them, the others are not read at all); their files' texts are not kept,
 * so a reused file that is not exactly as left (edited, removed) sends the compile down the
 * full path.
 *
 * Two files per output directory (named by a hash of its path); a compile into a new one
 * prunes those of directories that are gone (prune).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { KeptDiagnostic } from '../compiler/compile.ts';
import type { TargetProblem } from '../targets/target.ts';
import type { Io } from './main.ts';

declare const __ACORE_BUILD__: string | undefined;

/** The build fingerprint baked in by scripts/build.mjs; undefined when running from sources. */
export const BUILD: string | undefined = typeof __ACORE_BUILD__ === 'string' ? __ACORE_BUILD__ : undefined;

interface State {
  /** The output directory (first, so that pruning reads only the start of the file). */
  dir: string;
  build: string;
  inputs: string;
  /** path (relative to the output directory) → [size, mtimeMs] */
  files: Record<string, [number, number]>;
  /**
   * Set by `install` once the systemd manager has reloaded with exactly these files. Any other
   * write into the directory (a compile) writes a state without it.
   */
  reloaded?: true;
}

function cacheFile(dir: string, env: Io['env']): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || '/tmp', '.cache');
  return join(base, 'acore', `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`);
}

/** One hash over everything that decides the output of a target directory: the files by name and stamp. */
export function inputsHash(parts: readonly string[], files: readonly { name: string; stamp: string }[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${p}\0`);
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) hash.update(`${f.name}\0${f.stamp}\0`);
  return hash.digest('hex');
}

// Read once per directory per process: the fast-path check and the planner both ask.
const states = new Map<string, State | undefined>();
function readState(dir: string, env: Io['env']): State | undefined {
  const file = cacheFile(dir, env);
  if (!states.has(file)) {
    let state: State | undefined;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as State;
    } catch {
      state = undefined;
    }
    states.set(file, state);
  }
  return states.get(file);
}

/** Whether `dir` is exactly as a compile with these inputs left it. */
export function unchangedSince(dir: string, inputs: string, env: Io['env']): boolean {
  if (!BUILD) return false;
  const state = readState(dir, env);
  if (!state || state.build !== BUILD || state.inputs !== inputs) return false;
  // (for…in and a plain concatenation: a fleet's 20,000 entries, without an array or a path.join each)
  const files = state.files;
  for (const path in files) if (!stillAsLeft(`${dir}/${path}`, files[path]!)) return false;
  return true;
}

/** Whether `path` is a regular file that still has the size and mtime a compile left it with. */
export function stillAsLeft(path: string, [size, mtime]: readonly [number, number]): boolean {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.isFile() && st.size === size && st.mtimeMs === mtime;
  } catch {
    return false;
  }
}

/**
 * Whether the last compile into `dir` was an install after which the systemd manager reloaded:
 * then, if nothing has been written there since (no file changes now, see install), the manager
 * already has exactly these files loaded.
 */
export function lastReloaded(dir: string, env: Io['env']): boolean {
  return BUILD !== undefined && readState(dir, env)?.reloaded === true;
}

/**
 * Size and mtime of each file the last compile into `dir` left there (whatever its inputs): a
 * file that still has them holds what that compile wrote, i.e. what the manifest records, and
 * the planner need not read it (src/cli/output.ts).
 */
export function lastLeft(dir: string, env: Io['env']): Map<string, [number, number]> | undefined {
  if (!BUILD) return undefined;
  const state = readState(dir, env);
  return state && typeof state.files === 'object' && state.files !== null ? new Map(Object.entries(state.files)) : undefined;
}

/**
 * Remembers what a successful compile left in `dir`. `known`: size and mtime of the files it has
 * just written (taken with fstat while writing); the others are looked up. Failing to remember
 * only costs speed.
 */
export function remember(dir: string, inputs: string, paths: readonly string[], env: Io['env'], known?: ReadonlyMap<string, [number, number]>, reloaded = false): void {
  if (!BUILD) return;
  const file = cacheFile(dir, env);
  states.delete(file);
  try {
    const first = !existsSync(file);
    writeInPieces(file, (out) => {
      // The State, written piece by piece (a fleet's is over a MB: see writeInPieces).
      out(`{"dir":${JSON.stringify(dir)},"build":${JSON.stringify(BUILD)},"inputs":${JSON.stringify(inputs)},"files":{`);
      let n = 0;
      for (const path of paths) {
        let seen = known?.get(path);
        if (!seen) {
          const st = lstatSync(join(dir, path));
          seen = [st.size, st.mtimeMs];
        }
        out(`${n++ > 0 ? ',' : ''}${quoted(path)}:[${seen[0]},${seen[1]}]`);
      }
      out(`}${reloaded ? ',"reloaded":true' : ''}}`);
    });
    if (first) prune(join(file, '..'));
  } catch {
    // A read-only cache directory just means the next compile does the full work.
  }
}

/** Characters a JSON string holds as they are (a path of only these needs no JSON.stringify). */
const PLAIN = /^[\w.@:+/-]*$/;
/** A path as a JSON string: quoted as it is when it can be (a fleet's are). */
const quoted = (path: string) => (PLAIN.test(path) ? `"${path}"` : JSON.stringify(path));

/**
 * Writes `file` (through a temporary file renamed over it) from pieces of text, in chunks of
 * 32 KB: a fleet's records are megabytes, and one string of them, or chunks past V8's large
 * object size (128 KB), would each take fresh memory, which here costs time (page faults) and
 * raises the process's peak at the very end of a compile, when every generated text is alive.
 */
function writeInPieces(file: string, write: (out: (piece: string) => void) => void): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let chunk = '';
    write((piece) => {
      chunk += piece;
      if (chunk.length > 1 << 15) {
        writeSync(fd, chunk);
        chunk = '';
      }
    });
    if (chunk) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** acore's own files in its cache directory: a state and what each definition made. */
const OWN = /^([0-9a-f]{32})(\.made)?\.json$/;

/**
 * Forgets output directories that are gone: their two files in the cache directory. Run when a
 * compile into a new output directory adds an entry, so the cache grows with the directories
 * that exist, not with every directory ever compiled into (a test suite's temporary ones, say). Only files named as acore names them are removed; a state
 * without its directory (an older acore's) goes too, which at worst costs one full compile.
 */
export function prune(cacheDir: string): void {
  try {
    const names = readdirSync(cacheDir);
    const present = new Set(names);
    const buffer = Buffer.alloc(8192);
    for (const name of names) {
      const m = OWN.exec(name);
      if (!m || m[2]) continue;
      const state = join(cacheDir, name);
      let head = '';
      const fd = openSync(state, 'r');
      try {
        head = buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0));
      } finally {
        closeSync(fd);
      }
      const dir = /^\{"dir":("(?:[^"\\]|\\.)*")/.exec(head)?.[1];
      if (dir !== undefined && existsSync(JSON.parse(dir) as string)) continue;
      if (dir === undefined && head.length === buffer.length) continue; // a path too long to see: kept
      rmSync(state, { force: true });
      if (present.has(`${m[1]}.made.json`)) rmSync(join(cacheDir, `${m[1]}.made.json`), { force: true });
    }
  } catch {
    // Pruning is housekeeping: a failure costs only disk space.
  }
}

/**
 * What one definition made for one target: its files' paths (their hashes are the output
 * directory's manifest's: see reuseFrom in compile-command.ts), its share of the shared files,
 * its warnings.
 */
export interface MadeBy {
  id: string;
  /** Its document's index in the file. */
  index: number;
  enabled: boolean;
  files: string[];
  share?: unknown;
  problems?: TargetProblem[];
}

/** Per definition file (by name): its stamp then, what each of its definitions made, and what loading it reported. */
export type Made = Record<string, { stamp: string; defs: MadeBy[]; diagnostics?: KeptDiagnostic[] }>;

/**
 * On disk, per file: [stamp, diagnostics or 0, definitions], each definition
 * [id, index, enabled (1/0), [path, path …], share or 0, [problem indexes] or 0], problems kept
 * once in `problems` (a fleet gets the same few warnings many times). Arrays, written piece by
 * piece: much quicker than JSON.stringify of the objects, at fleet scale. No hashes: the
 * manifest has them (a fleet's records are a third smaller, and every MB read or written costs).
 */
export type MadeOnDisk = [stamp: string, diagnostics: KeptDiagnostic[] | 0, defs: [string, number, 0 | 1, string[], unknown, number[] | 0][]];

interface MadeState {
  build: string;
  /** The target and its options: a definition is reused only under the same ones. */
  setup: string;
  /** sha256 of the manifest the same compile left: the reused files' hashes are read from it. */
  manifest: string;
  made: Record<string, MadeOnDisk>;
  problems: Omit<TargetProblem, 'id'>[];
}

/** The last compile's records for one output directory, as on disk: decoded only for the files reused. */
export type MadeRecords = Omit<MadeState, 'build' | 'setup'>;

const madeFile = (dir: string, env: Io['env']) => cacheFile(dir, env).replace(/\.json$/, '.made.json');

/** What the last compile into `dir` made per definition file, if it was this build with this setup. */
export function lastMade(dir: string, setup: string, env: Io['env']): MadeRecords | undefined {
  if (!BUILD) return undefined;
  try {
    const m = JSON.parse(readFileSync(madeFile(dir, env), 'utf8')) as MadeState;
    if (m.build !== BUILD || m.setup !== setup || typeof m.manifest !== 'string' || typeof m.made !== 'object' || m.made === null || !Array.isArray(m.problems)) return undefined;
    return { manifest: m.manifest, made: m.made, problems: m.problems };
  } catch {
    return undefined;
  }
}


/** Remembers what each definition file made (written before the state: see remember). */
export function rememberMade(dir: string, setup: string, manifest: string, made: Iterable<[string, Made[string]]>, env: Io['env']): void {
  if (!BUILD) return;
  try {
    const file = madeFile(dir, env);
    const q = JSON.stringify;
    const table: string[] = [];
    const indexOf = new Map<string, number>();
    const intern = ({ id: _, ...problem }: TargetProblem) => {
      const json = q(problem);
      let i = indexOf.get(json);
      if (i === undefined) {
        i = table.push(json) - 1;
        indexOf.set(json, i);
      }
      return i;
    };
    writeInPieces(file, (out) => {
      out(`{"build":${q(BUILD)},"setup":${q(setup)},"manifest":${q(manifest)},"made":{`);
      let n = 0;
      for (const [key, entry] of made) {
        let defs = '';
        for (const d of entry.defs) {
          let files = '';
          // Ids are plain (ID_PATTERN); a path needs quoting only past the plain characters.
          for (const path of d.files) files += `${files ? ',' : ''}${quoted(path)}`;
          const problems = d.problems ? `[${d.problems.map(intern).join(',')}]` : '0';
          defs += `${defs ? ',' : ''}["${d.id}",${d.index},${d.enabled ? 1 : 0},[${files}],${d.share === undefined ? '0' : q(d.share)},${problems}]`;
        }
        out(`${n++ > 0 ? ',' : ''}${q(key)}:[${q(entry.stamp)},${entry.diagnostics ? q(entry.diagnostics) : '0'},[${defs}]]`);
      }
      out(`},"problems":[${table.join(',')}]}`);
    });
  } catch {
    // Only speed is lost.
  }
}
