/**
 * `acore compile` and `acore validate`: read → compile (pure) → print diagnostics → plan →
 * write or check. Decides the exit code only at the end, after reporting everything.
 */
import { createTwoFilesPatch } from 'diff';
import { join, relative, resolve } from 'node:path';
import { compile, type CompileResult, loadDefinitions } from '../compiler/compile.ts';
import { compareDiagnostics, type Diagnostic, hasErrors } from '../compiler/diagnostics.ts';
import type { TargetName } from '../compiler/ir.ts';
import type { Target } from '../targets/target.ts';
import { EXIT, type Io } from './main.ts';
import { type Applied, applyPlan, type Change, type Conflict, MANIFEST, OutputError, type Plan, planOutput } from './output.ts';
import { formatDiagnostic, summary } from './report.ts';
import { readDefinitions } from './sources.ts';

export interface CompileOptions {
  target: TargetName;
  definitions: string;
  out?: string;
  check?: boolean;
  scope: 'user' | 'system';
  force?: boolean;
}

async function loadTarget(name: TargetName): Promise<Target> {
  switch (name) {
    case 'systemd':
      return (await import('../targets/systemd/index.ts')).systemdTarget;
    default:
      throw new Error(`target ${name} is not implemented`);
  }
}

function printDiagnostics(diagnostics: readonly Diagnostic[], texts: Map<string, string>, io: Io): void {
  for (const d of [...diagnostics].sort(compareDiagnostics)) io.stderr(`${formatDiagnostic(d, (f) => texts.get(f), io.color)}\n\n`);
}

export async function validateCommand(opts: { definitions: string }, io: Io): Promise<number> {
  const read = readDefinitions(opts.definitions, io.cwd);
  const loaded = loadDefinitions(read.files);
  const diagnostics = [...read.diagnostics, ...loaded.diagnostics];
  printDiagnostics(diagnostics, new Map(read.files.map((f) => [f.path, f.text])), io);
  if (hasErrors(diagnostics)) {
    io.stderr(`acore: ${summary(diagnostics)}\n`);
    return EXIT.failed;
  }
  const n = loaded.definitions.length;
  const extra = summary(diagnostics);
  io.stdout(`${n} definition${n === 1 ? '' : 's'} valid${extra ? ` (${extra})` : ''}\n`);
  return EXIT.ok;
}

export interface Prepared {
  plan: Plan;
  /** The output directory as shown to the user. */
  display: string;
  result: CompileResult;
}

/** Read, compile and plan: everything before the first write. A number is an exit code. */
export async function prepare(opts: CompileOptions, outDir: string, io: Io): Promise<Prepared | number> {
  const read = readDefinitions(opts.definitions, io.cwd);
  const texts = new Map(read.files.map((f) => [f.path, f.text]));
  const target = await loadTarget(opts.target);
  const result = compile(read.files, [target], { scope: opts.scope });
  const diagnostics = [...read.diagnostics, ...result.diagnostics];
  printDiagnostics(diagnostics, texts, io);
  if (hasErrors(diagnostics)) {
    io.stderr(`acore: ${summary(diagnostics)}; nothing was written\n`);
    return EXIT.failed;
  }
  const shown = relative(io.cwd, outDir) || '.';
  const display = shown.startsWith('..') ? outDir : shown;
  try {
    return { plan: planOutput(outDir, opts.target, result.artefacts, { force: Boolean(opts.force) }), display, result };
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    io.stderr(`${display}: error[io-write]: ${e.message}\n`);
    return EXIT.failed;
  }
}

/** Refuses on conflicts (unless forced), then writes. A number is an exit code. */
export function write(p: Prepared, opts: { force?: boolean }, io: Io): Applied | number {
  const { plan, display } = p;
  const blocking = plan.conflicts.filter((c) => c.hard || !opts.force);
  for (const c of plan.conflicts) io.stderr(`${join(display, c.path)}: ${blocking.includes(c) ? 'error' : 'warning'}[output-conflict]: ${c.reason}\n`);
  if (blocking.length > 0) {
    io.stderr(`acore: ${blocking.length} file${blocking.length === 1 ? '' : 's'} in the way; nothing was written\n`);
    return EXIT.failed;
  }
  for (const n of plan.notes) io.stderr(`${join(display, n)}\n`);
  try {
    return applyPlan(plan);
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    io.stderr(`${display}: error[io-write]: ${e.message}\n`);
    return EXIT.failed;
  }
}

export function reportApplied(p: Prepared, applied: Applied, target: string, io: Io): void {
  const { display, result } = p;
  for (const f of applied.created) io.stdout(`created ${join(display, f)}\n`);
  for (const f of applied.updated) io.stdout(`updated ${join(display, f)}\n`);
  for (const f of applied.removed) io.stdout(`removed ${join(display, f)}\n`);
  const compiled = new Set(result.artefacts.flatMap((a) => a.ids)).size;
  io.stdout(
    `${target}: ${compiled} definition${compiled === 1 ? '' : 's'} → ${display}: ` +
      `${applied.created.length} created, ${applied.updated.length} updated, ` +
      `${applied.removed.length} removed, ${applied.unchanged.length} unchanged\n`,
  );
}

export async function compileCommand(opts: CompileOptions, io: Io): Promise<number> {
  const outDir = resolve(io.cwd, opts.out ?? join('out', opts.target));
  const p = await prepare(opts, outDir, io);
  if (typeof p === 'number') return p;
  if (opts.check) return reportDrift(p.plan.changes, p.plan.conflicts, p.plan.notes, p.display, opts, io);
  const applied = write(p, opts, io);
  if (typeof applied === 'number') return applied;
  reportApplied(p, applied, opts.target, io);
  return EXIT.ok;
}

function reportDrift(
  changes: Change[],
  conflicts: Conflict[],
  notes: string[],
  display: string,
  opts: CompileOptions,
  io: Io,
): number {
  let drift = 0;
  // The manifest is bookkeeping derived from the other files; drift is about those.
  for (const c of changes.filter((x) => x.path !== MANIFEST)) {
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
  for (const c of conflicts) {
    drift++;
    const path = join(display, c.path);
    const diff = c.old !== undefined && c.content !== undefined ? createTwoFilesPatch(path, path, c.old, c.content, 'on disk', 'compiled', { context: 3 }) : '';
    io.stdout(`conflict: ${path}: ${c.reason}\n${diff}${diff ? '\n' : ''}`);
  }
  for (const n of notes) io.stdout(`note: ${join(display, n)}\n`);
  if (drift > 0) {
    io.stderr(`acore: ${drift} file${drift === 1 ? '' : 's'} in ${display} differ from the definitions; run \`acore compile --target ${opts.target}${opts.out ? ` --out ${opts.out}` : ''}\`\n`);
    return EXIT.failed;
  }
  io.stdout(`${opts.target}: ${display} is up to date\n`);
  return EXIT.ok;
}
