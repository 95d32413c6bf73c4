/**
 * The little of git that `acore diff` needs, run with execFile (never a shell): the repository
 * root, refs → commits, the default branch, and the definition files of a commit.
 *
 * Every failure a user can cause (not a repository, an unknown ref) is a `GitError` with a
 * message fit to print; the caller turns it into exit code 2.
 */
import { execFile } from 'node:child_process';

export class GitError extends Error {}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Larger than any definitions directory we would read. */
const MAX_BUFFER = 256 * 1024 * 1024;

/** Runs `git <args>` in `cwd`; never throws for a non-zero exit (see `code`). */
export function git(args: readonly string[], cwd: string, input?: Buffer | string): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      'git',
      // Paths are literal (a directory named `*` is a directory), and git never asks for input.
      ['--literal-pathspecs', '-c', 'core.quotePath=false', ...args],
      {
        cwd,
        encoding: 'buffer',
        maxBuffer: MAX_BUFFER,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' },
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (err && typeof err.code === 'string') {
          // Spawning failed (git missing, cwd gone): not a git answer.
          reject(new GitError(err.code === 'ENOENT' ? 'git is not installed (acore diff reads the definitions from git)' : `cannot run git: ${err.message}`));
          return;
        }
        if (err && /maxBuffer/i.test(err.message)) {
          reject(new GitError(`git ${args[0]} produced more output than acore reads`));
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout: stdout as Buffer, stderr: (stderr as Buffer).toString('utf8') });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

async function gitText(args: readonly string[], cwd: string): Promise<string | undefined> {
  const r = await git(args, cwd);
  return r.code === 0 ? r.stdout.toString('utf8').replace(/\n$/, '') : undefined;
}

/** The top directory of the work tree containing `cwd`. */
export async function repositoryRoot(cwd: string): Promise<string> {
  const r = await git(['rev-parse', '--show-toplevel'], cwd);
  const root = r.stdout.toString('utf8').trim();
  if (r.code !== 0 || !root) {
    throw new GitError(`${cwd} is not inside a git work tree (acore diff compares versions of the definitions from git)`);
  }
  return root;
}

export interface CommitInfo {
  sha: string;
  short: string;
  /** Committer date, epoch ms. */
  date: number;
}

/** The commit a ref names, with its abbreviated name and committer date, in one `git show`; undefined when there is none. */
export async function commit(cwd: string, ref: string): Promise<CommitInfo | undefined> {
  if (ref === '' || ref.startsWith('-') || /[\0\n]/.test(ref)) return undefined;
  const r = await git(['show', '-s', '--format=%H %h %ct', `${ref}^{commit}`, '--'], cwd);
  const [sha, short, ct] = r.stdout.toString('utf8').trim().split(' ');
  if (r.code !== 0 || !sha || !short || !ct) return undefined;
  return { sha, short, date: Number(ct) * 1000 };
}

const DEFAULT_BRANCHES = ['refs/remotes/origin/main', 'refs/remotes/origin/master', 'refs/heads/main', 'refs/heads/master'];

/**
 * The default branch, as the first of origin/HEAD (where it points), origin/main,
 * origin/master, main, master that exists; undefined when none does. One `git for-each-ref`.
 */
export async function defaultBranch(root: string): Promise<string | undefined> {
  const r = await git(['for-each-ref', '--format=%(refname)%00%(symref)', 'refs/remotes/origin/HEAD', ...DEFAULT_BRANCHES], root);
  if (r.code !== 0) return undefined;
  const refs = new Map<string, string>();
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const [name, symref = ''] = line.split('\0');
    if (name) refs.set(name, symref);
  }
  const short = (ref: string) => ref.replace(/^refs\/(remotes|heads)\//, '');
  const originHead = refs.get('refs/remotes/origin/HEAD');
  if (originHead) return short(originHead);
  const found = DEFAULT_BRANCHES.find((b) => refs.has(b));
  return found ? short(found) : undefined;
}

export async function mergeBase(root: string, a: string, b: string): Promise<string | undefined> {
  return gitText(['merge-base', a, b], root);
}

export interface TreeFile {
  /** Path from the repository root, '/'-separated. */
  path: string;
  mode: string;
  object: string;
  size: number;
}

/**
 * Files below `dir` (relative to the root; '' = the whole tree) in a commit: regular files
 * only (symlinks and submodules are not definitions). `exists` is false when `dir` is not a
 * directory in that commit.
 */
export async function listTree(root: string, commit: string, dir: string): Promise<{ exists: boolean; files: TreeFile[] }> {
  const r = await git(['ls-tree', '-r', '-z', '-l', '--full-tree', commit, ...(dir ? ['--', dir] : [])], root);
  if (r.code !== 0) throw new GitError(`git ls-tree failed: ${r.stderr.trim()}`);
  const files: TreeFile[] = [];
  // git has no empty directories: the directory exists when something is below it.
  let exists = dir === '';
  for (const entry of r.stdout.toString('utf8').split('\0')) {
    if (!entry) continue;
    const tab = entry.indexOf('\t');
    const [mode = '', type = '', object = '', size = ''] = entry.slice(0, tab).split(/ +/);
    const path = entry.slice(tab + 1);
    if (dir !== '' && !path.startsWith(`${dir}/`)) continue;
    exists = true;
    if (type !== 'blob' || !(mode === '100644' || mode === '100755')) continue;
    files.push({ path, mode, object, size: Number(size) });
  }
  return { exists, files };
}

/** The contents of blobs, by object name, in one `git cat-file --batch`. */
export async function readBlobs(root: string, objects: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const unique = [...new Set(objects)];
  if (unique.length === 0) return out;
  const r = await git(['cat-file', '--batch'], root, `${unique.join('\n')}\n`);
  if (r.code !== 0) throw new GitError(`git cat-file failed: ${r.stderr.trim()}`);
  const buf = r.stdout;
  let at = 0;
  for (const name of unique) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) throw new GitError('unexpected output from git cat-file');
    const header = buf.subarray(at, nl).toString('utf8').split(' ');
    if (header[1] !== 'blob') throw new GitError(`git cannot read object ${name}`);
    const size = Number(header[2]);
    out.set(name, buf.subarray(nl + 1, nl + 1 + size));
    at = nl + 1 + size + 1;
  }
  return out;
}
