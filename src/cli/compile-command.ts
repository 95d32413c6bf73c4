/**
 * `acore compile`: read → compile (pure) → print diagnostics → plan → write or check.
 * Decides the exit code only at the end, after reporting everything.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { compile, type CompileResult, type Reusable, type ReusableDefinition, type ReusedDefinition, type ReusedFile } from '../compiler/compile.ts';
import { ContentNotKept } from '../targets/target.ts';
import { hasErrors } from '../compiler/diagnostics.ts';
import type { TargetName } from '../compiler/ir.ts';
import { type CompileOptions, loadTarget, printDiagnostics, targetOptions } from './compile-shared.ts';
import { EXIT, type Io } from './main.ts';
import { type Applied, applyPlans, MANIFEST, type Manifest, OutputError, type Plan, planOutput, readManifestText, sha256 } from './output.ts';
import { summary } from './report.ts';
import { type Listing, listDefinitions, type ReadResult, readDefinitions, stampDefinitions } from './sources.ts';
import { BUILD, inputsHash, lastLeft, lastMade, type Made, type MadeRecords, remember as rememberState, rememberMade, unchangedSince } from './incremental.ts';
import { measureWith, type Timings, withTimings } from './timings.ts';

export type { CompileOptions } from './compile-shared.ts';
export { loadTarget, targetOptions } from './compile-shared.ts';

export interface TargetPlan {
  target: TargetName;
  plan: Plan;
  /** The output directory as shown to the user. */
  display: string;
}

export interface Prepared {
  plans: TargetPlan[];
  result: CompileResult;
}

/** Read and compile; prints diagnostics. A number is an exit code (nothing to write). */
export async function compileAndReport(opts: CompileOptions, io: Io, timings?: Timings, preread?: ReadResult): Promise<CompileResult | number> {
  const c = await compileSources(opts, io, timings, preread);
  return c.report() ?? c.result;
}

/** Read (unless given) and compile; `report()` prints the diagnostics and says whether to stop (an exit code). */
async function compileSources(opts: CompileOptions, io: Io, timings?: Timings, preread?: ReadResult, reuse?: Reuse) {
  const time = measureWith(timings);
  const read = preread ?? time('read', () => readDefinitions(opts.definitions, io.cwd));
  const targets = await Promise.all(opts.targets.map(loadTarget));
  const result = compile(read.files, targets, targetOptions(opts), timings?.measure, reuse?.definitions, reuse?.withText);
  const diagnostics = [...read.diagnostics, ...result.diagnostics];
  const report = (): number | undefined => {
    time('report', () => printDiagnostics(diagnostics, new Map(read.files.map((f) => [f.path, f.text])), io, opts.allWarnings));
    if (!hasErrors(diagnostics)) return undefined;
    io.stderr(`acore: ${summary(diagnostics)}; nothing was written\n`);
    return EXIT.failed;
  };
  return { result, failed: hasErrors(diagnostics), report };
}

/** Read, compile and plan every target: everything before the first write. A number is an exit code. */
async function prepare(opts: CompileOptions, outDir: (t: TargetName) => string, io: Io, timings?: Timings, preread?: ReadResult): Promise<Prepared | number> {
  const p = await prepareWith(opts, outDir, io, timings, preread);
  if (p === FALLBACK) throw new Error('internal: a compile without reuse fell back');
  return p;
}

/** A compile that reused definitions must be done again in full (see CompileResult.fallback and ContentNotKept). */
const FALLBACK = Symbol('fallback');

async function prepareWith(
  opts: CompileOptions,
  outDir: (t: TargetName) => string,
  io: Io,
  timings?: Timings,
  preread?: ReadResult,
  reuse?: Reuse,
): Promise<Prepared | number | typeof FALLBACK> {
  const c = await compileSources(opts, io, timings, preread, reuse);
  const { result } = c;
  if (result.fallback !== undefined) return FALLBACK;
  // Reusing, nothing is printed until every plan is made: a plan may still send the compile
  // down the full path, which prints everything.
  if (!reuse || c.failed) {
    const code = c.report();
    if (code !== undefined) return code;
  }
  const plans: TargetPlan[] = [];
  for (const target of opts.targets) {
    const dir = outDir(target);
    const shown = relative(io.cwd, dir) || '.';
    const display = shown.startsWith('..') ? dir : shown;
    try {
      const artefacts = result.artefacts.filter((a) => a.target === target);
      const manifest = reuse?.manifests.get(target);
      const planOpts = { force: Boolean(opts.force), ...(opts.check || opts.force ? {} : { left: () => lastLeft(dir, io.env) }), ...(manifest ? { manifest } : {}) };
      const plan = measureWith(timings)('plan', () => planOutput(dir, target, artefacts, planOpts));
      plans.push({ target, display, plan });
    } catch (e) {
      if (reuse && e instanceof ContentNotKept) return FALLBACK;
      if (!(e instanceof OutputError)) throw e;
      if (reuse) c.report();
      io.stderr(`${display}: error[io-write]: ${e.message}\n`);
      return EXIT.failed;
    }
  }
  if (reuse) c.report();
  return { plans, result };
}

/** Refuses on any conflict in any target (unless forced), then writes each. A number is an exit code. */
export function write(p: Prepared, opts: { force?: boolean }, io: Io): Map<TargetName, Applied> | number {
  let blocking = 0;
  for (const { plan, display } of p.plans) {
    for (const c of plan.conflicts) {
      const blocks = c.hard || !opts.force;
      if (blocks) blocking++;
      io.stderr(`${join(display, c.path)}: ${blocks ? 'error' : 'warning'}[output-conflict]: ${c.reason}\n`);
    }
  }
  if (blocking > 0) {
    io.stderr(`acore: ${blocking} file${blocking === 1 ? '' : 's'} in the way; nothing was written\n`);
    return EXIT.failed;
  }
  for (const { plan, display } of p.plans) for (const n of plan.notes) io.stderr(`${join(display, n)}\n`);
  // All targets at once: every file of every target is on disk before the first one is renamed.
  try {
    const results = applyPlans(p.plans.map((t) => t.plan));
    return new Map(p.plans.map((t, i) => [t.target, results[i]!]));
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    io.stderr(`${p.plans.map((t) => t.display).join(', ')}: error[io-write]: ${e.message}\n`);
    return EXIT.failed;
  }
}

/** More changed files than this are summarised. */
const LIST_LIMIT = 200;

export function reportApplied(p: Prepared, applied: Map<TargetName, Applied>, io: Io): void {
  for (const { target, display } of p.plans) {
    const a = applied.get(target);
    if (!a) continue;
    // Every changed file by name, up to a screenful; a fleet-sized first compile gets the counts.
    const changed: [string, string[]][] = [
      ['created', a.created],
      ['updated', a.updated],
      ['removed', a.removed],
    ];
    const total = a.created.length + a.updated.length + a.removed.length;
    const room = total > LIST_LIMIT ? LIST_LIMIT - 1 : total;
    const shown: string[] = [];
    for (const [verb, files] of changed) for (let i = 0; i < files.length && shown.length < room; i++) shown.push(`${verb} ${join(display, files[i]!)}`);
    if (shown.length > 0) io.stdout(`${shown.join('\n')}\n`);
    if (shown.length < total) io.stdout(`… and ${total - shown.length} more\n`);
    const compiled = new Set(p.result.artefacts.filter((x) => x.target === target).flatMap((x) => x.ids)).size;
    io.stdout(
      `${target}: ${compiled} definition${compiled === 1 ? '' : 's'} → ${display}: ` +
        `${a.created.length} created, ${a.updated.length} updated, ${a.removed.length} removed, ${a.unchanged.length} unchanged\n`,
    );
  }
}

export function outDirs(opts: Pick<CompileOptions, 'targets' | 'out'>, cwd: string): (t: TargetName) => string {
  return (t) => {
    if (opts.out === undefined) return resolve(cwd, 'out', t);
    return opts.targets.length === 1 ? resolve(cwd, opts.out) : resolve(cwd, opts.out, t);
  };
}

export function compileCommand(opts: CompileOptions, io: Io): Promise<number> {
  return withTimings(io.env, (timings) => compileWith(opts, io, timings));
}

async function compileWith(opts: CompileOptions, io: Io, timings: Timings | undefined): Promise<number> {
  const time = measureWith(timings);
  const dirOf = outDirs(opts, io.cwd);
  const inc = await prepareIncremental(opts, dirOf, io, timings, true);
  if ('unchanged' in inc) {
    const n = inc.unchanged;
    for (const t of opts.targets) {
      const shown = relative(io.cwd, dirOf(t)) || '.';
      io.stdout(`${t}: ${shown.startsWith('..') ? dirOf(t) : shown} is as the last compile left it, from the same ${n} definition file${n === 1 ? '' : 's'}: nothing to do\n`);
    }
    return EXIT.ok;
  }
  const p = inc.prepared;
  if (typeof p === 'number') return p;
  if (opts.check) {
    let drift = 0;
    for (const t of p.plans) drift += await reportDrift(t, io);
    if (drift > 0) {
      const again = `acore compile --target ${opts.targets.join(',')}${opts.out ? ` --out ${opts.out}` : ''}`;
      io.stderr(`acore: ${drift} file${drift === 1 ? '' : 's'} differ from the definitions; run \`${again}\`\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  }
  const applied = time('write', () => write(p, opts, io));
  if (typeof applied === 'number') return applied;
  reportApplied(p, applied, io);
  inc.remember(applied);
  return EXIT.ok;
}

export interface Incremental {
  prepared: Prepared | number;
  /**
   * After the plans were written: remembers what this compile made and left, for the next one
   * (`reloaded`: install's systemd manager has reloaded with these files).
   */
  remember(applied: Map<TargetName, Applied>, reloaded?: boolean): void;
}

/**
 * `prepare`, reusing what the last compile into each output directory made where it can
 * (src/cli/incremental.ts): same build, options and definition files (by stamp: size, mtime,
 * ctime, inode) → with `shortcut`, and every output file as that compile left it, `unchanged`
 * (how many definition files; nothing was read, parsed, generated or written); else the files
 * whose stamp did not change are not read, what they made last time is reused. --check and
 * --force always take the full path.
 */
export async function prepareIncremental(
  opts: CompileOptions,
  dirOf: (t: TargetName) => string,
  io: Io,
  timings: Timings | undefined,
  shortcut: boolean,
): Promise<Incremental | { unchanged: number }> {
  const time = measureWith(timings);
  let read: ReadResult | undefined;
  // (Node.js too: its ICU decides which time zones exist.)
  const setup = (t: TargetName) => [t, JSON.stringify(targetOptions(opts)), process.version];
  const inputs = (t: TargetName, files: readonly { name: string; stamp: string }[]) => inputsHash(setup(t), files);
  /** What the per-definition records are kept under: the target and its options alone. */
  const setupKey = (t: TargetName) => inputsHash(setup(t), []);
  const fast = !opts.check && !opts.force && BUILD !== undefined;
  let stamps: { name: string; stamp: string }[] = [];
  let reuse: Reuse | undefined;
  // The definitions directory is walked once: stamped, and then the same files read.
  let listing: Listing | undefined;
  if (fast && opts.targets.every((t) => existsSync(join(dirOf(t), MANIFEST)))) {
    const st = time('read', () => stampDefinitions((listing = listDefinitions(opts.definitions, io.cwd))));
    if (!hasErrors(st.diagnostics) && st.files.length > 0) {
      if (shortcut && opts.targets.every((t) => unchangedSince(dirOf(t), inputs(t, st.files), io.env))) return { unchanged: st.files.length };
      // Some definitions changed: what the others made last time is reused, without reading them.
      stamps = st.files;
      reuse = time('read', () => {
        // The hashes of reused files come from each directory's manifest, used only if it is
        // the very one the compile that wrote the records left (it holds every file's hash).
        const manifests = new Map<TargetName, Manifest>();
        const lasts = opts.targets.map((t) => {
          const last = lastMade(dirOf(t), setupKey(t), io.env);
          const m = last && readManifestText(dirOf(t));
          if (!last || !m || sha256(m.text) !== last.manifest) return undefined;
          manifests.set(t, m.manifest);
          return last;
        });
        return reuseFrom(lasts, manifests, opts.targets, st.files);
      });
    }
  }
  let p: Prepared | number | typeof FALLBACK = FALLBACK;
  if (reuse && reuse.definitions.length > 0) {
    const r = reuse;
    read = time('read', () => readDefinitions(opts.definitions, io.cwd, r.unread, listing));
    p = await prepareWith(opts, dirOf, io, timings, read, r);
    timings?.count('reused', p === FALLBACK ? 0 : reuse.definitions.length);
  }
  if (p === FALLBACK) {
    reuse = undefined;
    // A miss stats every definition once more than a plain compile would: the price of a hit
    // that reads none.
    if (fast) read = time('read', () => readDefinitions(opts.definitions, io.cwd, undefined, listing));
    p = await prepare(opts, dirOf, io, timings, read);
  }
  const prepared = p;
  const remember = (applied: Map<TargetName, Applied>, reloaded = false) => {
    if (!read || typeof prepared === 'number' || prepared.plans.some((t) => t.plan.conflicts.length > 0)) return;
    // Every definition file's stamp: as read, or (reused, not read) as stamped.
    const stampOf = new Map(reuse ? stamps.map((f) => [f.name, f.stamp]) : []);
    for (const f of read.files) stampOf.set(f.name, f.stamp);
    const files = [...stampOf].map(([name, stamp]) => ({ name, stamp }));
    for (const t of prepared.plans) {
      const dir = dirOf(t.target);
      const paths = [...prepared.result.artefacts.filter((a) => a.target === t.target).map((a) => a.path), MANIFEST];
      if (t.plan.manifestHash) rememberMade(dir, setupKey(t.target), t.plan.manifestHash, made(prepared.result.reusable(t.target), stampOf), io.env);
      rememberState(dir, inputs(t.target, files), paths, io.env, applied.get(t.target)?.stats, reloaded);
    }
  };
  return { prepared, remember };
}

interface Reuse {
  definitions: ReusedDefinition[];
  /** Reused files with something to report: read again (for positions), not compiled. */
  withText: ReusedFile[];
  /** Reused files with nothing to report: not even read. */
  unread: Set<string>;
  /** Each target directory's manifest, read for the reused files' hashes (the planner needs it too). */
  manifests: ReadonlyMap<TargetName, Manifest>;
}

/**
 * The definitions of every file whose stamp is the one the last compile into each target's
 * directory recorded (with the same build and setup): what they made there, to reuse, their
 * files' hashes from the directory's manifest (a file not in it: the definition file is
 * compiled). Records that do not decode are not used at all.
 */
function reuseFrom(
  lasts: readonly (MadeRecords | undefined)[],
  manifests: ReadonlyMap<TargetName, Manifest>,
  targets: readonly TargetName[],
  stamps: readonly { name: string; stamp: string }[],
): Reuse {
  const none = (): Reuse => ({ definitions: [], withText: [], unread: new Set(), manifests });
  if (lasts.some((m) => m === undefined)) return none();
  const records = lasts as readonly MadeRecords[];
  const hashes = targets.map((t) => manifests.get(t)!.files);
  const reuse = none();
  try {
    next: for (const { name, stamp } of stamps) {
      const entries = records.map((m) => m.made[name]);
      const first = entries[0];
      if (!first || first[0] !== stamp) continue;
      const defs = first[2];
      for (const e of entries) {
        if (e === undefined || e[0] !== stamp || e[2].length !== defs.length) continue next;
        for (let i = 0; i < defs.length; i++) if (e[2][i]![0] !== defs[i]![0] || e[2][i]![1] !== defs[i]![1] || e[2][i]![2] !== defs[i]![2]) continue next;
      }
      let reports = first[1] !== 0 && first[1].length > 0;
      const reused: ReusedDefinition[] = [];
      for (let i = 0; i < defs.length; i++) {
        const [id, index, enabled] = defs[i]!;
        const parts: ReusedDefinition['parts'] = {};
        for (let k = 0; k < targets.length; k++) {
          const [, , , paths, share, problems] = entries[k]![2][i]!;
          const files: [string, string][] = [];
          for (const path of paths) {
            const hash = hashes[k]![path];
            // Not in the manifest: its text is unknown, so the file is compiled.
            if (typeof hash !== 'string') continue next;
            files.push([path, hash]);
          }
          const part: NonNullable<ReusedDefinition['parts'][TargetName]> = { files };
          if (share !== 0) part.share = share;
          if (problems !== 0 && problems.length > 0) {
            part.problems = problems.map((p) => {
              const problem = records[k]!.problems[p];
              if (!problem) throw new Error('a problem that is not in the table');
              return { id, ...problem };
            });
            reports = true;
          }
          parts[targets[k]!] = part;
        }
        reused.push({ id, key: name, index, enabled: enabled === 1, parts });
      }
      for (const d of reused) reuse.definitions.push(d);
      if (reports) reuse.withText.push({ key: name, diagnostics: first[1] === 0 ? [] : first[1] });
      else reuse.unread.add(name);
    }
  } catch {
    return none();
  }
  return reuse;
}

/** What each definition file made for `target`, file by file, for the next compile to reuse. */
function* made(reusable: Reusable, stampOf: ReadonlyMap<string, string>): Generator<[string, Made[string]]> {
  const byFile = new Map<string, ReusableDefinition[]>();
  for (const d of reusable.definitions) {
    const list = byFile.get(d.key);
    if (list) list.push(d);
    else byFile.set(d.key, [d]);
  }
  for (const [key, defs] of byFile) {
    const stamp = stampOf.get(key);
    if (stamp === undefined) continue;
    const entry: Made[string] = { stamp, defs: [] };
    const diagnostics = reusable.files.get(key);
    if (diagnostics) entry.diagnostics = diagnostics;
    for (const d of defs) {
      const part = d.part;
      const by: Made[string]['defs'][number] = { id: d.id, index: d.index, enabled: d.enabled, files: part?.paths ?? [] };
      if (part?.share !== undefined) by.share = part.share;
      if (part?.problems) by.problems = part.problems;
      entry.defs.push(by);
    }
    yield [key, entry];
  }
}

/** Prints every stale, missing, orphaned or conflicting file with a diff; returns how many. */
async function reportDrift({ target, plan, display }: TargetPlan, io: Io): Promise<number> {
  // Only --check needs diffs; keep the library off every other command's start-up.
  const { createTwoFilesPatch } = await import('diff');
  let drift = 0;
  // The manifest is bookkeeping derived from the other files; drift is about those.
  for (const c of plan.changes.filter((x) => x.path !== MANIFEST)) {
    const path = join(display, c.path);
    if (c.kind === 'create') {
      drift++;
      io.stdout(`missing: ${path}\n${createTwoFilesPatch('/dev/null', path, '', c.content, undefined, undefined, { context: 3 })}\n`);
    } else if (c.kind === 'update') {
      drift++;
      io.stdout(`stale: ${path}\n${createTwoFilesPatch(path, path, c.old, c.content, 'on disk', 'compiled', { context: 3 })}\n`);
    } else if (c.kind === 'remove') {
      drift++;
      io.stdout(`orphaned: ${path} (generated earlier for a definition that no longer exists)\n${createTwoFilesPatch(path, '/dev/null', c.old, '', undefined, undefined, { context: 3 })}\n`);
    }
  }
  for (const c of plan.conflicts) {
    drift++;
    const path = join(display, c.path);
    const diff = c.old !== undefined && c.content !== undefined ? createTwoFilesPatch(path, path, c.old, c.content, 'on disk', 'compiled', { context: 3 }) : '';
    io.stdout(`conflict: ${path}: ${c.reason}\n${diff}${diff ? '\n' : ''}`);
  }
  for (const n of plan.notes) io.stdout(`note: ${join(display, n)}\n`);
  if (drift === 0) io.stdout(`${target}: ${display} is up to date\n`);
  return drift;
}
