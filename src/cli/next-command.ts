/**
 * `acore next <id>`: the next fire times of one definition as each target will actually fire
 * them (src/compiler/cron/next.ts), in the definition's zone and in UTC, one block per target;
 * a target that refuses the definition says why (its own error, from the capability matrix).
 *
 * Also the shared edge of `acore explain`: read and load the definitions, print diagnostics
 * when any is invalid, find the definition by id (or name the close ones).
 */
import { compareDiagnostics, hasErrors } from '../compiler/diagnostics.ts';
import { type LoadedDefinition, loadDefinitions } from '../compiler/compile.ts';
import type { ActivityIR, TargetName } from '../compiler/ir.ts';
import { type FireTime, formatInZone, isKnownZone, isoUtc, previewFireTimes, type TargetFireTimes } from '../compiler/cron/next.ts';
import type { TargetOptions, TargetProblem } from '../targets/target.ts';
import { loadTarget, targetOptions } from './compile-shared.ts';
import { EXIT, type Io, TARGETS } from './main.ts';
import { formatDiagnostic, summary } from './report.ts';
import { readDefinitions } from './sources.ts';
import { editDistance } from '../compiler/validate.ts';

export interface NextOptions {
  count?: string;
  target?: string;
  definitions: string;
  from?: string;
}

const MAX_COUNT = 1000;

// ---------------------------------------------------------------------------------------------
// Shared with explain

export type Found = { definition: LoadedDefinition; all: LoadedDefinition[] } | number;

/** Reads and loads the definitions and finds `id`; prints diagnostics or "not found". A number is an exit code. */
export function findDefinition(id: string, dir: string, io: Io): Found {
  const read = readDefinitions(dir, io.cwd);
  const loaded = loadDefinitions(read.files);
  const diagnostics = [...read.diagnostics, ...loaded.diagnostics];
  if (hasErrors(diagnostics)) {
    const texts = new Map(read.files.map((f) => [f.path, f.text]));
    for (const d of [...diagnostics].sort(compareDiagnostics)) io.stderr(`${formatDiagnostic(d, (f) => texts.get(f), io.color)}\n\n`);
    io.stderr(`acore: ${summary(diagnostics)}; fix the definitions first\n`);
    return EXIT.failed;
  }
  const definition = loaded.definitions.find((d) => d.ir.id === id);
  if (!definition) {
    const ids = loaded.definitions.map((d) => d.ir.id);
    const close = closeIds(id, ids);
    io.stderr(
      `acore: no definition with id '${id}' in ${dir}` +
        (close.length > 0
          ? `; did you mean ${close.map((c) => `'${c}'`).join(', ')}?`
          : ids.length === 0
            ? ' (it holds no definitions)'
            : `; its ids: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`) +
        '\n',
    );
    return EXIT.failed;
  }
  return { definition, all: loaded.definitions };
}

/** Up to five ids, nearest first: containing the wanted text, or a small edit distance away. */
export function closeIds(wanted: string, ids: readonly string[]): string[] {
  const w = wanted.toLowerCase();
  const scored = ids.map((id) => {
    const l = id.toLowerCase();
    const contains = l.includes(w) || w.includes(l) || l.split(/[._-]/).some((part) => part.length > 2 && w.includes(part));
    const d = editDistance(w, l);
    return { id, score: contains ? Math.min(d, 1) : d, ok: contains || d <= Math.max(3, Math.floor(Math.max(w.length, l.length) / 3)) };
  });
  return scored
    .filter((s) => s.ok)
    .sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1))
    .slice(0, 5)
    .map((s) => s.id);
}

/** The definition's allow-list, in the usual order. */
export function allowedTargets(ir: ActivityIR): TargetName[] {
  return TARGETS.filter((t) => ir.targets[t] !== undefined);
}

/** Options a definition compiles with by default (system scope when it sets User=/Group=). */
export function optionsFor(ir: ActivityIR): TargetOptions {
  const system = Boolean(ir.targets.systemd?.user || ir.targets.systemd?.group);
  return targetOptions({ scope: system ? 'system' : 'user' });
}

/** What the target says about this definition: its errors (refusal) and warnings. */
export async function targetVerdict(target: TargetName, ir: ActivityIR): Promise<{ errors: TargetProblem[]; warnings: TargetProblem[] }> {
  const t = await loadTarget(target);
  const { problems } = t.emit([ir], optionsFor(ir));
  return { errors: problems.filter((p) => p.severity === 'error'), warnings: problems.filter((p) => p.severity === 'warning') };
}

/** The zone systemd and cron read a zone-less schedule in: $TZ, else the system default. */
export function hostZone(env: Record<string, string | undefined>): { zone: string; how: string; warning?: string } {
  const fallback = (): string => new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const tz = env.TZ;
  if (tz !== undefined && tz !== '') {
    let name = tz.startsWith(':') ? tz.slice(1) : tz;
    const file = /(?:^|\/)zoneinfo\/(.+)$/.exec(name);
    if (file) name = file[1]!;
    if (isKnownZone(name)) return { zone: name, how: `TZ=${tz}` };
    return { zone: fallback(), how: 'the system default', warning: `TZ=${tz} is not an IANA zone name acore knows; using the system default` };
  }
  return { zone: fallback(), how: 'the system default; set TZ=<zone> to preview another host' };
}

// ---------------------------------------------------------------------------------------------
// next

function parseFrom(text: string): number | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const instant = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  if (!dateOnly && !instant) return undefined;
  const t = Date.parse(dateOnly ? `${text}T00:00:00Z` : text.replace(' ', 'T'));
  return Number.isNaN(t) ? undefined : t;
}

export async function nextCommand(id: string, opts: NextOptions, io: Io): Promise<number> {
  const countText = opts.count ?? '10';
  const count = /^\d+$/.test(countText) ? Number(countText) : NaN;
  if (!(count >= 1 && count <= MAX_COUNT)) {
    io.stderr(`acore: --count must be a whole number from 1 to ${MAX_COUNT}, not '${countText}'\n`);
    return EXIT.usage;
  }
  if (opts.target !== undefined && !(TARGETS as readonly string[]).includes(opts.target)) {
    io.stderr(`acore: unknown target '${opts.target}'; expected ${TARGETS.join(', ')}\n`);
    return EXIT.usage;
  }
  let from = Date.now();
  if (opts.from !== undefined) {
    const parsed = parseFrom(opts.from);
    if (parsed === undefined) {
      io.stderr(`acore: --from '${opts.from}' is not an ISO 8601 instant with a zone, e.g. 2026-03-29T00:00:00Z or 2026-03-29T02:00:00+02:00 (a date alone means 00:00 UTC)\n`);
      return EXIT.usage;
    }
    from = parsed;
  }

  const found = findDefinition(id, opts.definitions, io);
  if (typeof found === 'number') return found;
  const { ir, enabled } = found.definition;
  const allowed = allowedTargets(ir);
  if (opts.target !== undefined && !allowed.includes(opts.target as TargetName)) {
    io.stderr(`acore: ${ir.id} is not for ${opts.target}: its targets are ${allowed.join(', ')}\n`);
    return EXIT.failed;
  }
  const targets = opts.target !== undefined ? [opts.target as TargetName] : allowed;
  const out: string[] = [];
  const host = hostZone(io.env);
  if (host.warning) io.stderr(`acore: warning: ${host.warning}\n`);

  const trigger = ir.trigger;
  out.push(`${ir.id} (${ir.source})`);
  if (!enabled) out.push('enabled: false: no target generates anything for it, so it never fires; below is what it would do if enabled');

  const verdicts = new Map<TargetName, Awaited<ReturnType<typeof targetVerdict>>>();
  for (const t of targets) verdicts.set(t, await targetVerdict(t, ir));
  const refusedBlock = (t: TargetName) => {
    const v = verdicts.get(t)!;
    out.push('', `${t}: refuses this definition`, ...v.errors.map((p) => `  ${p.message}`));
  };

  if (trigger.kind === 'event') {
    const filters = trigger.filters.length > 0 ? trigger.filters.map(([f, g]) => `${f} matches ${JSON.stringify(g)}`).join(', ') : 'none';
    out.push(`fires on events, not at times: event_type ${trigger.eventType}; payload filters: ${filters}`);
    for (const t of targets) {
      const v = verdicts.get(t)!;
      if (v.errors.length > 0) {
        refusedBlock(t);
        continue;
      }
      out.push('', `${t}:`);
      if (t === 'github') {
        out.push(
          `  runs on a repository_dispatch event of type ${trigger.eventType}${trigger.filters.length > 0 ? ' whose client_payload passes the filters (checked by the guard step; otherwise the run step is skipped)' : ''}, and when started by hand (workflow_dispatch)`,
        );
      }
      for (const w of v.warnings) out.push(`  note: ${w.message}`);
    }
    io.stdout(`${out.join('\n')}\n`);
    return EXIT.ok;
  }

  const s = trigger.schedule;
  const zoneText = trigger.timezone
    ? `in ${trigger.timezone} (trigger.timezone)`
    : `in the host's local time (no trigger.timezone): here ${host.zone}, from ${host.how}`;
  out.push(`schedule: ${s.expression} ${zoneText}`);
  out.push(`next ${count} fire time${count === 1 ? '' : 's'} after ${isoUtc(from)}, as each target fires them`);

  const accepted = targets.filter((t) => verdicts.get(t)!.errors.length === 0);
  const preview = previewFireTimes({
    schedule: s,
    ...(trigger.timezone !== undefined ? { timezone: trigger.timezone } : {}),
    hostZone: host.zone,
    targets: accepted,
    after: from,
    count,
  });
  const reference = trigger.timezone ?? host.zone;
  for (const t of targets) {
    const block = preview.targets.find((b) => b.target === t);
    if (!block) {
      refusedBlock(t);
      continue;
    }
    out.push('', ...renderBlock(block, reference, verdicts.get(t)!.warnings));
  }
  out.push('');
  if (preview.notes.length > 0) out.push(...preview.notes.map((n) => `note: ${n}`));
  else if (preview.targets.length > 1) out.push(`the targets fire at the same instants in this window (${preview.targets.map((b) => b.target).join(', ')})`);
  else if (preview.targets.length === 0) out.push('no target can compile this definition');
  io.stdout(`${out.join('\n')}\n`);
  return EXIT.ok;
}

function renderBlock(block: TargetFireTimes, reference: string, warnings: TargetProblem[]): string[] {
  const where =
    block.zoneSource === 'definition' ? `in ${block.zone}` : block.zoneSource === 'host' ? `in the host's zone ${block.zone}` : 'in UTC (GitHub’s default)';
  const lines = [`${block.target} (${where}; ${block.resolution} resolution):`];
  const width = String(block.times.length).length;
  block.times.forEach((f: FireTime, i) => {
    const also = block.zone !== reference ? `  = ${formatInZone(f.at, reference)} in ${reference}` : '';
    lines.push(`  ${String(i + 1).padStart(width)}. ${formatInZone(f.at, block.zone)}  ${isoUtc(f.at)}${also}${f.note ? `  (${f.note})` : ''}`);
  });
  if (block.times.length === 0) lines.push('  (no fire time in the next 400 years)');
  for (const n of block.notes) lines.push(`  note: ${n}`);
  for (const w of warnings) lines.push(`  warning: ${w.message}`);
  return lines;
}
