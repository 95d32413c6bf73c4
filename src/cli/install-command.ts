/**
 * `acore install --target systemd [--scope user|system] [--dry-run]`: compile straight into the
 * manager's unit directory and bring the manager in line (systemctl(1)):
 *
 *   1. compile and plan (all or nothing, same ownership rules as `compile`);
 *   2. stop and disable the timers of definitions that no longer exist (only units acore
 *      generated and recorded; a job that is running is left to finish);
 *   3. write the files, remove the orphans;
 *   4. enable every timer not enabled yet (its link in timers.target.wants), then one
 *      `daemon-reload` (skipped when the last install reloaded the manager and no file has
 *      been written since: the manager has these files loaded);
 *   5. start every timer not active yet (unchanged ones the manager runs are left as they are);
 *      changed ones are restarted so the new schedule applies at once.
 *
 * Each step is one systemctl command for all its units (one per 1,000 for a bigger fleet), and `enable`/`disable` pass --no-reload: per unit, or with the
 * reload each of them does by default, a fleet's install was quadratic. `--dry-run` prints the
 * same commands and changes nothing.
 */
import { createTwoFilesPatch } from 'diff';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Artefact, DEFAULT_SCRIPT_DIR } from '../targets/target.ts';
import { BlockError, currentBlock, mergeCrontab } from './crontab-block.ts';
import { MANIFEST, OutputError, planOutput } from './output.ts';
import type { Io } from './main.ts';
import { EXIT } from './main.ts';
import { lastReloaded } from './incremental.ts';
import { type Timings, withTimings } from './timings.ts';
import { type CompileOptions, compileAndReport, prepareIncremental, reportApplied, type TargetPlan, write } from './compile-command.ts';

export interface InstallOptions extends Omit<CompileOptions, 'check' | 'out' | 'targets'> {
  target: 'systemd' | 'crontab';
  /** crontab, cron.d form: where cron.d files go (default /etc/cron.d). */
  cronDir?: string;
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

function systemctl(scope: 'user' | 'system', args: string[], env: Io['env']): Promise<{ code: number; out: string; stdout: string; stderr: string }> {
  return run('systemctl', [...(scope === 'user' ? ['--user'] : []), '--no-ask-password', ...args], env);
}

export async function installCommand(opts: InstallOptions, io: Io): Promise<number> {
  if (opts.target === 'crontab') return installCrontab(opts, io);
  return withTimings(io.env, (timings) => installSystemd(opts, io, timings));
}

async function installSystemd(opts: InstallOptions, io: Io, timings: Timings | undefined): Promise<number> {
  const scope = opts.scope;
  const dir = resolve(io.cwd, opts.unitDir ?? unitDirectory(scope, io.env));
  // Definitions unchanged since the last install (or compile) into this directory are reused,
  // not compiled again; the timers are still brought in line, so never "nothing to do".
  const inc = await prepareIncremental({ ...opts, targets: ['systemd'] }, () => dir, io, timings, false);
  if ('unchanged' in inc) throw new Error('internal: install asked for no shortcut');
  const p = inc.prepared;
  if (typeof p === 'number') return p;
  const [{ plan, display }] = p.plans as [TargetPlan];

  const timers = (kinds: string[]) => plan.changes.filter((c) => kinds.includes(c.kind) && c.path.endsWith('.timer')).map((c) => c.path);
  const added = timers(['create']);
  const changed = timers(['update']);
  const kept = timers(['unchanged']);
  const removed = timers(['remove']);
  const ctl = scope === 'user' ? 'systemctl --user' : 'systemctl';
  const current = [...added, ...changed, ...kept];
  const isChanged = new Set(changed);
  // The manager already has exactly these files loaded when the last install into this
  // directory reloaded it and nothing was written since: every file is as that install left it
  // (size and mtime) and none changes now. Then its reload is skipped: with 10,000 timers
  // running, one took 62 s here. (A compile into the directory, even with --force, rewrites
  // files, so it never counts as loaded.)
  const loaded =
    lastReloaded(dir, io.env) && plan.conflicts.length === 0 && plan.changes.every((c) => c.kind === 'unchanged' && (c.path === MANIFEST || plan.stats?.has(c.path)));
  const SKIPPED = `skipped: ${ctl} daemon-reload (no unit file changed since the last install reloaded the manager)\n`;
  const skippedFor = (verb: string, n: number, what: string, state: string) => (n > 0 ? `skipped: ${ctl} ${verb} of ${n} ${what}${n === 1 ? '' : 's'} ${state}\n` : '');
  // Timers already enabled are not enabled again (a no-op that costs the manager ~1.6 s per
  // 1,000); one someone disabled has lost its link and is enabled again.
  const linked = enabledLinks(current, dir, scope, io.env);
  const toEnable = current.filter((t) => !linked.has(t));
  const ENABLED = skippedFor('enable', linked.size, 'timer', 'already enabled');
  // Unchanged timers the manager runs already are not started again (a no-op that costs it
  // ~0.33 s per 1,000): one `list-units` says which (nothing else touches them before their
  // start); if it cannot, every one is started.
  const active = kept.length > 0 ? await activeTimers(scope, io.env) : new Set<string>();
  const running = new Set(kept.filter((t) => active.has(t)));
  const STARTED = skippedFor('start', running.size, 'unchanged timer', 'already active');

  if (opts.dryRun) {
    const files = plan.changes.filter((c) => c.kind !== 'unchanged' && !c.path.startsWith('.'));
    for (const c of plan.conflicts) io.stdout(`conflict: ${join(display, c.path)}: ${c.reason}\n`);
    for (const c of files) io.stdout(`would ${c.kind} ${join(display, c.path)}\n`);
    const would = (args: string[], units: string[] | 'none') => {
      for (const chunk of units === 'none' ? [[]] : chunks(units)) io.stdout(`would run: ${ctl} ${shown(args, chunk)}\n`);
    };
    would(['stop'], removed);
    would(['disable', '--no-reload'], removed);
    if (ENABLED) io.stdout(`would be ${ENABLED}`);
    would(['enable', '--no-reload'], toEnable);
    if (loaded) io.stdout(`would be ${SKIPPED}`);
    else would(['daemon-reload'], 'none');
    if (STARTED) io.stdout(`would be ${STARTED}`);
    would(['start'], [...added, ...kept.filter((t) => !running.has(t))]);
    would(['restart'], changed);
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
  /**
   * One systemctl command for many units (each `enable`/`disable` makes the manager reload, so
   * one command per timer is quadratic for a fleet: 100 timers took 28 s one by one, 0.8 s at
   * once). A command that fails is split in halves until the units at fault are found, so each
   * failure is reported for its own unit (a retried unit that is already enabled or running is
   * left as it is). Returns the units for which the command succeeded (for a command without
   * units, ['ok'] when it succeeded).
   */
  const step = async (args: string[], units: string[] | 'none'): Promise<string[]> => {
    const done: string[] = [];
    /** Whether the command succeeded for the whole batch at once. */
    const attempt = async (batch: string[]): Promise<boolean> => {
      const r = await systemctl(scope, [...args, ...batch], io.env);
      const command = `${ctl} ${shown(args, batch)}`;
      if (r.code === 0) {
        io.stdout(`ran: ${command}\n`);
        done.push(...batch);
        return true;
      }
      if (batch.length <= 1) {
        io.stdout(`FAILED: ${command}${r.out ? `: ${r.out}` : ''}\n`);
        failed = true;
        return false;
      }
      // Said, not hidden: halves that then succeed would leave the reason unknown.
      io.stdout(`retrying in halves: ${command}: ${r.stderr.trim().split('\n')[0] || `exit ${r.code}`}\n`);
      const half = Math.ceil(batch.length / 2);
      await attempt(batch.slice(0, half));
      await attempt(batch.slice(half));
      return false;
    };
    if (units === 'none') return (await attempt([])) ? ['ok'] : [];
    for (const chunk of chunks(units)) await attempt(chunk);
    return done;
  };

  // Stop removed timers, and disable them while their unit files still exist.
  await step(['stop'], removed);
  await step(['disable', '--no-reload'], removed);
  const applied = write(p, opts, io);
  if (typeof applied === 'number') return applied;
  reportApplied(p, applied, io);
  // Each timer not yet enabled is enabled (a timer someone disabled is brought back in line;
  // --no-reload, as a reload costs the manager seconds for a fleet of thousands of units), one
  // reload (unless the manager has these very files loaded), then new timers and unchanged ones
  // the manager does not run are started, and changed ones restarted so that their new schedule
  // applies at once.
  if (ENABLED) io.stdout(ENABLED);
  const enabledNow = new Set(await step(['enable', '--no-reload'], toEnable));
  const enabled = current.filter((t) => linked.has(t) || enabledNow.has(t));
  if (loaded) io.stdout(SKIPPED);
  const reloaded = loaded || (await step(['daemon-reload'], 'none')).length > 0;
  inc.remember(applied, reloaded);
  if (!reloaded) {
    // Starting now would start what the manager still has loaded: the old units, or none.
    io.stderr(`acore: the ${scope} manager did not reload, so no timer was started or restarted; the unit files are in place: run \`${ctl} daemon-reload\` and install again\n`);
    return EXIT.failed;
  }
  if (STARTED) io.stdout(STARTED);
  await step(['start'], enabled.filter((t) => !isChanged.has(t) && !running.has(t)));
  await step(['restart'], enabled.filter((t) => isChanged.has(t)));
  if (failed) {
    io.stderr(`acore: some systemctl steps failed (see above); the unit files are in place\n`);
    return EXIT.failed;
  }
  io.stdout(`installed: ${added.length} timer${added.length === 1 ? '' : 's'} started, ${changed.length} restarted, ${removed.length} stopped and removed, ${kept.length} unchanged\n`);
  return EXIT.ok;
}

/**
 * The timers among `timers` that are enabled as `systemctl enable` would enable them from `dir`:
 * <the manager's unit configuration directory>/timers.target.wants/<timer> is a link to
 * <dir>/<timer> (acore's timers have `WantedBy=timers.target` and no other [Install] setting,
 * see templates/systemd/timer.hbs). For them, `enable` would change nothing.
 */
function enabledLinks(timers: readonly string[], dir: string, scope: 'user' | 'system', env: Io['env']): Set<string> {
  const wants = join(unitDirectory(scope, env), 'timers.target.wants');
  const out = new Set<string>();
  let present: Set<string>;
  try {
    present = new Set(readdirSync(wants));
  } catch {
    return out;
  }
  for (const t of timers) {
    if (!present.has(t)) continue;
    try {
      if (readlinkSync(join(wants, t)) === join(dir, t)) out.add(t);
    } catch {
      // not a link: `enable` decides
    }
  }
  return out;
}

/** The timers the manager has active (waiting or running), by one `systemctl list-units`; none if it fails. */
async function activeTimers(scope: 'user' | 'system', env: Io['env']): Promise<Set<string>> {
  const r = await systemctl(scope, ['list-units', '--type=timer', '--state=active', '--plain', '--no-legend', '--no-pager', '--full'], env);
  const out = new Set<string>();
  if (r.code !== 0) return out;
  // "<unit> <load> <active> <sub> <description>": a unit name never holds a blank (systemd
  // escapes it), and only failed or missing units get a leading mark, which --state=active leaves out.
  for (const line of r.stdout.split('\n')) {
    const [unit, , state] = line.trim().split(/\s+/);
    if (unit && state === 'active') out.add(unit);
  }
  return out;
}

/** A command as printed: a fleet's thousands of unit names are summed up after the first few. */
function shown(args: readonly string[], units: readonly string[]): string {
  const listed = units.length > 10 ? [...units.slice(0, 3), `… (${units.length} units)`] : units;
  return [...args, ...listed].join(' ');
}

/**
 * Units in groups for one command line each: at most 1,000 units (a start of 4,555 timers in
 * one command took 51 s here, and once, on a busy machine, failed and had to be halved; 1,000
 * take ~10 s) and well below the kernel's limit on arguments (ARG_MAX is 2 MiB or more).
 */
export function chunks(units: readonly string[], maxUnits = 1000, maxBytes = 128 * 1024): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const u of units) {
    if (current.length > 0 && (current.length === maxUnits || bytes + u.length + 1 > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(u);
    bytes += u.length + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** `$HOME/…` and `~/…` as the shell cron runs would expand them. */
function expandHome(path: string, env: Io['env']): string {
  return path.replace(/^(\$HOME|~)(?=\/|$)/, env.HOME || '/root');
}

/**
 * A program run without a shell; `out` is stdout and stderr together, for messages. The time
 * limit only guards against a program that hangs: systemctl has its own D-Bus timeouts, and a
 * manager with a fleet of 20,000 units takes over a minute to reload here.
 */
function run(cmd: string, args: string[], env: Io['env'], input?: string, limitMs = 15 * 60_000): Promise<{ code: number; out: string; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // (`enable` prints a line per symlink: a fleet's is megabytes.)
    const child = execFile(cmd, args, { env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: limitMs, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown; signal?: string | null; killed?: boolean }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
      const why = !e || typeof e.code === 'number' ? '' : e.killed && e.signal ? `stopped after ${Math.round(limitMs / 1000)} s` : e.message;
      done({ code, out: [`${stdout}${stderr}`.trim(), why].filter(Boolean).join('; '), stdout, stderr: [stderr.trim(), why].filter(Boolean).join('; ') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * crontab: job scripts into the script directory (same ownership rules as compile), then the
 * managed block into the user's crontab (`crontab -l`, merged, `crontab -`), or, for the
 * cron.d form, one file per job into /etc/cron.d. Nothing is written when nothing changed.
 */
async function installCrontab(opts: InstallOptions, io: Io): Promise<number> {
  const form = opts.cronForm ?? 'user';
  const scriptDir = opts.scriptDir ?? DEFAULT_SCRIPT_DIR[form];
  const result = await compileAndReport({ ...opts, targets: ['crontab'], scriptDir }, io);
  if (typeof result === 'number') return result;
  const under = (prefix: string) =>
    result.artefacts.filter((a) => a.path.startsWith(prefix)).map((a) => ({ ...a, path: a.path.slice(prefix.length) }));
  const scripts = resolve(io.cwd, expandHome(scriptDir, io.env));
  const targets: { dir: string; artefacts: Artefact[] }[] = [{ dir: scripts, artefacts: under('libexec/') }];
  if (form === 'cron.d') targets.push({ dir: resolve(io.cwd, opts.cronDir ?? '/etc/cron.d'), artefacts: under('cron.d/') });

  const plans: TargetPlan[] = [];
  for (const t of targets) {
    try {
      plans.push({ target: 'crontab', display: t.dir, plan: planOutput(t.dir, 'crontab', t.artefacts, { force: Boolean(opts.force) }) });
    } catch (e) {
      if (!(e instanceof OutputError)) throw e;
      io.stderr(`${t.dir}: error[io-write]: ${e.message}\n`);
      return EXIT.failed;
    }
  }

  // The user form's block, merged into the current crontab.
  let crontab: { before: string; after: string } | undefined;
  if (form === 'user') {
    const listed = await run('crontab', ['-l'], io.env);
    if (listed.code !== 0 && !/no crontab/i.test(listed.out)) {
      io.stderr(`acore: cannot read the crontab (crontab -l: ${listed.out || `exit ${listed.code}`}); nothing was changed\n`);
      return EXIT.failed;
    }
    const before = listed.code === 0 ? listed.stdout : '';
    const block = result.artefacts.find((a) => a.path === 'crontab')?.content ?? '';
    try {
      crontab = { before, after: mergeCrontab(before, block) };
    } catch (e) {
      if (!(e instanceof BlockError)) throw e;
      io.stderr(`acore: ${e.message}; nothing was changed\n`);
      return EXIT.failed;
    }
  }

  if (opts.dryRun) {
    for (const { plan, display } of plans) {
      for (const c of plan.conflicts) io.stdout(`conflict: ${join(display, c.path)}: ${c.reason}\n`);
      for (const c of plan.changes) if (c.kind !== 'unchanged' && !c.path.startsWith('.')) io.stdout(`would ${c.kind} ${join(display, c.path)}\n`);
    }
    if (crontab) {
      if (crontab.before === crontab.after) io.stdout('the crontab would stay as it is\n');
      else io.stdout(`would replace the crontab's acore block:\n${createTwoFilesPatch('crontab', 'crontab', currentBlock(crontab.before), currentBlock(crontab.after), 'now', 'after')}`);
    }
    io.stdout('dry run: nothing was changed\n');
    return plans.some((p) => p.plan.conflicts.some((c) => c.hard || !opts.force)) ? EXIT.failed : EXIT.ok;
  }

  // Check the new crontab before touching anything (Debian's crontab has -n; others skip this).
  if (crontab && crontab.before !== crontab.after) {
    const tmp = join(scripts, `.acore-crontab-check-${process.pid}`);
    try {
      mkdirSync(scripts, { recursive: true });
      writeFileSync(tmp, crontab.after);
      const checked = await run('crontab', ['-n', tmp], io.env);
      if (checked.code !== 0 && !/invalid option|unknown option|usage/i.test(checked.out)) {
        io.stderr(`acore: the new crontab does not pass \`crontab -n\`: ${checked.out}; nothing was changed\n`);
        return EXIT.failed;
      }
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  const applied = write({ plans, result }, opts, io);
  if (typeof applied === 'number') return applied;
  reportApplied({ plans, result }, applied, io);
  if (crontab) {
    if (crontab.before === crontab.after) io.stdout('crontab: unchanged\n');
    else {
      const written = await run('crontab', ['-'], io.env, crontab.after);
      if (written.code !== 0) {
        io.stderr(`acore: crontab - failed: ${written.out}; the job scripts are in place, the crontab is unchanged\n`);
        return EXIT.failed;
      }
      io.stdout(`crontab: acore block ${currentBlock(crontab.before) ? 'replaced' : 'added'}${currentBlock(crontab.after) ? '' : ' (now empty, removed)'}\n`);
    }
  }
  return EXIT.ok;
}
