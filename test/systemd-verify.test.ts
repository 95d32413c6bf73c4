/**
 * Every generated unit is valid for the real consumer: `systemd-analyze verify` on each
 * golden fixture and on out/systemd prints nothing on stderr (any message is a failure).
 *
 * Each timer starts an instance of the shared template, `Unit=acore-trigger@<name>.service`.
 * Verifying a timer does not complain when the unit it starts does not exist, so the instance
 * each timer names is verified too: that loads it from the template in the same directory
 * ("not found" without it) and checks the instantiated ExecStart=.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acore, FIXTURES, ROOT, tempDir } from './helpers.ts';

const TEMPLATE = 'acore-trigger@.service';

const dirs = [
  join(ROOT, 'out', 'systemd'),
  ...readdirSync(FIXTURES)
    .map((c) => join(FIXTURES, c, 'expected', 'systemd'))
    .filter((d) => existsSync(d)),
];

/** The `Unit=` of every timer in the directory. */
function startedByTimers(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.timer'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^Unit=(.*)$/gm)].map((m) => m[1]!));
}

function verify(dir: string, user: boolean, units = readdirSync(dir).filter((f) => /\.(timer|service)$/.test(f))): { status: number | null; stderr: string; stdout: string } {
  const runtime = tempDir('acore-xdg-');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const r = spawnSync('systemd-analyze', [...(user ? ['--user'] : []), 'verify', ...units, ...startedByTimers(dir)], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'notice' },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A definition that compiles for systemd. */
function definition(id: string, unitName?: string): string {
  return [
    `id: ${id}`,
    'trigger:',
    '  trigger_type: cron',
    '  cron_expression: "0 3 * * *"',
    '  timezone: UTC',
    'instruction:',
    '  kind: shell',
    '  cmd: echo hello',
    ...(unitName === undefined ? [] : ['targets:', '  systemd:', `    unit_name: ${JSON.stringify(unitName)}`]),
    '',
  ].join('\n');
}

describe('systemd-analyze verify', () => {
  it('is available', () => {
    expect(execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' })).toMatch(/systemd \d+/);
  });

  it.each(dirs.map((d) => [d.slice(ROOT.length)]))('%s passes with nothing on stderr', (rel) => {
    const dir = join(ROOT, rel);
    const system = rel.includes('system-scope');
    // The shared template is there, and every timer starts an instance of it.
    expect(readdirSync(dir)).toContain(TEMPLATE);
    const started = startedByTimers(dir);
    expect(started.length).toBeGreaterThan(0);
    for (const u of started) expect(u).toMatch(/^acore-trigger@.+\.service$/);
    const r = verify(dir, !system);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the longest allowed names (200 characters: an id, and a unit_name with a \\x2d escape) pass', async () => {
    const root = tempDir('acore-verify-');
    mkdirSync(join(root, 'definitions'));
    const longId = `v.${'i'.repeat(198)}`;
    const longUnit = `u\\x2d${'n'.repeat(195)}`;
    expect(longId).toHaveLength(200);
    expect(longUnit).toHaveLength(200);
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition(longId));
    writeFileSync(join(root, 'definitions', 'b.yaml'), definition('v.short', longUnit));
    // One character more is refused (so these really are the longest).
    writeFileSync(join(root, 'definitions', 'c.yaml'), definition(`${longId}x`));
    const refused = await acore(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'out'], root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/longer than 200 characters/);
    rmSync(join(root, 'definitions', 'c.yaml'));

    const r = await acore(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'out'], root);
    expect(r.code, r.stderr).toBe(0);
    const out = join(root, 'out');
    const started = startedByTimers(out).sort();
    expect(started).toEqual([`acore-trigger@${longId}.service`, `acore-trigger@${longUnit}.service`].sort());
    for (const u of started) expect(u.length).toBeLessThanOrEqual(255);
    expect(Math.max(...started.map((u) => u.length))).toBe(222);
    const v = verify(out, true);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });

  it('would notice a timer whose trigger instance has no template (the check above has teeth)', async () => {
    const root = tempDir('acore-verify-');
    mkdirSync(join(root, 'definitions'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), definition('v.alone'));
    expect((await acore(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'out'], root)).code).toBe(0);
    const out = join(root, 'out');
    rmSync(join(out, TEMPLATE));
    const v = verify(out, true);
    expect(v.stderr).toContain('acore-trigger@v.alone.service not found');
    expect(v.status).not.toBe(0);
  });
});
