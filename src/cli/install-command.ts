/**
 * `acore install --target systemd [--scope user|system] [--dry-run]`: compile straight into the
 * manager's unit directory and bring the manager in line (systemctl(1)):
 *
 *   1. compile and plan (all or nothing, same ownership rules as `compile`);
 *   2. stop and disable the timers of definitions that no longer exist (only units acore
 *      generated and recorded; a job that is running is left to finish);
 *   3. write the files, remove the orphans;
 *   4. `daemon-reload`;
 *   5. enable and start every timer (new ones start; changed ones are restarted so the new
 *      schedule applies at once).
 *
 * `--dry-run` prints the same steps and changes nothing.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Io } from './main.ts';
import { EXIT } from './main.ts';
import { type CompileOptions, prepare, reportApplied, write } from './compile-command.ts';

export interface InstallOptions extends Omit<CompileOptions, 'check' | 'out'> {
  dryRun?: boolean;
  /** Override the unit directory (default: the manager's own, see unitDirectory). */
  unitDir?: string;
}

/** Where the manager looks for the administrator's / user's units (systemd.unit(5), "Unit File Load Path"). */
export function unitDirectory(scope: 'user' | 'system', env: Io['env']): string {
  if (scope === 'system') return '/etc/systemd/system';
  const config = env.XDG_CONFIG_HOME || join(env.HOME || '/root', '.config');
  return join(config, 'systemd', 'user');
}

function systemctl(scope: 'user' | 'system', args: string[], env: Io['env']): Promise<{ code: number; out: string }> {
  const argv = [...(scope === 'user' ? ['--user'] : []), '--no-ask-password', ...args];
  return new Promise((done) => {
    execFile('systemctl', argv, { env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

export async function installCommand(opts: InstallOptions, io: Io): Promise<number> {
  if (opts.target !== 'systemd') {
    io.stderr(`acore: install supports --target systemd only\n`);
    return EXIT.usage;
  }
  const scope = opts.scope;
  const dir = resolve(io.cwd, opts.unitDir ?? unitDirectory(scope, io.env));
  const p = await prepare({ ...opts, out: dir }, dir, io);
  if (typeof p === 'number') return p;
  const { plan } = p;

  const timers = (kinds: string[]) => plan.changes.filter((c) => kinds.includes(c.kind) && c.path.endsWith('.timer')).map((c) => c.path);
  const added = timers(['create']);
  const changed = timers(['update']);
  const kept = timers(['unchanged']);
  const removed = timers(['remove']);
  const ctl = scope === 'user' ? 'systemctl --user' : 'systemctl';

  if (opts.dryRun) {
    const files = plan.changes.filter((c) => c.kind !== 'unchanged' && !c.path.startsWith('.'));
    for (const c of plan.conflicts) io.stdout(`conflict: ${join(p.display, c.path)}: ${c.reason}\n`);
    for (const c of files) io.stdout(`would ${c.kind} ${join(p.display, c.path)}\n`);
    for (const t of removed) io.stdout(`would run: ${ctl} disable --now ${t}\n`);
    io.stdout(`would run: ${ctl} daemon-reload\n`);
    for (const t of added) io.stdout(`would run: ${ctl} enable --now ${t}\n`);
    for (const t of changed) io.stdout(`would run: ${ctl} enable ${t} && ${ctl} restart ${t}\n`);
    for (const t of kept) io.stdout(`would run: ${ctl} enable --now ${t}\n`);
    io.stdout(`dry run: nothing was changed\n`);
    return plan.conflicts.some((c) => c.hard || !opts.force) ? EXIT.failed : EXIT.ok;
  }

  // Refuse before touching anything when the manager cannot be reached.
  const alive = await systemctl(scope, ['show-environment'], io.env);
  if (alive.code !== 0) {
    io.stderr(`acore: cannot reach the systemd ${scope} manager (${ctl} show-environment: ${alive.out || `exit ${alive.code}`}); nothing was changed\n`);
    return EXIT.failed;
  }

  let failed = false;
  const step = async (args: string[]) => {
    const r = await systemctl(scope, args, io.env);
    io.stdout(`${r.code === 0 ? 'ran' : 'FAILED'}: ${ctl} ${args.join(' ')}${r.code === 0 || !r.out ? '' : `: ${r.out}`}\n`);
    if (r.code !== 0) failed = true;
    return r.code === 0;
  };

  // Stop removed timers while their unit files still exist, so `disable` can find them.
  for (const t of removed) await step(['disable', '--now', t]);
  const applied = write(p, opts, io);
  if (typeof applied === 'number') return applied;
  reportApplied(p, applied, opts.target, io);
  await step(['daemon-reload']);
  for (const t of added) await step(['enable', '--now', t]);
  for (const t of changed) if (await step(['enable', t])) await step(['restart', t]);
  for (const t of kept) await step(['enable', '--now', t]);
  if (failed) {
    io.stderr(`acore: some systemctl steps failed (see above); the unit files are in place\n`);
    return EXIT.failed;
  }
  io.stdout(`installed: ${added.length} timer${added.length === 1 ? '' : 's'} started, ${changed.length} restarted, ${removed.length} stopped and removed, ${kept.length} unchanged\n`);
  return EXIT.ok;
}
