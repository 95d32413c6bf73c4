/**
 * `acore init`: scaffold acore in a repository.
 *
 * - `definitions/example.yaml`: a valid cron definition that shows every key (the optional ones
 *   commented out), with the editor modeline pointing at the schema in the installed package;
 * - `.github/workflows/acore.yml`: the drift check on pushes and pull requests, and the
 *   `acore diff` of a pull request posted as one comment that is updated in place;
 * - `out/<target>/` for every target, by the real `acore compile` (so the drift check passes at once).
 *
 * An existing file is never overwritten without --force; it is reported as skipped, which is
 * not an error (exit 0). There is no config file to scaffold: everything acore needs is on the
 * command line (see the README).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { TARGET_NAMES } from '../compiler/schema.ts';
import { template } from '../targets/templates.ts';
import exampleTemplate from '../../templates/init/example.yaml.hbs';
import workflowTemplate from '../../templates/init/workflow.yml.hbs';
import { compileCommand } from './compile-command.ts';
import { EXIT, type Io } from './main.ts';

export interface InitOptions {
  /** The repository root. */
  dir: string;
  force?: boolean;
}

export const EXAMPLE_PATH = 'definitions/example.yaml';
export const WORKFLOW_PATH = '.github/workflows/acore.yml';
/** Where the schema is in a repository that has acore installed (package.json `files`). */
export const SCHEMA_IN_PACKAGE = 'node_modules/acore/schema/activity-definition.schema.json';

export interface ScaffoldFile {
  /** '/'-separated, relative to the repository root. */
  path: string;
  content: string;
}

/** The files `acore init` writes (before compiling), for a repository whose default branch is `branch`. */
export function scaffoldFiles(branch: string): ScaffoldFile[] {
  const schemaPath = relative(dirname(EXAMPLE_PATH), SCHEMA_IN_PACKAGE).split(sep).join('/');
  return [
    { path: EXAMPLE_PATH, content: template(exampleTemplate)({ schemaPath }) },
    { path: WORKFLOW_PATH, content: template(workflowTemplate)({ branch: branchFilter(branch), branchName: branch }) },
  ];
}

/**
 * A branch name as one entry of `on.push.branches`: quoted when YAML could read it as anything
 * but a string, with GitHub's filter-pattern characters escaped so it matches only itself.
 */
export function branchFilter(branch: string): string {
  const pattern = branch.replace(/[*?+[\]!\\]/g, '\\$&');
  const plain = /^[A-Za-z][A-Za-z0-9_/-]*$/.test(pattern) && !/^(?:true|false|null|yes|no|on|off|y|n)$/i.test(pattern);
  return plain ? pattern : JSON.stringify(pattern);
}

/**
 * The repository's default branch, as well as git can tell without the network: the remote's
 * HEAD (set by `git clone`), else an existing `main` or `master`, else the current branch
 * (a fresh `git init`), else `main`.
 */
export function defaultBranch(root: string): { branch: string; how: string } {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
  };
  const remote = git('symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD');
  if (remote?.startsWith('origin/')) return { branch: remote.slice('origin/'.length), how: 'origin/HEAD' };
  for (const name of ['main', 'master']) {
    if (git('rev-parse', '--verify', '--quiet', `refs/heads/${name}`)) return { branch: name, how: `the existing branch ${name}` };
  }
  const current = git('symbolic-ref', '--quiet', '--short', 'HEAD');
  if (current) return { branch: current, how: 'the current branch' };
  return { branch: 'main', how: 'no git branch found; the default' };
}

type Outcome = 'created' | 'overwritten' | 'unchanged' | 'skipped' | 'failed';

function writeScaffold(root: string, file: ScaffoldFile, force: boolean): { outcome: Outcome; reason?: string } {
  const abs = join(root, ...file.path.split('/'));
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    st = undefined;
  }
  try {
    if (!st) {
      mkdirSync(dirname(abs), { recursive: true });
      // 'wx': never replaces a file that appeared in the meantime.
      writeFileSync(abs, file.content, { flag: 'wx' });
      return { outcome: 'created' };
    }
    if (!st.isFile()) return { outcome: force ? 'failed' : 'skipped', reason: st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : 'not a regular file' };
    if (!force) return { outcome: 'skipped', reason: 'exists' };
    if (readFileSync(abs, 'utf8') === file.content) return { outcome: 'unchanged' };
    const tmp = `${abs}.acore-init-${process.pid}.tmp`;
    try {
      writeFileSync(tmp, file.content, { flag: 'wx' });
      renameSync(tmp, abs);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
      throw e;
    }
    return { outcome: 'overwritten' };
  } catch (e) {
    return { outcome: 'failed', reason: (e as Error).message };
  }
}

/** What the generated workflow needs from package.json, as notes (missing: the workflow cannot run). */
function packageNotes(root: string): string[] {
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  } catch {
    return [
      'note: there is no package.json: the workflow runs `npm ci` and `npx --no -- acore`, so add one ' +
        'with acore as a dev dependency and commit its package-lock.json',
    ];
  }
  if (pkg.devDependencies?.acore || pkg.dependencies?.acore) return [];
  return ['note: package.json does not list acore: add it as a dev dependency (and commit package-lock.json), or the workflow cannot run it'];
}

export async function initCommand(opts: InitOptions, io: Io): Promise<number> {
  const root = resolve(io.cwd, opts.dir);
  try {
    mkdirSync(root, { recursive: true });
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    io.stderr(`acore: cannot use ${opts.dir} as the repository root: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  const force = Boolean(opts.force);
  const shownRoot = relative(io.cwd, root);
  if (shownRoot !== '') io.stdout(`in ${shownRoot.startsWith('..') ? root : shownRoot}:\n`);

  const { branch, how } = defaultBranch(root);
  let skipped = 0;
  let failed = 0;
  for (const file of scaffoldFiles(branch)) {
    const { outcome, reason } = writeScaffold(root, file, force);
    switch (outcome) {
      case 'created':
      case 'overwritten':
      case 'unchanged':
        io.stdout(`${outcome} ${file.path}\n`);
        break;
      case 'skipped':
        skipped++;
        io.stdout(`skipped ${file.path} (${reason === 'exists' ? 'already exists; --force overwrites it' : `${reason}; left alone`})\n`);
        break;
      case 'failed':
        failed++;
        io.stderr(`${file.path}: error[io-write]: ${reason === undefined ? 'cannot write' : `cannot write: ${reason}`}\n`);
        break;
    }
    if (file.path === WORKFLOW_PATH && (outcome === 'created' || outcome === 'overwritten')) {
      io.stdout(`  it runs on pull requests and on pushes to ${branch} (${how}); edit on.push.branches if that is not your default branch\n`);
    }
  }

  // The real compile of everything in definitions/ (the example and whatever was there), so the
  // drift check passes from the first commit. Unchanged output is not rewritten.
  const code = await compileCommand({ targets: [...TARGET_NAMES], definitions: 'definitions', scope: 'user', force }, { ...io, cwd: root });
  if (code !== EXIT.ok) {
    io.stderr('acore: out/ was not compiled; fix the problems above, then run `npx acore compile --target all`\n');
    failed++;
  }

  for (const note of packageNotes(root)) io.stderr(`${note}\n`);
  if (skipped > 0) {
    io.stdout(`${skipped} file${skipped === 1 ? '' : 's'} already existed and ${skipped === 1 ? 'was' : 'were'} left alone (--force overwrites them)\n`);
  }
  if (failed > 0) return EXIT.failed;
  io.stdout(
    [
      'next:',
      `  edit ${EXAMPLE_PATH} (or add your own definitions next to it), then`,
      '  npx acore compile --target all   # and commit definitions/, out/ and .github/workflows/acore.yml',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
