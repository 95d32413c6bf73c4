/**
 * Every generated unit is valid for the real consumer: `systemd-analyze verify` on each
 * golden fixture and on out/systemd prints nothing on stderr (any message is a failure).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, tempDir } from './helpers.ts';

const dirs = [
  join(ROOT, 'out', 'systemd'),
  ...readdirSync(FIXTURES)
    .map((c) => join(FIXTURES, c, 'expected', 'systemd'))
    .filter((d) => existsSync(d)),
];

function verify(dir: string, user: boolean): { status: number | null; stderr: string; stdout: string } {
  const units = readdirSync(dir).filter((f) => /\.(timer|service)$/.test(f));
  const runtime = tempDir('acore-xdg-');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const r = spawnSync('systemd-analyze', [...(user ? ['--user'] : []), 'verify', ...units], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'notice' },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('systemd-analyze verify', () => {
  it('is available', () => {
    expect(execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' })).toMatch(/systemd \d+/);
  });

  it.each(dirs.map((d) => [d.slice(ROOT.length)]))('%s passes with nothing on stderr', (rel) => {
    const dir = join(ROOT, rel);
    const system = rel.includes('system-scope');
    const r = verify(dir, !system);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
