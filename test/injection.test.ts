/**
 * Injection, proven by execution: for a table of nasty values in the command, env values, the
 * working directory, the lock file, probe URLs and (GitHub) event filters and payloads, each
 * target either emits files that — run by their real consumer — execute exactly the written
 * command with exactly the written values, or refuses the definition with an error diagnostic.
 *
 * - crontab: the emitted crontab line goes through Debian cron's `%` rules (crontab(5), as
 *   do_command.c applies them) to the command cron hands to `/bin/sh -c`, which runs with cron's
 *   environment (HOME, LOGNAME, SHELL, PATH) and HOME pointing at a directory holding the emitted
 *   job script where the line says it is.
 * - GitHub Actions: the emitted guard and run steps run as the runner runs them (`sh -e FILE`
 *   for `shell: sh`) with the step's env — as GitHub's own parser and expression evaluator
 *   evaluate it — and working-directory.
 * - systemd: test/e2e/injection.e2e.test.ts, through a real user manager.
 *
 * What the job records: /proc/$$/cmdline of the shell running the command (so argv[2] is the
 * command byte for byte), its env values (printf '%s'), its working directory (pwd -P), and
 * the argv a stub `curl` was called with.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { convertWorkflowTemplate, isBasicExpression, isString, NoOperationTraceWriter, parseWorkflow, type WorkflowTemplate } from '@actions/workflow-parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compile } from '../src/compiler/compile.ts';
import { crontabTarget } from '../src/targets/crontab/index.ts';
import { githubTarget } from '../src/targets/github/index.ts';
import { systemdTarget } from '../src/targets/systemd/index.ts';
import type { Target, TargetOptions } from '../src/targets/target.ts';
import { tempDir } from './helpers.ts';
import { NASTY } from './nasty-values.ts';

// ---------------------------------------------------------------------------------------------
// The values.


// ---------------------------------------------------------------------------------------------
// Shared helpers.

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const FIELDS_REFUSING_CONTROLS = new Set(['working_directory', 'lock_file']);
// eslint-disable-next-line no-control-regex
const hasControl = (s: string) => /[\u0000-\u001f\u007f]/.test(s);

function compileOne(def: Record<string, unknown>, target: Target, options: Partial<TargetOptions> = {}) {
  const text = stringifyYaml(def);
  const r = compile([{ path: 'definitions/t.yaml', name: 'definitions/t.yaml', text }], [target], { scope: 'user', ...options });
  return r;
}

/**
 * The job's command: record argv, env values, working directory; then stop before the raw value,
 * which follows verbatim so that argv[2] holds it byte for byte.
 */
function recorderCmd(value: string, vars: string[]): string {
  const record = vars.map((v) => `printf '%s' "$${v}" > "$OUT/${v}"`).join('; ');
  return `cat /proc/$$/cmdline > "$OUT/argv"; ${record}; pwd -P > "$OUT/pwd"; exit 0\n${value}`;
}

/** A directory whose name holds the value (where a file system can hold it), made for real. */
function workDir(base: string, value: string): string | undefined {
  // Refused for every target (see the last describe): control characters, and a trailing space,
  // tab or backslash (systemd's WorkingDirectory= cannot hold those). Also what no file system holds.
  if (hasControl(value) || /[ \t\\]$/.test(value) || value === '' || value.split('/').some((s) => Buffer.byteLength(s) > 200)) return undefined;
  const dir = `${base}/wd/${value}`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return undefined;
  }
  return dir;
}

function defFor(id: string, value: string, out: string, wd: string | undefined, extra: Record<string, unknown> = {}) {
  return {
    id,
    trigger: { trigger_type: 'cron', cron_expression: '0 0 1 1 *' },
    instruction: {
      kind: 'shell',
      cmd: recorderCmd(value, ['V', 'W']),
      env: { OUT: out, V: value, W: `<${value}>` },
      ...(wd === undefined ? {} : { working_directory: wd }),
      ...extra,
    },
  };
}

function expectRecorded(out: string, cmd: string, value: string, wd: string | undefined, home: string) {
  expect(readFileSync(join(out, 'argv'), 'utf8')).toBe(`/bin/sh\0-c\0${cmd}\0`);
  expect(readFileSync(join(out, 'V'), 'utf8')).toBe(value);
  expect(readFileSync(join(out, 'W'), 'utf8')).toBe(`<${value}>`);
  expect(readFileSync(join(out, 'pwd'), 'utf8')).toBe(`${wd === undefined ? realpathSync(home) : realpathSync(wd)}\n`);
  expect(existsSync(join(out, 'pwned'))).toBe(false);
}

/** A bin directory with `logger` (syslog) and `curl` stubs that record their argv. */
function stubBin(dir: string, curlBody = '{"status":"ok"}'): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${sq(join(dir, 'syslog'))}\n`, { mode: 0o755 });
  writeFileSync(join(bin, 'curl'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > ${sq(join(dir, 'curl-argv'))}\nprintf '%s' ${sq(curlBody)}\n`, { mode: 0o755 });
  return bin;
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[], env: Record<string, string>, cwd: string, stdin = ''): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => undefined); // a job that never reads stdin may be gone already
    child.stdin.end(stdin);
  });
}

// ---------------------------------------------------------------------------------------------
// crontab

/**
 * What Debian's cron (3.0pl1, do_command.c) makes of a line's command: up to the first `%` not
 * escaped by a backslash is the command for `/bin/sh -c` (`\%` → `%`, every other backslash
 * kept); the rest is the command's stdin, each unescaped `%` a newline.
 */
function debianCron(line: string): { command: string; stdin: string | undefined } {
  const text = line.replace(/^(?:\S+\s+){5}/, '');
  let command = '';
  let escaped = false;
  let i = 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (escaped) {
      if (ch === '%') command = `${command.slice(0, -1)}%`;
      else command += ch;
      escaped = false;
      continue;
    }
    if (ch === '\\') {
      escaped = true;
      command += ch;
      continue;
    }
    if (ch === '%') break;
    command += ch;
  }
  if (i >= text.length) return { command, stdin: undefined };
  let stdin = '';
  escaped = false;
  for (const ch0 of text.slice(i + 1)) {
    let ch = ch0;
    if (escaped) {
      if (ch !== '%') stdin += '\\';
    } else if (ch === '%') ch = '\n';
    escaped = ch === '\\';
    if (!escaped) stdin += ch;
  }
  return { command, stdin };
}

describe('debianCron (the % rules of crontab(5))', () => {
  it.each([
    ['* * * * * echo a', 'echo a', undefined],
    ['* * * * * echo 100\\%', 'echo 100%', undefined],
    ['* * * * * cat%line 1%line 2', 'cat', 'line 1\nline 2'],
    ['* * * * * echo \\\\%x', 'echo \\\\', 'x'],
    ['* * * * * echo a\\b', 'echo a\\b', undefined],
    ['* * * * * cat%a\\%b', 'cat', 'a%b'],
  ])('%j', (line, command, stdin) => {
    expect(debianCron(line)).toEqual({ command, stdin });
  });
});

/** Runs the crontab line of a compiled job as cron would, with HOME holding the job script. */
async function cronRun(artefacts: { path: string; content: string }[], scriptDir: string, home: string, extraPath = '') {
  const block = artefacts.find((a) => a.path === 'crontab')!;
  expect(spawnSync('crontab', ['-n', '-'], { input: block.content, encoding: 'utf8' }).status, 'crontab -n').toBe(0);
  const lines = block.content.split('\n').filter((l) => /^[0-9*]/.test(l));
  expect(lines).toHaveLength(1);
  const { command, stdin } = debianCron(lines[0]!);
  expect(stdin, 'acore never gives a job stdin through %').toBeUndefined();
  // The job script, installed where the line says (scriptDir, with $HOME expanded).
  const script = artefacts.find((a) => a.path.startsWith('libexec/'))!;
  const dir = scriptDir.replace(/^\$HOME\//, `${home}/`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, script.path.slice('libexec/'.length)), script.content);
  // cron's environment (Debian: HOME, LOGNAME, SHELL, PATH); XDG_RUNTIME_DIR only isolates the lock.
  const env = { HOME: home, LOGNAME: 'root', SHELL: '/bin/sh', PATH: `${extraPath}${extraPath ? ':' : ''}/usr/bin:/bin`, XDG_RUNTIME_DIR: home };
  return run('/bin/sh', ['-c', command], env, home);
}

describe('crontab: values reach the job exactly, through the crontab line cron would run', () => {
  it.each(NASTY)('%s', async (_name, value) => {
    const home = tempDir('acore-inj-cron-');
    const out = join(home, 'out');
    mkdirSync(out);
    const wd = workDir(home, value);
    const def = defFor('inj.cron', value, out, wd);
    const r = compileOne(def, crontabTarget, { crontab: { form: 'user', scriptDir: '$HOME/.local/lib/acore' } });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const bin = stubBin(home);
    const ran = await cronRun(r.artefacts, '$HOME/.local/lib/acore', home, bin);
    expect(ran, ran.stderr).toMatchObject({ status: 0, stderr: '' });
    expectRecorded(out, def.instruction.cmd, value, wd, home);
  });

  it('a script directory full of nasty characters is quoted so that cron runs the right script', async () => {
    const home = tempDir('acore-inj-cron-');
    const out = join(home, 'out');
    mkdirSync(out);
    const scriptDir = join(home, `lib 100% $x "q" 'a' \`t\` \\ ü`);
    const def = defFor('inj.dir', 'x', out, undefined);
    const r = compileOne(def, crontabTarget, { crontab: { form: 'user', scriptDir } });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ran = await cronRun(r.artefacts, scriptDir, home, stubBin(home));
    expect(ran, ran.stderr).toMatchObject({ status: 0, stderr: '' });
    expectRecorded(out, def.instruction.cmd, 'x', undefined, home);
  });

  it('probe URLs and the lock file reach curl and flock exactly', async () => {
    for (const url of ["http://127.0.0.1:9/p?q='a'&b=\"c\"&d=$(id)&e=`id`&f=%25%zz&g=${{x}}&h=ü#frag", 'https://[::1]:1/~a/%0A/;x=$HOME']) {
      const home = tempDir('acore-inj-cron-');
      const out = join(home, 'out');
      mkdirSync(out);
      const lock = join(home, `lock 100% $(id) 'q' "d" \`t\` ü.lock`);
      const def = {
        ...defFor('inj.probe', 'x', out, undefined, { lock_file: lock }),
        context: [{ kind: 'http_get', url, bind: 'hub', timeout_seconds: 3 }],
        rule: { when: ["hub.status == 'ok'"] },
      };
      const r = compileOne(def, crontabTarget, { crontab: { form: 'user', scriptDir: '$HOME/lib' } });
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const ran = await cronRun(r.artefacts, '$HOME/lib', home, stubBin(home));
      expect(ran, ran.stderr).toMatchObject({ status: 0, stderr: '' });
      expect(readFileSync(join(home, 'curl-argv'), 'utf8').split('\0').slice(-2)).toEqual([url, '']);
      expect(existsSync(lock)).toBe(true);
      expectRecorded(out, def.instruction.cmd, 'x', undefined, home);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// GitHub Actions

interface RawStep {
  id: string;
  shell: string;
  env: Record<string, string>;
  run: string;
  'working-directory'?: string;
}

/** GitHub's expression evaluator on a converted value token (payload for client_payload). See test/github.test.ts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function evaluateWithGithub(token: any, payload: Record<string, unknown>): string {
  if (isString(token)) return token.value;
  expect(isBasicExpression(token)).toBe(true);
  const context = new data.Dictionary();
  context.add('github', JSON.parse(JSON.stringify({ event: { client_payload: payload } }), data.reviver));
  const lexed = new Lexer(token.expression).lex();
  // The JS lexer unescapes only the first '' of a string literal; GitHub's unescapes every one.
  for (const t of lexed.tokens as { lexeme: string; value: unknown }[]) {
    if (t.lexeme.startsWith("'")) t.value = t.lexeme.slice(1, -1).split("''").join("'");
  }
  return new Evaluator(new Parser(lexed.tokens, ['github'], []).parse(), context).evaluate().coerceString();
}

/** The workflow through GitHub's parser (no errors allowed), and each step's env as GitHub evaluates it. */
async function githubSteps(content: string, payload: Record<string, unknown>) {
  const parsed = parseWorkflow({ name: 'w.yml', content }, new NoOperationTraceWriter());
  expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  const template: WorkflowTemplate = await convertWorkflowTemplate(parsed.context, parsed.value!);
  expect(template.errors ?? []).toEqual([]);
  const raw = (parseYaml(content) as { jobs: { run: { steps: RawStep[] } } }).jobs.run.steps;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const converted = (template.jobs[0] as any).steps as { id: string; env: Iterable<{ key: unknown; value: unknown }> }[];
  const envOf = (id: string) => Object.fromEntries([...converted.find((s) => s.id === id)!.env].map((p) => [String(p.key), evaluateWithGithub(p.value, payload)]));
  const step = (id: string) => ({ ...raw.find((s) => s.id === id)!, env: envOf(id) });
  const run = step('run');
  // working-directory is a string GitHub evaluates too; acore writes only literals and the escape.
  const wd = run['working-directory']?.split("${{ '${{' }}").join('${{');
  return { guard: step('guard'), run, wd };
}

/** Runs a step as the runner does for `shell: sh`: `sh -e FILE`, the step's env, GITHUB_OUTPUT. */
async function runStep(step: RawStep, dir: string, cwd: string, bin: string): Promise<Ran & { output: string }> {
  expect(step.shell).toBe('sh');
  const file = join(dir, `step-${step.id}.sh`);
  const output = `${file}.output`;
  writeFileSync(file, step.run);
  writeFileSync(output, '');
  const r = await run('sh', ['-e', file], { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, XDG_RUNTIME_DIR: dir, GITHUB_OUTPUT: output, ...step.env }, cwd);
  return { ...r, output: readFileSync(output, 'utf8') };
}

async function githubRun(content: string, dir: string, payload: Record<string, unknown> = {}) {
  const { guard, run: runS, wd } = await githubSteps(content, payload);
  const bin = stubBin(dir);
  const g = await runStep(guard, dir, dir, bin);
  if (g.status !== 0 || g.output !== 'run=true\n') return { guard: g, run: undefined };
  return { guard: g, run: await runStep(runS, dir, wd ?? dir, bin) };
}

describe('github: values reach the job exactly, through the steps GitHub would run', () => {
  it.each(NASTY)('%s', async (_name, value) => {
    const home = tempDir('acore-inj-gh-');
    const out = join(home, 'out');
    mkdirSync(out);
    const wd = workDir(home, value);
    const def = { ...defFor('inj.gh', value, out, wd), targets: { github: null } };
    const r = compileOne(def, githubTarget);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { guard, run: ran } = await githubRun(r.artefacts[0]!.content, home);
    expect(guard.status, guard.stdout + guard.stderr).toBe(0);
    expect(ran?.status, `${ran?.stdout}${ran?.stderr}`).toBe(0);
    expectRecorded(out, def.instruction.cmd, value, wd, home);
  });

  it('event filters and payload values are data: exact in the job, globs only as globs, never code', async () => {
    // (The payload holds the value twice, JSON-escaped, in one variable: 100 kB would pass the
    // kernel's 128 kB limit for one environment string, on a real runner too; and GitHub's evaluator
    // in this test is slow on big payloads. 3 kB here; 100 kB values are in the test above.)
    for (const [name, value] of NASTY.map(([n, v]) => [n, v.slice(0, 3_000)] as const)) {
      const home = tempDir('acore-inj-gh-');
      const out = join(home, 'out');
      mkdirSync(out);
      const cmd = `printf '%s' "$ACORE_EVENT_SLUG" > "$OUT/slug"; printf '%s' "$ACORE_EVENT_PAYLOAD" > "$OUT/payload"`;
      // The filter is the value with glob characters made literal by a leading exact part and a trailing *.
      const def = {
        id: 'inj.event',
        trigger: { trigger_type: 'event', event_type: 'org.inj.test', filters: { slug: `${value.replace(/[*?[\]\\]/g, '?')}*` } },
        instruction: { kind: 'shell', cmd, env: { OUT: out } },
        targets: { github: null },
      };
      const r = compileOne(def, githubTarget);
      expect(r.diagnostics.filter((d) => d.severity === 'error'), name).toEqual([]);
      const payload = { slug: `${value}-tail`, other: { nested: [value, 1, null] } };
      const hit = await githubRun(r.artefacts[0]!.content, home, payload);
      expect(hit.guard.output, `${name}: ${hit.guard.stdout}${hit.guard.stderr}`).toBe('run=true\n');
      expect(hit.run?.status, name).toBe(0);
      expect(readFileSync(join(out, 'slug'), 'utf8'), name).toBe(payload.slug);
      expect(JSON.parse(readFileSync(join(out, 'payload'), 'utf8')), name).toEqual(payload);
      if (value === '') continue; // the filter is just `*`
      // A payload that does not match skips the run (nothing fails).
      const miss = await githubRun(r.artefacts[0]!.content, home, { slug: `#${value}` });
      expect(miss.guard.status, name).toBe(0);
      expect(miss.guard.output, name).toBe('run=false\n');
      expect(readdirSync(home).filter((f) => f === 'pwned')).toEqual([]);
    }
  });

  it('probe URLs and the lock file reach curl and flock exactly', async () => {
    const home = tempDir('acore-inj-gh-');
    const out = join(home, 'out');
    mkdirSync(out);
    const url = "http://127.0.0.1:9/p?q='a'&b=\"c\"&d=$(id)&e=`id`&f=%25%zz&g=${{secrets.X}}&h=ü#frag";
    const lock = join(home, `lock 100% $(id) 'q' "d" \`t\` \${{ x }} ü.lock`);
    const def = {
      ...defFor('inj.ghprobe', 'x', out, undefined, { lock_file: lock }),
      context: [{ kind: 'http_get', url, bind: 'hub', timeout_seconds: 3 }],
      rule: { when: ["hub.status == 'ok'"] },
      targets: { github: null },
    };
    const r = compileOne(def, githubTarget);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { guard, run: ran } = await githubRun(r.artefacts[0]!.content, home);
    expect(guard.output, guard.stdout + guard.stderr).toBe('run=true\n');
    expect(ran?.status).toBe(0);
    expect(readFileSync(join(home, 'curl-argv'), 'utf8').split('\0').slice(-2)).toEqual([url, '']);
    expect(existsSync(lock)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Values no target can represent are refused, with an error at the value, by every target.

describe('unrepresentable values are refused with an error, never emitted differently', () => {
  const TARGETS: [string, Target, Partial<TargetOptions>][] = [
    ['systemd', systemdTarget, {}],
    ['crontab', crontabTarget, { crontab: { form: 'user', scriptDir: '/opt/acore' } }],
    ['github', githubTarget, {}],
  ];
  const BAD: [field: string, value: string, line: RegExp][] = [
    ['cmd', 'echo a\0b', /^ {2}cmd:/],
    ['cmd', 'echo \ud800', /^ {2}cmd:/],
    ['cmd', '', /^ {2}cmd:/],
    ['cmd', ' \n\t', /^ {2}cmd:/],
    ['env', 'a\0b', /^ {4}V:/],
    ['env', 'x\udfff', /^ {4}V:/],
    ['working_directory', '/tmp/a\0b', /^ {2}working_directory:/],
    ['working_directory', '/tmp/a\nb', /^ {2}working_directory:/],
    ['working_directory', 'relative/dir', /^ {2}working_directory:/],
    ['working_directory', '/tmp/trailing space ', /^ {2}working_directory:/],
    ['working_directory', '/tmp/trailing\\', /^ {2}working_directory:/],
    ['lock_file', '/tmp/a\tb.lock', /^ {2}lock_file:/],
    ['url', 'http://h/\0', /^ {4}url:/],
    ['url', 'http://h/a b', /^ {4}url:/],
    ['url', 'http://h/\nHost: x', /^ {4}url:/],
    ['url', 'gopher://h/', /^ {4}url:/],
    ['when', "hub.x == '\0'", /^ {4}- /],
  ];
  it.each(TARGETS.flatMap(([t, target, o]) => BAD.map(([f, v, l]) => [t, f, JSON.stringify(v), target, o, v, l] as const)))('%s: %s = %s', (_t, field, _shown, target, options, value, line) => {
    const def: Record<string, unknown> = {
      id: 'inj.bad',
      trigger: { trigger_type: 'cron', cron_expression: '0 0 1 1 *' },
      context: [{ kind: 'http_get', url: field === 'url' ? value : 'http://127.0.0.1/h', bind: 'hub' }],
      rule: { when: [field === 'when' ? value : "hub.ok == true"] },
      instruction: {
        kind: 'shell',
        cmd: field === 'cmd' ? value : 'true',
        env: { V: field === 'env' ? value : 'v' },
        ...(field === 'working_directory' ? { working_directory: value } : {}),
        ...(field === 'lock_file' ? { lock_file: value } : {}),
      },
    };
    const text = stringifyYaml(def);
    const r = compile([{ path: 'definitions/t.yaml', name: 'definitions/t.yaml', text }], [target], { scope: 'user', ...options });
    expect(r.artefacts).toEqual([]);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((d) => d.code)).toContain('schema-value');
    // At the value: the diagnostic's line is the field's line.
    const lines = text.split('\n');
    for (const d of errors) expect(lines[d.range!.start.line - 1], d.message).toMatch(line);
  });

  it('an event filter pattern with NUL is refused for github', () => {
    const text = stringifyYaml({
      id: 'inj.badfilter',
      trigger: { trigger_type: 'event', event_type: 'org.x', filters: { slug: 'a\0*' } },
      instruction: { kind: 'shell', cmd: 'true' },
      targets: { github: null },
    });
    const r = compile([{ path: 'd/t.yaml', name: 'd/t.yaml', text }], [githubTarget], { scope: 'user' });
    expect(r.artefacts).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.range?.start.line])).toEqual([['schema-value', 6]]);
  });
});
