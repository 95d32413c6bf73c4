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

export function printDiagnostics(diagnostics: readonly Diagnostic[], texts: Map<string, string>, io: Io): void {
  for (const d of [...diagnostics].sort(compareDiagnostics)) io.stderr(`${formatDiagnostic(d, (f) => texts.get(f), io.color)}\n\n`);
}

