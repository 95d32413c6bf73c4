/**
 * The crontab target against its real consumers: Debian's `crontab -n` accepts every emitted
 * fragment, cron's `%` rules (crontab(5)) leave the command intact, and the job scripts do
 * under /bin/sh what the definitions say (lock, failure policies, timeout, env, working
 * directory, byte-for-byte commands) — run directly, as cron would run them.
 * The managed-block merge keeps every line that is not acore's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/compile.ts';
import { BlockError, mergeCrontab } from '../src/cli/crontab-block.ts';
import { crontabTarget } from '../src/targets/crontab/index.ts';
import type { TargetOptions } from '../src/targets/target.ts';
import { definitionYaml, type DefinitionSpec } from './e2e/definitions.ts';
import { tempDir } from './helpers.ts';

function build(specs: DefinitionSpec[], options: Partial<NonNullable<TargetOptions['crontab']>> = {}) {
  const files = specs.map((s) => ({ path: `d/${s.id}.yaml`, text: definitionYaml(s), name: `definitions/${s.id}.yaml` }));
  const r = compile(files, [crontabTarget], { scope: 'user', crontab: { form: 'user', scriptDir: '$HOME/.local/lib/acore', ...options } });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.artefacts;
}

const crontabCheck = (text: string) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'crontab'), text);
  return spawnSync('crontab', ['-n', join(dir, 'crontab')], { encoding: 'utf8' });
};

/** What cron hands to /bin/sh -c for a line's command (crontab(5): `\%` is %, a bare % ends it). */
function cronCommand(line: string): string {
  const command = line.replace(/^(\S+\s+){5}/, '');
  let out = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === '\\' && command[i + 1] === '%') {
      out += '%';
      i++;
    } else if (c === '%') break;
    else out += c;
  }
  return out;
}

describe('crontab -n accepts every fragment', () => {
  it('user form, with every kind of schedule', () => {
    const artefacts = build([
      { id: 'a.plain', cron: '*/10 9-17 * * mon-fri', cmd: 'echo 100%' },
      { id: 'a.zoned', cron: '30 2 * * *', timezone: 'Europe/Berlin', cmd: 'true' },
      { id: 'a.ext', cron: '0 0 L * 5#2', cmd: 'true' },
      { id: 'a.macro', cron: '@weekly', cmd: 'true' },
      { id: 'a.star', cron: '0 0 */2,15 * mon', cmd: 'true' },
    ]);
    const block = artefacts.find((a) => a.path === 'crontab')!;
    const r = crontabCheck(block.content);
    // Debian's crontab -n reports success on stderr; any other message is a problem.
    expect(r.stderr.trim()).toBe('The syntax of the crontab file was successfully checked.');
    expect(r.status).toBe(0);
    expect(block.content.split('\n').filter((l) => /^[0-9*]/.test(l))).toHaveLength(5);
  });

  it('a script directory with % and spaces is escaped so cron passes it intact', () => {
    const dir = '/opt/100% sure/$dir "q"';
    const block = build([{ id: 'a.pct', cron: '0 0 * * *', cmd: 'true' }], { scriptDir: dir }).find((a) => a.path === 'crontab')!;
    expect(crontabCheck(block.content).status).toBe(0);
    const line = block.content.split('\n').find((l) => l.startsWith('0 0'))!;
    const sh = spawnSync('/bin/sh', ['-c', `printf '%s' ${cronCommand(line).replace(/^\/bin\/sh /, '')}`], { encoding: 'utf8' });
    expect(sh.stdout).toBe(`${dir}/a.pct.sh`);
  });

  it('cron.d form: one file per job with a user field; the rest is a valid crontab line', () => {
    const artefacts = build([{ id: 'a.sys', cron: '15 4 * * *', cmd: 'true', systemd: undefined }], { form: 'cron.d', scriptDir: '/usr/local/lib/acore' });
    const file = artefacts.find((a) => a.path.startsWith('cron.d/'))!;
    expect(file.path).toMatch(/^cron\.d\/[A-Za-z0-9_-]+$/);
    const line = file.content.split('\n').find((l) => /^\d/.test(l))!;
    expect(line).toMatch(/^15 4 \* \* \* root \/bin\/sh /);
    expect(crontabCheck(`${line.replace(' root ', ' ')}\n`).status).toBe(0);
  });
});

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a job script as cron would: /bin/sh, HOME set, a PATH where `logger` records its calls. */
function runScript(script: string, dir: string, env: Record<string, string> = {}): Promise<Ran> {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${join(dir, 'syslog')}\n`, { mode: 0o755 });
  const path = join(dir, 'job.sh');
  writeFileSync(path, script);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', [path], { env: { HOME: dir, PATH: `${bin}:/usr/bin:/bin`, XDG_RUNTIME_DIR: dir, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const script = (spec: Omit<DefinitionSpec, 'id'>) => build([{ id: 'job.x', cron: '* * * * *', ...spec }]).find((a) => a.path === 'libexec/job.x.sh')!.content;

describe('job scripts, run as cron runs them', () => {
  it('pass sh -n', () => {
    for (const a of build([
      { id: 'a.z', cron: '30 2 * * *', timezone: 'Europe/Berlin', cmd: 'x', probes: [{ url: 'http://127.0.0.1:1/h', bind: 'h' }], when: ["h.s == 'ok'"] },
      { id: 'a.l', cron: '0 0 LW * *', cmd: 'y', timeout: 5, onFailure: 'log_and_continue', workingDirectory: '/tmp', env: { A: "'" } },
    ]).filter((x) => x.path.endsWith('.sh'))) {
      expect(spawnSync('/bin/sh', ['-n', '-c', a.content]).status).toBe(0);
    }
  });

  it('the shell receives exactly the command; env and working directory as written', async () => {
    const dir = tempDir();
    const wd = join(dir, "w d 100% $x 'q'");
    mkdirSync(wd);
    const cmd = `cat /proc/$$/cmdline > ${join(dir, 'argv')}; printf '%s|%s' "$V" "$PWD" > ${join(dir, 'out')}; : '100% \`tick\` "dq" \\\\ \ttab ü\nnewline'`;
    const value = `100% $HOME \${X} \`id\` 'single' "double" \\ back\nline`;
    const r = await runScript(script({ cmd, env: { V: value }, workingDirectory: wd }), dir);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(readFileSync(join(dir, 'argv'), 'utf8').split('\0').slice(0, 3)).toEqual(['/bin/sh', '-c', cmd]);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(`${value}|${wd}`);
  });

  it('on_failure fail: the failure is on stderr (cron mails it) and the status is the command’s', async () => {
    const dir = tempDir();
    const r = await runScript(script({ cmd: 'exit 3' }), dir);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/acore: the command failed with exit status 3/);
  });

  it('on_failure log_and_continue: nothing on stdout/stderr (nothing mailed), a warning in syslog', async () => {
    const dir = tempDir();
    const r = await runScript(script({ cmd: 'exit 3', onFailure: 'log_and_continue' }), dir);
    expect(r).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(dir, 'syslog'), 'utf8')).toMatch(/-p user\.warning .*failed with exit status 3/);
  });

  it('timeout: the command is stopped and it counts as a failure', async () => {
    const dir = tempDir();
    const t0 = Date.now();
    const r = await runScript(script({ cmd: 'sleep 20', timeout: 1 }), dir);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/timed out after 1 seconds/);
  });

  it('misfire skip: while another process holds the lock the run is skipped quietly', async () => {
    const dir = tempDir();
    const lock = join(dir, 'shared.lock');
    const holder = spawn('flock', [lock, 'sleep', '3']);
    await new Promise((r) => setTimeout(r, 200));
    try {
      const r = await runScript(script({ cmd: `touch ${join(dir, 'ran')}`, lockFile: lock }), dir);
      expect(r).toMatchObject({ status: 0, stdout: '', stderr: '' });
      expect(() => readFileSync(join(dir, 'ran'))).toThrow();
      expect(readFileSync(join(dir, 'syslog'), 'utf8')).toMatch(/skipped: another run holds the lock/);
    } finally {
      holder.kill();
    }
  });

  it('a probe that cannot connect skips quietly; a missing jq fails loudly', async () => {
    const dir = tempDir();
    const spec = { cmd: `touch ${join(dir, 'ran')}`, probes: [{ url: 'http://127.0.0.1:9/health', bind: 'hub', timeout_seconds: 2 }], when: ["hub.status == 'ok'"] };
    const skipped = await runScript(script(spec), dir);
    expect(skipped).toMatchObject({ status: 0, stdout: '' });
    expect(readFileSync(join(dir, 'syslog'), 'utf8')).toMatch(/skipped: context probe hub/);
    // No jq on PATH: only the fake logger and a few tools.
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    for (const t of ['flock', 'curl', 'date']) spawnSync('ln', ['-s', spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), join(bare, t)]);
    const broken = await runScript(script(spec), dir, { PATH: `${join(dir, 'bin')}:${bare}` });
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/jq is not installed/);
  });
});

describe('the managed block', () => {
  const BLOCK = '# Generated by acore: begin of the managed block. x\n* * * * * job\n# End of the acore managed block.\n';
  const OTHER = '# Generated by acore: begin of the managed block. y\n0 0 * * * other\n# End of the acore managed block.\n';
  it.each([
    ['empty crontab: the block is added', { given: '', want: BLOCK }],
    ['own lines are kept and the block appended after a blank line', { given: 'MAILTO=me\n1 2 * * * mine\n', want: `MAILTO=me\n1 2 * * * mine\n\n${BLOCK}` }],
    ['an existing block is replaced in place', { given: `# top\n${OTHER}# bottom\n`, want: `# top\n${BLOCK}# bottom\n`, block: BLOCK }],
    ['the same block changes nothing', { given: `a\n\n${BLOCK}b\n`, want: `a\n\n${BLOCK}b\n` }],
    ['an empty block removes ours and the blank line before it', { given: `a\n\n${OTHER}`, want: 'a\n', block: '' }],
    ['no block and nothing to add', { given: 'a\n', want: 'a\n', block: '' }],
  ] as [string, { given: string; want: string; block?: string }][])('%s', (_n, { given, want, block }) => {
    expect(mergeCrontab(given, block ?? BLOCK)).toBe(want);
  });

  it.each([
    ['two blocks', `${OTHER}${OTHER}`],
    ['a begin without an end', '# Generated by acore: begin of the managed block. z\n* * * * * x\n'],
    ['an end before the begin', '# End of the acore managed block.\n# Generated by acore: begin of the managed block.\n'],
  ])('refuses to guess: %s', (_n, given) => {
    expect(() => mergeCrontab(given, BLOCK)).toThrow(BlockError);
  });
});
