/**
 * Debian's real cron daemon runs what `acore install --target crontab` put in place: a plain
 * schedule and a zoned one (which goes through the job script's acore_fires check) each run
 * within a minute, with their values byte for byte; the user's own crontab lines survive, and
 * removing the definitions removes exactly acore's block. (One minute-resolution wait.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.ts';
import { definitionYaml } from './definitions.ts';
import { run, waitFor } from './harness.ts';

const dir = join(tmpdir(), `acore-cron-e2e-${process.pid}`);
const defs = join(dir, 'definitions');
const home = join(dir, 'home');
const OWN = '# my own line, kept by acore\nMAILTO=""\n17 4 * * * /bin/true # mine\n';
const VALUE = `100% "quoted" 'single' $HOME \\ back ünï`;
let saved: string | undefined;
let daemon: ChildProcess | undefined;

const acore = (...args: string[]) =>
  run('node', [join(ROOT, 'bin', 'acore.js'), 'install', '--target', 'crontab', '--definitions', defs, '--script-dir', join(dir, 'scripts'), ...args], {
    HOME: home,
  });

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(defs, { recursive: true });
  mkdirSync(home, { recursive: true });
  const listed = await run('crontab', ['-l']);
  saved = listed.code === 0 ? listed.stdout : undefined;
  const own = await run('sh', ['-c', `printf '%s' '${OWN.replace(/'/g, "'\\''")}' | crontab -`]);
  if (own.code !== 0) throw new Error(`crontab -: ${own.stderr}`);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(defs, 'plain.yaml'), definitionYaml({ id: 'cron.plain', cron: '* * * * *', cmd: `printf '%s' "$VALUE" > ${join(dir, 'plain.out')}`, env: { VALUE } }));
  writeFileSync(join(defs, 'zoned.yaml'), definitionYaml({ id: 'cron.zoned', cron: '* * * * *', timezone: 'Asia/Kathmandu', cmd: `date +%s > ${join(dir, 'zoned.out')}` }));
  // Use the machine's cron if one runs; otherwise start Debian's in the foreground.
  // (A stale pid file may name a live process that is not cron.)
  const pid = existsSync('/run/crond.pid') ? Number(readFileSync('/run/crond.pid', 'utf8')) : 0;
  const alive = pid > 0 && existsSync(`/proc/${pid}/comm`) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'cron';
  if (!alive) {
    rmSync('/run/crond.pid', { force: true });
    daemon = spawn('cron', ['-f'], { stdio: 'ignore', detached: true });
  }
});

afterAll(async () => {
  if (daemon?.pid) process.kill(daemon.pid, 'SIGTERM');
  if (saved === undefined) await run('crontab', ['-r']);
  else await run('sh', ['-c', `printf '%s' '${saved.replace(/'/g, "'\\''")}' | crontab -`]);
  rmSync(dir, { recursive: true, force: true });
});

describe('crontab under a real cron daemon', () => {
  it('installs the jobs next to the user’s own lines and cron runs them', async () => {
    // cron notices a changed crontab by its mtime, in whole seconds: a change within the second
    // it last read the crontabs (here: at start-up) would go unseen until the next change.
    await new Promise((r) => setTimeout(r, 1_200));
    const r = await acore();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const crontab = (await run('crontab', ['-l'])).stdout;
    expect(crontab.startsWith(OWN)).toBe(true);
    expect(crontab).toMatch(/^\* \* \* \* \* \/bin\/sh ".*cron\.plain\.sh"$/m);
    await waitFor('cron to run both jobs', () => (existsSync(join(dir, 'plain.out')) && existsSync(join(dir, 'zoned.out')) ? true : undefined), 75_000, 500);
    expect(readFileSync(join(dir, 'plain.out'), 'utf8')).toBe(VALUE);
  }, 90_000);

  it('reinstalling without changes leaves the crontab alone; removing every definition removes only acore’s block', async () => {
    const again = await acore();
    expect(again.stdout).toMatch(/crontab: unchanged/);
    rmSync(join(defs, 'plain.yaml'));
    rmSync(join(defs, 'zoned.yaml'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(defs, 'other.yaml'), definitionYaml({ id: 'cron.elsewhere', cron: '0 0 * * *', cmd: 'true', systemd: {} }));
    const r = await acore();
    expect(r.code).toBe(0);
    expect((await run('crontab', ['-l'])).stdout).toBe(OWN);
    expect(existsSync(join(dir, 'scripts', 'cron.plain.sh'))).toBe(false);
  });
});
