/**
 * What every compiling command shares: options, targets loaded on demand, diagnostics printing.
 * Kept apart from compile-command.ts so that `acore validate` loads no output-writing code.
 */
import type { Diagnostic } from '../compiler/diagnostics.ts';
import { compareDiagnostics } from '../compiler/diagnostics.ts';
import type { TargetName } from '../compiler/ir.ts';
import { DEFAULT_SCRIPT_DIR, type Target, type TargetOptions } from '../targets/target.ts';
import type { Io } from './main.ts';
import { formatDiagnostic } from './report.ts';

export interface CompileOptions {
  targets: TargetName[];
  definitions: string;
  /** One target: its output directory. Several: the parent of one directory per target. */
  out?: string;
  check?: boolean;
  scope: 'user' | 'system';
  force?: boolean;
  cronForm?: 'user' | 'cron.d';
  scriptDir?: string;
  /** crontab: the host's time zone, when known; definitions in that zone need no run-time check. */
  cronHostTz?: string;
  /** Print every warning, not only the first few alike. */
  allWarnings?: boolean;
}

/** Targets are loaded on demand, so a command only pays for the templates it uses. */
export async function loadTarget(name: TargetName): Promise<Target> {
  switch (name) {
    case 'systemd':
      return (await import('../targets/systemd/index.ts')).systemdTarget;
    case 'crontab':
      return (await import('../targets/crontab/index.ts')).crontabTarget;
    case 'github':
      return (await import('../targets/github/index.ts')).githubTarget;
  }
}

export function targetOptions(opts: Pick<CompileOptions, 'scope' | 'cronForm' | 'scriptDir' | 'cronHostTz'>): TargetOptions {
  const form = opts.cronForm ?? 'user';
  const crontab: TargetOptions['crontab'] = { form, scriptDir: opts.scriptDir ?? DEFAULT_SCRIPT_DIR[form] };
  if (opts.cronHostTz) crontab.hostTimezone = opts.cronHostTz;
  return { scope: opts.scope, crontab };
}

/**
 * Warnings alike (same severity, code, words and help) beyond this many are counted, not printed:
 * a fleet compiled for a target that approximates something gets the same warning for each of
 * thousands of definitions. Errors are always printed, every one.
 */
export const ALIKE_SHOWN = 3;

/** Prints diagnostics in order; `all`: every warning too, not only the first few alike. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], texts: Map<string, string>, io: Io, all = false): void {
  const sorted = [...diagnostics].sort(compareDiagnostics);
  const alike = (d: Diagnostic) => `${d.severity}\0${d.code}\0${d.message}\0${d.help ?? ''}`;
  const total = new Map<string, number>();
  if (!all) for (const d of sorted) if (d.severity !== 'error') total.set(alike(d), (total.get(alike(d)) ?? 0) + 1);
  const shown = new Map<string, number>();
  for (const d of sorted) {
    let note = '';
    if (!all && d.severity !== 'error') {
      const key = alike(d);
      const n = (shown.get(key) ?? 0) + 1;
      shown.set(key, n);
      // Not formatted at all: its position (a YAML parse) is never needed.
      if (n > ALIKE_SHOWN) continue;
      const rest = total.get(key)! - ALIKE_SHOWN;
      const noun = d.severity === 'warning' ? 'warning' : 'note';
      if (n === ALIKE_SHOWN && rest > 0) note = `\n  = note: ${rest} more ${noun}${rest === 1 ? '' : 's'} like this one not shown (--all-warnings prints every one)`;
    }
    io.stderr(`${formatDiagnostic(d, (f) => texts.get(f), io.color)}${note}\n\n`);
  }
}

