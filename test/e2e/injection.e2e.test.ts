/**
 * Injection on the systemd target, proven through a real user manager (test/e2e/harness.ts):
 * for every nasty value of test/injection.test.ts (the same table, copied), a unit whose command
 * embeds the value verbatim, whose environment and working directory hold it, runs; the shell
 * it starts records its own argv (/proc/$$/cmdline), the values it sees and `pwd -P`. Each must
 * be exactly what the definition says. Probe URLs and lock files reach curl and flock exactly
 * (a stub curl on the unit's PATH records its argv). Values systemd cannot hold are refused.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { acore } from '../helpers.ts';
import { runUnit, startUserManager, type UserManager, writeDefinitions } from './harness.ts';
import { NASTY } from '../nasty-values.ts';


// eslint-disable-next-line no-control-regex
const hasControl = (s: string) => /[\u0000-\u001f\u007f]/.test(s);

let m: UserManager;
const cases: { id: string; value: string; out: string; cmd: string; wd?: string }[] = [];
let probe: { id: string; url: string; lock: string; bin: string };

function recorderCmd(value: string): string {
  return `cat /proc/$$/cmdline > "$OUT/argv"; printf '%s' "$V" > "$OUT/V"; printf '%s' "$W" > "$OUT/W"; pwd -P > "$OUT/pwd"; exit 0\n${value}`;
}

beforeAll(async () => {
  m = await startUserManager('injection');
  const files: Record<string, string> = {};
  NASTY.forEach(([, value], i) => {
    const id = `inj.v${i}`;
    const out = join(m.root, 'rec', String(i));
    mkdirSync(out, { recursive: true });
    let wd: string | undefined;
    // (as in test/injection.test.ts: working directories acore refuses, or no file system holds, are left out)
    if (!hasControl(value) && !/[ \t\\]$/.test(value) && value !== '' && value.split('/').every((s) => Buffer.byteLength(s) <= 200)) {
      wd = `${m.root}/wd/${i}/${value}`;
      mkdirSync(wd, { recursive: true });
    }
    const cmd = recorderCmd(value);
    cases.push({ id, value, out, cmd, ...(wd === undefined ? {} : { wd }) });
    files[`${i}.yaml`] = stringifyYaml({
      id,
      trigger: { trigger_type: 'cron', cron_expression: '0 0 1 1 *' },
      instruction: { kind: 'shell', cmd, env: { OUT: out, V: value, W: `<${value}>` }, ...(wd === undefined ? {} : { working_directory: wd }) },
      targets: { systemd: null },
    });
  });
  // Probe URL and lock file, with a stub curl on the unit's PATH.
  const bin = join(m.root, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'curl'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > '${join(m.root, 'curl-argv')}'\nprintf '{"status":"ok"}'\n`, { mode: 0o755 });
  probe = {
    id: 'inj.probe',
    url: "http://127.0.0.1:9/p?q='a'&b=\"c\"&d=$(id)&e=`id`&f=%25%zz%n%h&g=${{x}}&h=ü#frag",
    lock: join(m.root, `lock 100% %n $(id) 'q' "d" \`t\` ü.lock`),
    bin,
  };
  files['probe.yaml'] = stringifyYaml({
    id: probe.id,
    trigger: { trigger_type: 'cron', cron_expression: '0 0 1 1 *' },
    context: [{ kind: 'http_get', url: probe.url, bind: 'hub', timeout_seconds: 3 }],
    rule: { when: ["hub.status == 'ok'"] },
    instruction: { kind: 'shell', cmd: `echo ran > '${join(m.root, 'probe-ran')}'`, lock_file: probe.lock },
    targets: { systemd: null },
  });
  const dir = writeDefinitions(m, 'injection', files);
  const r = await m.compile(dir);
  if (r.code !== 0) throw new Error(r.stderr);
  // The probe unit finds the stub curl first.
  mkdirSync(join(m.unitDir, `${probe.id}.service.d`), { recursive: true });
  writeFileSync(join(m.unitDir, `${probe.id}.service.d`, 'zz-path.conf'), `[Service]\nEnvironment=PATH=${bin}:/usr/bin:/bin\n`);
  await m.reload();
}, 120_000);

afterAll(async () => {
  await m?.stop();
});

describe('systemd: values reach the job exactly, through a real user manager', () => {
  it.each(NASTY.map(([name], i) => [name, i] as const))('%s', async (_name, i) => {
    const c = cases[i]!;
    const s = await runUnit(m, `${c.id}.service`);
    expect(s, m.log(`${c.id}.service`)).toMatchObject({ Result: 'success' });
    expect(readFileSync(join(c.out, 'argv'), 'utf8')).toBe(`/bin/sh\0-c\0${c.cmd}\0`);
    expect(readFileSync(join(c.out, 'V'), 'utf8')).toBe(c.value);
    expect(readFileSync(join(c.out, 'W'), 'utf8')).toBe(`<${c.value}>`);
    // Without working_directory a user unit starts in the user's home directory.
    expect(readFileSync(join(c.out, 'pwd'), 'utf8')).toBe(`${c.wd === undefined ? realpathSync(process.env.HOME ?? '/root') : realpathSync(c.wd)}\n`);
    expect(existsSync(join(c.out, 'pwned'))).toBe(false);
  });

  it('probe URL and lock file reach curl and flock exactly (specifiers and $ included)', async () => {
    const s = await runUnit(m, `${probe.id}.service`);
    expect(s, m.log(`${probe.id}.service`)).toMatchObject({ Result: 'success' });
    expect(readFileSync(join(m.root, 'curl-argv'), 'utf8').split('\0').slice(-2)).toEqual([probe.url, '']);
    expect(readFileSync(join(m.root, 'probe-ran'), 'utf8')).toBe('ran\n');
    expect(existsSync(probe.lock)).toBe(true);
  });

  it('values systemd cannot hold (NUL, unpaired surrogates, control characters in paths) are refused, nothing written', async () => {
    const bad: Record<string, unknown>[] = [
      { cmd: 'echo a\0b' },
      { cmd: 'echo \ud800' },
      { cmd: 'true', env: { V: 'a\0b' } },
      { cmd: 'true', working_directory: '/tmp/a\nExecStartPre=/bin/false' },
      { cmd: 'true', working_directory: '/tmp/ends-in-a-backslash\\' },
      { cmd: 'true', working_directory: '/tmp/ends in a space ' },
      { cmd: 'true', lock_file: '/tmp/a\0b' },
    ];
    for (const [i, instruction] of bad.entries()) {
      const dir = writeDefinitions(m, `bad-${i}`, {
        'bad.yaml': stringifyYaml({ id: `inj.bad${i}`, trigger: { trigger_type: 'cron', cron_expression: '0 0 1 1 *' }, instruction: { kind: 'shell', ...instruction } }),
      });
      const out = join(m.root, `bad-out-${i}`);
      const r = await acore(['compile', '--target', 'systemd', '-d', dir, '-o', out]);
      expect(r.code, JSON.stringify(instruction)).toBe(1);
      expect(r.stderr).toMatch(/error\[schema-value\]/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
