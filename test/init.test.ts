/**
 * `acore init` (scaffolding a user's repository) and the workflows: the one init writes and
 * acore's own .github/workflows/acore.yml. Workflows are checked with GitHub's own parser, and
 * the shell and JavaScript of the pull-request comment are run here against fakes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { branchFilter, EXAMPLE_PATH, scaffoldFiles, WORKFLOW_PATH } from '../src/cli/init-command.ts';
import { definitionJsonSchema } from '../src/compiler/schema.ts';
import { acore, listFiles, readTree, ROOT, tempDir } from './helpers.ts';

/** GitHub's parser: every problem it has with the file (parse and template conversion). */
async function githubProblems(name: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const problems = result.context.errors.getErrors().map((e) => e.message);
  expect(result.value, `${name} did not parse`).toBeDefined();
  const template = await convertWorkflowTemplate(result.context, result.value!);
  problems.push(...(template.errors ?? []).map((e) => e.Message));
  return problems;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, any>; 'continue-on-error'?: boolean };

function stepsOf(workflow: string): Step[] {
  const doc = parse(workflow);
  return Object.values(doc.jobs as Record<string, { steps: Step[] }>).flatMap((j) => j.steps);
}

/** Every `run:` and github-script `script:` text: where a `${{ }}` would be template injection. */
function scripts(workflow: string): string[] {
  return stepsOf(workflow).flatMap((s) => [s.run, s.with?.script].filter((x): x is string => typeof x === 'string'));
}

const mtimes = (dir: string) => Object.fromEntries(listFiles(dir).map((f) => [f, statSync(join(dir, f)).mtimeMs]));

const hasGit = spawnSync('git', ['--version']).status === 0;

describe('acore init', () => {
  it('creates the example definition, the workflow and out/ for every target', async () => {
    const dir = tempDir('acore-init-');
    const r = await acore(['init'], dir);
    expect(r.stderr).not.toMatch(/error|internal/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`created ${EXAMPLE_PATH}\n`);
    expect(r.stdout).toContain(`created ${WORKFLOW_PATH}\n`);
    expect(listFiles(dir)).toEqual([
      '.github/workflows/acore.yml',
      'definitions/example.yaml',
      'out/crontab/.acore-manifest.json',
      'out/crontab/crontab',
      'out/crontab/libexec/example.nightly-report.sh',
      'out/github/.acore-manifest.json',
      'out/github/example.nightly-report.yml',
      'out/systemd/.acore-manifest.json',
      'out/systemd/acore-trigger@.service',
      'out/systemd/example.nightly-report.service',
      'out/systemd/example.nightly-report.timer',
    ]);
    for (const f of listFiles(join(dir, 'out')).filter((f) => !f.endsWith('.json'))) expect(r.stdout).toContain(`created out/${f}\n`);
    // No package.json in the directory: said, not an error.
    expect(r.stderr).toContain('note: there is no package.json');

    const valid = await acore(['validate'], dir);
    expect(valid.stdout).toBe('1 definition valid (1 warning)\n'); // GitHub approximates misfire_policy: skip
    expect(valid.code).toBe(0);

    const check = await acore(['compile', '--target', 'all', '--check'], dir);
    for (const t of ['systemd', 'crontab', 'github']) expect(check.stdout).toContain(`${t}: out/${t} is up to date`);
    expect(check.code).toBe(0);

    const github = readFileSync(join(dir, 'out', 'github', 'example.nightly-report.yml'), 'utf8');
    expect(await githubProblems('example.nightly-report.yml', github)).toEqual([]);
  });

  it('--dir scaffolds another directory (created if needed), with paths shown inside it', async () => {
    const parent = tempDir('acore-init-');
    const r = await acore(['init', '--dir', 'repo'], parent);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('in repo:');
    expect(existsSync(join(parent, 'repo', EXAMPLE_PATH))).toBe(true);
    expect(existsSync(join(parent, 'repo', WORKFLOW_PATH))).toBe(true);
    expect(existsSync(join(parent, 'repo', 'out', 'systemd', 'example.nightly-report.timer'))).toBe(true);
    expect(existsSync(join(parent, 'definitions'))).toBe(false);
  });

  it('a second init skips every existing file and changes nothing (bytes and mtimes); exit 0', async () => {
    const dir = tempDir('acore-init-');
    expect((await acore(['init'], dir)).code).toBe(0);
    const before = readTree(dir);
    const times = mtimes(dir);
    await new Promise((r) => setTimeout(r, 20));
    const r = await acore(['init'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`skipped ${EXAMPLE_PATH} (already exists; --force overwrites it)\n`);
    expect(r.stdout).toContain(`skipped ${WORKFLOW_PATH} (already exists; --force overwrites it)\n`);
    expect(r.stdout).toContain('2 files already existed and were left alone (--force overwrites them)\n');
    expect(r.stdout).not.toMatch(/^(created|updated|removed) /m);
    expect(readTree(dir)).toEqual(before);
    expect(mtimes(dir)).toEqual(times);
  });

  it('keeps a file the user already has, and compiles it with the example', async () => {
    const dir = tempDir('acore-init-');
    mkdirSync(join(dir, 'definitions'));
    const mine = 'id: mine.job\ntrigger:\n  trigger_type: cron\n  cron_expression: "0 4 * * *"\n  timezone: UTC\ninstruction:\n  kind: shell\n  cmd: echo mine\n';
    writeFileSync(join(dir, 'definitions', 'mine.yaml'), mine);
    writeFileSync(join(dir, EXAMPLE_PATH), mine.replace('mine.job', 'mine.example'));
    const r = await acore(['init'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`skipped ${EXAMPLE_PATH} (already exists; --force overwrites it)\n`);
    expect(r.stdout).toContain('1 file already existed and was left alone (--force overwrites them)\n');
    expect(readFileSync(join(dir, EXAMPLE_PATH), 'utf8')).toBe(mine.replace('mine.job', 'mine.example'));
    expect(existsSync(join(dir, 'out', 'systemd', 'mine.job.timer'))).toBe(true);
    expect(existsSync(join(dir, 'out', 'systemd', 'mine.example.timer'))).toBe(true);
  });

  it('--force overwrites the scaffolded files (and leaves identical ones untouched)', async () => {
    const dir = tempDir('acore-init-');
    expect((await acore(['init'], dir)).code).toBe(0);
    const pristine = readTree(dir);
    writeFileSync(join(dir, EXAMPLE_PATH), pristine[EXAMPLE_PATH]!.replace('"30 2 * * *"', '"45 5 * * *"'));
    expect((await acore(['compile', '--target', 'all'], dir)).code).toBe(0);
    writeFileSync(join(dir, WORKFLOW_PATH), 'name: mine\n');
    const exampleTime = statSync(join(dir, EXAMPLE_PATH)).mtimeMs;

    const r = await acore(['init', '--force'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`overwritten ${EXAMPLE_PATH}\n`);
    expect(r.stdout).toContain(`overwritten ${WORKFLOW_PATH}\n`);
    expect(r.stdout).toContain('updated out/systemd/example.nightly-report.timer\n');
    expect(readTree(dir)).toEqual(pristine);
    expect(statSync(join(dir, EXAMPLE_PATH)).mtimeMs).toBeGreaterThanOrEqual(exampleTime);

    const again = await acore(['init', '--force'], dir);
    expect(again.stdout).toContain(`unchanged ${EXAMPLE_PATH}\n`);
    expect(again.stdout).toContain(`unchanged ${WORKFLOW_PATH}\n`);
    expect(readTree(dir)).toEqual(pristine);
  });

  it('a directory in the place of a file is an error even with --force, and is left alone', async () => {
    const dir = tempDir('acore-init-');
    mkdirSync(join(dir, '.github', 'workflows', 'acore.yml'), { recursive: true });
    const r = await acore(['init', '--force'], dir);
    expect(r.stderr).toContain(`${WORKFLOW_PATH}: error[io-write]: cannot write: a directory`);
    expect(r.code).toBe(1);
    expect(statSync(join(dir, WORKFLOW_PATH)).isDirectory()).toBe(true);
    // Without --force it is simply skipped.
    const plain = await acore(['init'], dir);
    expect(plain.stdout).toContain(`skipped ${WORKFLOW_PATH} (a directory; left alone)`);
    expect(plain.code).toBe(0);
  });

  it('invalid definitions already in definitions/: the scaffold is written, out/ is not, exit 1', async () => {
    const dir = tempDir('acore-init-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'bad.yaml'), 'id: bad\n');
    const r = await acore(['init'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('out/ was not compiled');
    expect(existsSync(join(dir, EXAMPLE_PATH))).toBe(true);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('says when package.json does not list acore, and says nothing when it does', async () => {
    const dir = tempDir('acore-init-');
    writeFileSync(join(dir, 'package.json'), '{"name":"x"}');
    expect((await acore(['init'], dir)).stderr).toContain('note: package.json does not list acore');
    const other = tempDir('acore-init-');
    writeFileSync(join(other, 'package.json'), '{"name":"x","devDependencies":{"acore":"^0.1.0"}}');
    expect((await acore(['init'], other)).stderr).not.toContain('note:');
  });
});

describe('the example definition', () => {
  const example = scaffoldFiles('main').find((f) => f.path === EXAMPLE_PATH)!.content;

  it('points editors at the schema shipped in the installed package', () => {
    const first = example.split('\n')[0]!;
    expect(first).toBe('# yaml-language-server: $schema=../node_modules/acore/schema/activity-definition.schema.json');
    // In a repository with acore installed, the path resolves from definitions/ to the shipped file.
    const repo = tempDir('acore-init-');
    mkdirSync(join(repo, 'node_modules'));
    symlinkSync(ROOT, join(repo, 'node_modules', 'acore'));
    const target = resolve(repo, 'definitions', first.slice(first.indexOf('=') + 1));
    expect(readFileSync(target, 'utf8')).toBe(readFileSync(join(ROOT, 'schema', 'activity-definition.schema.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files).toContain('schema');
  });

  it('names every key of the format', () => {
    const keys = new Set<string>();
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'properties' && v && typeof v === 'object') Object.keys(v).forEach((p) => keys.add(p));
          walk(v);
        }
      }
    };
    walk(definitionJsonSchema());
    expect(keys.size).toBeGreaterThan(25);
    for (const key of keys) expect(example, key).toMatch(new RegExp(`\\b${key}\\b`));
  });

  it('with every optional key uncommented, it is still a valid definition for every target (system scope)', async () => {
    const uncommented = example.replace(/^(\s*)# (\s*)([a-z_]+:(?:\s|$)|- )/gm, '$1$2$3');
    expect(uncommented).not.toMatch(/^\s*# ?(context|rule|targets|working_directory|env|lock_file):/m);
    const dir = tempDir('acore-init-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'full.yaml'), uncommented);
    const parsed = parse(uncommented);
    expect(Object.keys(parsed.targets)).toEqual(['systemd', 'crontab', 'github']);
    expect(parsed.context[0].bind).toBe('health');
    const r = await acore(['compile', '--target', 'all', '--scope', 'system', '--cron-form', 'cron.d', '--out', 'o'], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'o', 'systemd', 'nightly-report.timer'))).toBe(true);
  });
});

describe('the workflow acore init writes', () => {
  const workflow = scaffoldFiles('main').find((f) => f.path === WORKFLOW_PATH)!.content;
  const steps = stepsOf(workflow);
  const doc = parse(workflow);

  it('parses without errors in GitHub’s own workflow parser', async () => {
    expect(await githubProblems('acore.yml', workflow)).toEqual([]);
  });

  it('runs on pull requests and pushes to the default branch, with the least permissions it needs', () => {
    expect(Object.keys(doc.on)).toEqual(['pull_request', 'push']);
    expect(doc.on.push.branches).toEqual(['main']);
    expect(doc.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
    expect(steps[1]).toMatchObject({ uses: 'actions/setup-node@v4', with: { 'node-version': 20 } });
    expect(steps[2]!.run).toBe('npm ci');
  });

  it('runs the drift check, then the diff of a pull request, posted as a comment', () => {
    expect(steps.find((s) => s.id === 'drift')!.run).toBe('npx --no -- acore compile --target all --check');
    const diff = steps.find((s) => s.id === 'diff')!;
    expect(diff.if).toContain("github.event_name == 'pull_request'");
    expect(diff.env).toEqual({ BASE_REF: '${{ github.base_ref }}' });
    expect(diff.run).toContain('npx --no -- acore diff --base "origin/$BASE_REF" --format markdown > acore-diff.md');
    const comment = steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;
    expect(comment.if).toContain("steps.diff.outcome == 'success'");
    expect(comment.with!.script).toContain("readFileSync('acore-diff.md', 'utf8')");
  });

  it('has no ${{ }} inside a run: or script: (values reach scripts through env: only)', () => {
    const all = scripts(workflow);
    expect(all).toHaveLength(4); // npm ci, drift check, diff, comment script
    for (const s of all) expect(s).not.toContain('${{');
  });

  it('pushes filter on the default branch git reports, escaped as a pattern', async () => {
    expect(branchFilter('main')).toBe('main');
    expect(branchFilter('release/v1')).toBe('release/v1');
    expect(branchFilter('1.0')).toBe('"1.0"');
    expect(branchFilter('yes')).toBe('"yes"');
    expect(branchFilter('feat+x')).toBe('"feat\\\\+x"');
    const odd = scaffoldFiles('feat+x').find((f) => f.path === WORKFLOW_PATH)!.content;
    expect(parse(odd).on.push.branches).toEqual(['feat\\+x']);
    expect(await githubProblems('acore.yml', odd)).toEqual([]);
  });

  it.runIf(hasGit)('takes the default branch from git (a fresh repository: its current branch)', async () => {
    const dir = tempDir('acore-init-');
    expect(spawnSync('git', ['init', '-q', '-b', 'trunk', dir]).status).toBe(0);
    const r = await acore(['init'], dir);
    expect(r.stdout).toContain('on pushes to trunk (the current branch)');
    expect(parse(readFileSync(join(dir, WORKFLOW_PATH), 'utf8')).on.push.branches).toEqual(['trunk']);
  });

  describe('the diff step (bash, as GitHub runs it, with a fake npx)', () => {
    const run = steps.find((s) => s.id === 'diff')!.run!;

    function runDiff(status: number): { code: number | null; output: string; args: string; md: string } {
      const dir = tempDir('acore-init-');
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'npx'), `#!/bin/sh\necho "$*" > "${dir}/args"\necho '## acore diff'\nexit ${status}\n`);
      chmodSync(join(bin, 'npx'), 0o755);
      writeFileSync(join(dir, 'step.sh'), run);
      writeFileSync(join(dir, 'output'), '');
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', join(dir, 'step.sh')], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: `${bin}:${process.env.PATH}`, BASE_REF: 'main', GITHUB_OUTPUT: join(dir, 'output') },
      });
      return {
        code: r.status,
        output: readFileSync(join(dir, 'output'), 'utf8'),
        args: readFileSync(join(dir, 'args'), 'utf8').trim(),
        md: existsSync(join(dir, 'acore-diff.md')) ? readFileSync(join(dir, 'acore-diff.md'), 'utf8') : '',
      };
    }

    it('exit 1 (changes) is success with changed=true; the markdown lands in acore-diff.md', () => {
      const r = runDiff(1);
      expect(r.args).toBe('--no -- acore diff --base origin/main --format markdown');
      expect(r.md).toBe('## acore diff\n');
      expect(r.output).toBe('changed=true\n');
      expect(r.code).toBe(0);
    });

    it('exit 0 (no change) is success with changed=false', () => {
      const r = runDiff(0);
      expect(r.output).toBe('changed=false\n');
      expect(r.code).toBe(0);
    });

    it('any other status fails the step', () => {
      const r = runDiff(2);
      expect(r.output).toBe('');
      expect(r.code).toBe(2);
    });
  });

  describe('the comment step (actions/github-script, against a fake GitHub)', () => {
    const script = steps.find((s) => s.uses?.startsWith('actions/github-script@'))!.with!.script as string;
    interface Comment {
      id: number;
      body: string;
      user: { type: string };
    }

    async function comment(markdown: string, changed: boolean, existing: Comment[]) {
      const calls: { op: string; args: Record<string, unknown> }[] = [];
      const listComments = () => {
        throw new Error('called through paginate only');
      };
      const github = {
        paginate: async (fn: unknown, args: Record<string, unknown>) => {
          expect(fn).toBe(listComments);
          expect(args).toMatchObject({ owner: 'o', repo: 'r', issue_number: 7 });
          return existing;
        },
        rest: {
          issues: {
            listComments,
            updateComment: async (args: Record<string, unknown>) => void calls.push({ op: 'update', args }),
            createComment: async (args: Record<string, unknown>) => void calls.push({ op: 'create', args }),
          },
        },
      };
      const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
      const fakeRequire = (m: string) => {
        expect(m).toBe('node:fs');
        return { readFileSync: (p: string) => (expect(p).toBe('acore-diff.md'), markdown) };
      };
      const fakeProcess = { env: { CHANGED: changed ? 'true' : 'false' } };
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
      await new AsyncFunction('require', 'github', 'context', 'process', script)(fakeRequire, github, context, fakeProcess);
      return calls;
    }

    const marker = '<!-- acore-diff -->';
    const bot = (id: number, body: string): Comment => ({ id, body, user: { type: 'Bot' } });

    it('changes and no comment yet: creates one, with the marker', async () => {
      const calls = await comment('## 1 schedule changed\n', true, [{ id: 1, body: 'LGTM', user: { type: 'User' } }]);
      expect(calls).toEqual([{ op: 'create', args: { owner: 'o', repo: 'r', issue_number: 7, body: `${marker}\n## 1 schedule changed\n` } }]);
    });

    it('a comment from an earlier push: updated in place, also when there is no change any more', async () => {
      const calls = await comment('', false, [bot(5, 'other bot'), bot(9, `${marker}\nold\n`)]);
      expect(calls).toEqual([{ op: 'update', args: { owner: 'o', repo: 'r', comment_id: 9, body: `${marker}\nacore: no change to the generated schedules.\n` } }]);
    });

    it('nothing changed and no comment yet: no comment; the same text again: no update', async () => {
      expect(await comment('no change', false, [])).toEqual([]);
      expect(await comment('x', true, [bot(9, `${marker}\nx\n`)])).toEqual([]);
    });

    it('a diff too long for a comment is cut, closing an open code block', async () => {
      const calls = await comment(`\`\`\`diff\n${'+x\n'.repeat(40_000)}\`\`\`\n`, true, []);
      const body = calls[0]!.args.body as string;
      expect(body.length).toBeLessThan(65_536);
      expect(body).toMatch(/\n```\n\n… \(cut; run `npx acore diff` for the whole diff\)\n$/);
    });
  });
});

/**
 * The workflow's own commands, in a repository as actions/checkout leaves it for a pull request
 * (the base branch at origin/<base>), with acore installed (node_modules/acore → this checkout):
 * the drift check, and the diff step with the real `acore diff`.
 */
describe.runIf(hasGit)('the workflow’s steps in a repository scaffolded by init', () => {
  const workflow = scaffoldFiles('main').find((f) => f.path === WORKFLOW_PATH)!.content;
  const steps = stepsOf(workflow);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'acore.cjs'))) {
      const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
      expect(b.status, b.stderr).toBe(0);
    }
  });

  function step(dir: string, id: string): { code: number | null; log: string; output: string } {
    writeFileSync(join(dir, 'step.sh'), steps.find((s) => s.id === id)!.run!);
    writeFileSync(join(dir, 'github-output'), '');
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', 'step.sh'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...env, NO_COLOR: '1', BASE_REF: 'main', GITHUB_OUTPUT: join(dir, 'github-output') },
    });
    return { code: r.status, log: r.stdout + r.stderr, output: readFileSync(join(dir, 'github-output'), 'utf8') };
  }

  it('drift check and diff: no change, then a definition changed without compiling, then compiled', async () => {
    const dir = tempDir('acore-init-');
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.email=ci@example.org', '-c', 'user.name=ci', ...args], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    git('init', '-q', '-b', 'main');
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(ROOT, join(dir, 'node_modules', 'acore'));
    symlinkSync('../acore/bin/acore.js', join(dir, 'node_modules', '.bin', 'acore'));
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\nstep.sh\ngithub-output\nacore-diff.md\n');
    expect((await acore(['init'], dir)).code).toBe(0);
    git('add', '-A');
    git('commit', '-q', '-m', 'acore init');
    git('update-ref', 'refs/remotes/origin/main', 'HEAD');

    expect(step(dir, 'drift').code).toBe(0);
    const same = step(dir, 'diff');
    expect(same.code, same.log).toBe(0);
    expect(same.output).toBe('changed=false\n');

    const example = join(dir, EXAMPLE_PATH);
    writeFileSync(example, readFileSync(example, 'utf8').replace('"30 2 * * *"', '"45 3 * * *"'));
    const drift = step(dir, 'drift');
    expect(drift.log).toContain('stale: out/systemd/example.nightly-report.timer');
    expect(drift.code).toBe(1);
    const changed = step(dir, 'diff');
    expect(changed.code, changed.log).toBe(0);
    expect(changed.output).toBe('changed=true\n');
    expect(readFileSync(join(dir, 'acore-diff.md'), 'utf8')).toContain('example.nightly-report');

    expect((await acore(['compile', '--target', 'all'], dir)).code).toBe(0);
    expect(step(dir, 'drift').code).toBe(0);
  }, 60_000);
});

describe('acore’s own CI workflow (.github/workflows/acore.yml)', () => {
  const workflow = readFileSync(join(ROOT, '.github', 'workflows', 'acore.yml'), 'utf8');
  const steps = stepsOf(workflow);

  it('parses without errors in GitHub’s own workflow parser', async () => {
    expect(await githubProblems('acore.yml', workflow)).toEqual([]);
  });

  it('runs the drift check on out/ and the whole test suite, on Node 20', () => {
    const runs = steps.map((s) => s.run?.trim());
    expect(runs).toContain('npx --no -- acore compile --target all --check');
    expect(runs.indexOf('npm ci')).toBeLessThan(runs.indexOf('npx --no -- acore compile --target all --check'));
    expect(runs).toContain('npm test');
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!.with).toMatchObject({ 'node-version': 20 });
    for (const s of scripts(workflow)) expect(s).not.toContain('${{');
  });

  it('installs every package .ci/run installs (the tests’ real consumers)', () => {
    const packages = (text: string) => new Set(/apt-get install ([^\n>]*)/.exec(text)![1]!.split(/\s+/).filter((w) => w && !w.startsWith('-')));
    const ci = packages(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'));
    const wf = packages(steps.map((s) => s.run ?? '').join('\n'));
    expect(ci.size).toBeGreaterThan(3);
    for (const p of ci) expect(wf, p).toContain(p);
  });
});
