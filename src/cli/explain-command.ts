/**
 * `acore explain <id>`: what a definition does, in words, and on each target of its
 * allow-list: every feature it uses with that target's cell of the capability matrix (quoted
 * from CAPABILITIES, never re-worded), the target's own refusals, the files the target would
 * generate (from the compiler's artefacts) and the host tools they need (from the files'
 * headers).
 */
import cronstrue from 'cronstrue';
import { emit, type LoadedDefinition } from '../compiler/compile.ts';
import type { ActivityIR, CronSchedule, DomItem, DowItem, TargetName } from '../compiler/ir.ts';
import { CAPABILITIES, type Feature, FEATURES, featuresUsed, type Support } from '../targets/capabilities.ts';
import type { Artefact } from '../targets/target.ts';
import { loadTarget } from './compile-shared.ts';
import { observesDst } from '../compiler/cron/next.ts';
import { EXIT, type Io } from './main.ts';
import { allowedTargets, findDefinition, optionsFor, targetVerdict } from './next-command.ts';
import { MACROS } from '../compiler/cron/parse.ts';

export interface ExplainOptions {
  definitions: string;
}

/** `exact: how`, `approximated: how`, `unsupported: why`: a matrix cell as text. */
export function cellText(s: Support): string {
  return s.level === 'unsupported' ? `unsupported: ${s.why}` : `${s.level}: ${s.how}`;
}

const MARK = { exact: '✅', approximated: '⚠️', unsupported: '❌' } as const;

/** Whether a zone changes its offset is judged over one fixed year, so the output does not depend on today. */
const DST_REFERENCE = Date.UTC(2026, 0, 1);

const titleOf = (f: Feature): string => FEATURES.find((x) => x.feature === f)!.title;

export async function explainCommand(id: string, opts: ExplainOptions, io: Io): Promise<number> {
  const found = findDefinition(id, opts.definitions, io);
  if (typeof found === 'number') return found;
  const { definition } = found;
  const ir = definition.ir;
  const out: string[] = [];

  out.push(`${ir.id} (${ir.source})`);
  if (ir.description) out.push(...ir.description.trimEnd().split('\n').map((l) => `  ${l}`));
  if (!definition.enabled) out.push('enabled: false: acore validates it but generates nothing for it (files below: if enabled)');

  out.push('', 'Trigger');
  const trigger = ir.trigger;
  if (trigger.kind === 'event') {
    out.push(`  fires on events, not at times: event_type ${trigger.eventType}`);
    out.push(
      `  payload filters: ${trigger.filters.length > 0 ? trigger.filters.map(([f, g]) => `${f} matches the glob ${JSON.stringify(g)}`).join('; ') : 'none (every event of that type)'}`,
    );
  } else {
    out.push(...describeSchedule(trigger.schedule).map((l) => `  ${l}`));
    if (!trigger.timezone) {
      const readers = [
        ...(ir.targets.systemd || ir.targets.crontab ? [`${[ir.targets.systemd && 'systemd', ir.targets.crontab && 'cron'].filter(Boolean).join(' and ')} read the schedule in the host's local time`] : []),
        ...(ir.targets.github ? ['GitHub reads it in UTC'] : []),
      ];
      out.push(`  zone: none: ${readers.join(', ')}`);
    }
    else {
      out.push(`  zone: ${trigger.timezone} (trigger.timezone)`);
      if (observesDst(trigger.timezone, DST_REFERENCE)) {
        out.push(
          `  clock changes: ${trigger.timezone} changes its UTC offset; systemd and crontab skip a local time that does not exist and fire an ambiguous one once, at the first instant; ` +
            'GitHub documents that a fire time in a skipped hour advances to the next valid time (see `acore next`)',
        );
      }
    }
    out.push(
      trigger.misfire === 'skip'
        ? '  misfire policy: skip: a fire time while a run is still active does not start another run; runs missed while the machine was off are not made up'
        : '  misfire policy: catch_up: a fire time while a run is still active does not start another run; runs missed while the machine was off are made up once',
    );
  }

  out.push('', 'Run');
  if (ir.probes.length === 0) out.push('  health check: none');
  for (const p of ir.probes) {
    out.push(`  health check: GET ${p.url} (timeout ${p.timeoutSeconds} s), its JSON bound to ${p.bind}; unreachable, an HTTP error, a timeout or a body that is not JSON skips the run`);
  }
  if (ir.conditions.length === 0) out.push('  rule: none (always runs)');
  else out.push(`  rule: runs only when ${ir.conditions.map((c) => c.text).join(' and ')} (evaluated by jq; false skips the run)`);
  out.push(`  command: /bin/sh -c ${JSON.stringify(ir.instruction.command)}`);
  const ins = ir.instruction;
  if (ins.lockFile !== undefined) out.push(`  lock file: ${ins.lockFile} (held for the whole run; shared with anything else that takes it)`);
  else {
    const where = [
      ...(ir.targets.systemd ? [`%t/acore-${ir.targets.systemd.unitName ?? ir.id}.lock on systemd (%t: the manager's runtime directory)`] : []),
      ...(ir.targets.crontab || ir.targets.github
        ? [`\${XDG_RUNTIME_DIR:-/tmp}/acore-${ir.id}.lock on ${[ir.targets.crontab && 'crontab', ir.targets.github && 'GitHub'].filter(Boolean).join(' and ')}`]
        : []),
    ];
    out.push(`  lock file: one per job: ${where.join(', ')}`);
  }
  out.push(
    ins.onFailure === 'fail'
      ? '  on failure: fail: a failing or timed-out command is a failure the scheduler reports'
      : '  on failure: log_and_continue: a failing or timed-out command is logged as a warning and nothing fails',
  );
  out.push(`  timeout: ${ins.timeoutSeconds !== undefined ? `${ins.timeoutSeconds} s (timeout(1); counts as a failure)` : 'none'}`);
  out.push(`  env: ${ins.env.length > 0 ? ins.env.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : 'none'}`);
  out.push(`  working directory: ${ins.workingDirectory ?? "not set (the scheduler's default)"}`);

  const allowed = allowedTargets(ir);
  out.push('', `Targets: ${allowed.join(', ')} (the definition's allow-list)`);
  const used = featuresUsed(ir);
  for (const target of allowed) {
    out.push('', ...(await explainTarget(target, definition, used)));
  }
  io.stdout(`${out.join('\n')}\n`);
  return EXIT.ok;
}

async function explainTarget(target: TargetName, definition: LoadedDefinition, used: Feature[]): Promise<string[]> {
  const ir = definition.ir;
  const verdict = await targetVerdict(target, ir);
  const cells = used.map((f) => ({ f, support: CAPABILITIES[target][f] }));
  const unsupported = cells.filter((c) => c.support.level === 'unsupported');
  const approximated = cells.filter((c) => c.support.level === 'approximated');
  const refused = verdict.errors.length > 0;
  const status = refused
    ? 'refuses this definition'
    : approximated.length > 0 || verdict.warnings.length > 0
      ? 'compiles it, with approximations'
      : 'compiles it exactly';
  const lines = [`${target}: ${status}`, '  features:'];
  for (const { f, support } of cells) {
    lines.push(`    ${MARK[support.level]} ${titleOf(f)}: ${cellText(support)}`);
  }
  // The target's own refusals and warnings beyond the matrix (e.g. 29W on systemd, GitHub's
  // env names); the matrix's own (capabilityProblems) are the cells above.
  const matrix = new Set([
    ...unsupported.map((c) => `${target} cannot express ${titleOf(c.f)}: ${(c.support as { why: string }).why}`),
    ...approximated.map((c) => `${target} approximates ${titleOf(c.f)}: ${(c.support as { how: string }).how}`),
  ]);
  const own = [...verdict.errors, ...verdict.warnings].filter((p) => !matrix.has(p.message));
  for (const p of own) lines.push(`  ${p.severity === 'error' ? 'refused' : 'warning'}: ${p.message}`);

  if (refused) {
    lines.push('  files: none (refused)');
    return lines;
  }
  const artefacts = await artefactsFor(target, definition);
  const where = target === 'crontab' ? 'out/crontab/ by default, with --cron-form user' : `out/${target}/ by default`;
  lines.push(`  files (${where}):`);
  // Already loaded by artefactsFor; imported here only for its names.
  const systemd = target === 'systemd' ? await import('../targets/systemd/index.ts') : undefined;
  for (const a of artefacts) {
    const shared =
      target === 'crontab' && a.path === 'crontab'
        ? '  (the managed crontab block, shared with the other definitions for crontab)'
        : systemd && a.path === systemd.TRIGGER_TEMPLATE
          ? `  (the trigger template, shared by every timer acore generates into the directory; this timer starts ${systemd.triggerInstance(systemd.unitBaseName(ir))})`
          : '';
    lines.push(`    ${a.path}${shared}`);
  }
  lines.push(`  host tools: ${hostTools(target, ir, artefacts)}`);
  return lines;
}

/** The files the compiler generates for this definition alone (forced enabled, to show what it would be). */
async function artefactsFor(target: TargetName, definition: LoadedDefinition): Promise<Artefact[]> {
  const t = await loadTarget(target);
  const result = emit({ definitions: [{ ...definition, enabled: true }], diagnostics: [], claimed: new Set([definition.ir.id]) }, [t], optionsFor(definition.ir));
  return result.artefacts.filter((a) => a.target === target && a.ids.includes(definition.ir.id));
}

/** The scheduler, then the tools the generated files' headers say they need. */
function hostTools(target: TargetName, ir: ActivityIR, artefacts: Artefact[]): string {
  const scheduler =
    target === 'systemd'
      ? `systemd (the ${optionsFor(ir).scope === 'system' ? 'system' : 'user'} manager)`
      : target === 'crontab'
        ? "cron (Debian's cron or cronie)"
        : `a GitHub Actions runner (runs-on: ${ir.targets.github?.runsOn === undefined ? 'self-hosted' : [ir.targets.github.runsOn].flat().join(', ')})`;
  const tools = new Set<string>();
  for (const a of artefacts) {
    const m = /^# Needs on the (?:host|runner): (.*)\.$/m.exec(a.content);
    if (m) for (const t of m[1]!.split(', ')) tools.add(t);
  }
  return [scheduler, ...tools].join(', ');
}

// ---------------------------------------------------------------------------------------------
// Schedules in words

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ORDINAL = ['', 'first', 'second', 'third', 'fourth', 'fifth'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `1, 3, 9–17` */
function valueList(values: number[], name: (v: number) => string = String): string {
  const runs: [number, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else runs.push([v, v]);
  }
  return runs.map(([a, b]) => (a === b ? name(a) : b === a + 1 ? `${name(a)}, ${name(b)}` : `${name(a)}–${name(b)}`)).join(', ');
}

function describeSchedule(s: CronSchedule): string[] {
  const lines = [`cron: ${s.expression}${s.macro ? ` (${MACROS[s.macro.toLowerCase()] ?? ''})` : ''}`];
  const text = s.macro ? (MACROS[s.macro.toLowerCase()] ?? s.expression) : s.expression;
  try {
    lines.push(`in words (cronstrue): ${cronstrue.toString(text, { use24HourTimeFormat: true, dayOfWeekStartIndexZero: true })}`);
  } catch {
    lines.push('in words (cronstrue): (cronstrue cannot read this expression)');
  }
  lines.push(`precisely: ${preciseSchedule(s)}`);
  lines.push(...scheduleCaveats(s).map((c) => `note: ${c}`));
  return lines;
}

function timesOfDay(s: CronSchedule): string {
  const withSeconds = s.seconds.some((x) => x !== 0);
  const count = s.hours.length * s.minutes.length * s.seconds.length;
  if (count <= 6) {
    const times: string[] = [];
    for (const h of s.hours) for (const m of s.minutes) for (const sec of s.seconds) times.push(`${pad(h)}:${pad(m)}${withSeconds ? `:${pad(sec)}` : ''}`);
    return `at ${times.join(', ')}`;
  }
  const minutes = s.minutes.length === 60 ? 'every minute' : `minute${s.minutes.length === 1 ? '' : 's'} ${valueList(s.minutes)}`;
  const hours = s.hours.length === 24 ? 'every hour' : `hour${s.hours.length === 1 ? '' : 's'} ${valueList(s.hours)}`;
  const seconds = !withSeconds ? '' : s.seconds.length === 60 ? 'every second of ' : `second${s.seconds.length === 1 ? '' : 's'} ${valueList(s.seconds)} of `;
  return `at ${seconds}${minutes} of ${hours}`;
}

function domItemText(items: DomItem[]): string[] {
  const out: string[] = [];
  const days = items.flatMap((i) => (i.kind === 'day' ? [i.day] : []));
  if (days.length > 0) out.push(`day${days.length === 1 ? '' : 's'} ${valueList(days)} of the month`);
  for (const i of items) {
    if (i.kind === 'last') out.push(i.offset === 0 ? 'the last day of the month' : `${i.offset} day${i.offset === 1 ? '' : 's'} before the last day of the month`);
    if (i.kind === 'last-weekday') out.push('the last weekday (Monday–Friday) of the month');
    if (i.kind === 'nearest-weekday') out.push(`the weekday (Monday–Friday) nearest day ${i.day}, within the month (no fire in a month without day ${i.day})`);
  }
  return out;
}

function dowItemText(items: DowItem[]): string[] {
  const out: string[] = [];
  const days = items.flatMap((i) => (i.kind === 'weekday' ? [i.weekday] : []));
  if (days.length > 0) out.push(valueList(days, (d) => WEEKDAYS[d]!));
  for (const i of items) {
    if (i.kind === 'nth') out.push(`the ${ORDINAL[i.nth]} ${WEEKDAYS[i.weekday]} of the month`);
    if (i.kind === 'last') out.push(`the last ${WEEKDAYS[i.weekday]} of the month`);
  }
  return out;
}

/** acore's own sentence, from the value sets and crontab(5)'s day rule. */
export function preciseSchedule(s: CronSchedule): string {
  const plainDays = s.daysOfMonth.filter((i) => i.kind === 'day').length;
  const plainWeekdays = s.daysOfWeek.filter((i) => i.kind === 'weekday').length;
  const domAll = plainDays === 31;
  const dowAll = plainWeekdays === 7;
  const dom = domItemText(s.daysOfMonth).join(' or ');
  const dow = dowItemText(s.daysOfWeek).join(' or ');
  let days: string;
  if (s.domStar || s.dowStar) {
    // Both must match; a field that matches every day adds nothing.
    const parts = [domAll ? '' : dom, dowAll ? '' : dow].filter(Boolean);
    days = parts.length === 0 ? 'every day' : parts.length === 1 ? `on ${parts[0]}` : `on days that are both ${parts[0]} and ${parts[1]}`;
  } else if (domAll || dowAll) {
    days = `every day (${domAll ? 'day-of-month' : 'day-of-week'} lists every day, and with both day fields restricted either one matching is enough)`;
  } else {
    days = `on days that are ${dom}, or ${dow} (either is enough)`;
  }
  const months = s.months.length === 12 ? 'in every month' : `in ${valueList(s.months, (m) => MONTHS[m - 1]!)}`;
  return `${timesOfDay(s)}, ${days}, ${months}`;
}

/** Where cronstrue's wording could mislead. */
function scheduleCaveats(s: CronSchedule): string[] {
  const out: string[] = [];
  const domAll = s.daysOfMonth.filter((i) => i.kind === 'day').length === 31;
  const dowAll = s.daysOfWeek.filter((i) => i.kind === 'weekday').length === 7;
  if (!s.domStar && !s.dowStar) {
    out.push("both day fields are restricted, so crontab(5)'s day rule fires on a day when EITHER field matches, not only when both do");
  } else if ((s.domStar && !domAll && !dowAll) || (s.dowStar && !dowAll && !domAll)) {
    out.push('a day field that starts with * counts as unrestricted (crontab(5), Vixie cron), so a day must match BOTH day fields');
  }
  const series = (values: number[], size: number, what: string, unit: string) => {
    if (values.length < 2 || values[0] !== 0) return;
    const step = values[1]! - values[0]!;
    if (size % step === 0 || !values.every((v, i) => v === i * step) || values.length !== Math.floor((size - 1) / step) + 1) return;
    const last = values[values.length - 1]!;
    out.push(`every ${step} ${unit}s restarts each ${what}: after ${last} comes 0, ${size - last} ${unit}${size - last === 1 ? '' : 's'} later, not ${step}`);
  };
  series(s.seconds, 60, 'minute', 'second');
  series(s.minutes, 60, 'hour', 'minute');
  series(s.hours, 24, 'day', 'hour');
  if (s.macro?.toLowerCase() === '@weekly') out.push("@weekly is Sunday 00:00 (crontab(5)), not systemd's own `weekly` (Monday)");
  return out;
}
