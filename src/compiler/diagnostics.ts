/**
 * Diagnostics are data: every stage returns them, nothing prints until the CLI decides to.
 * Tests assert on `code` and position, never on wording.
 */

export type Severity = 'error' | 'warning' | 'info';

/** Stable codes. Adding one is fine; renaming one breaks users' tooling. */
export type DiagnosticCode =
  // input
  | 'io-read'
  | 'io-encoding'
  | 'no-definitions'
  | 'yaml-syntax'
  | 'yaml-duplicate-key'
  | 'yaml-alias'
  | 'yaml-empty'
  // schema
  | 'schema-unknown-key'
  | 'schema-missing-key'
  | 'schema-type'
  | 'schema-value'
  | 'id-invalid'
  | 'id-duplicate'
  | 'timezone-unknown'
  // cron
  | 'cron-syntax'
  | 'cron-range'
  | 'cron-step'
  | 'cron-never-fires'
  // rule language
  | 'rule-syntax'
  | 'rule-unbound'
  | 'rule-type'
  | 'probe-unused'
  // targets
  | 'target-unsupported'
  | 'target-approximated'
  | 'target-setting'
  | 'name-collision'
  | 'definition-disabled';

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in UTF-16 code units like editors and tsc do. */
  col: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Related {
  message: string;
  file: string;
  range?: Range;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** Display path of the file the problem is in (as the user named it), or '' for global ones. */
  file: string;
  range?: Range;
  related?: Related[];
  /** Optional hint printed after the snippet. */
  help?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Order used everywhere a list of diagnostics is shown: by file, then position, then code. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  const al = a.range?.start.line ?? 0;
  const bl = b.range?.start.line ?? 0;
  if (al !== bl) return al - bl;
  const ac = a.range?.start.col ?? 0;
  const bc = b.range?.start.col ?? 0;
  if (ac !== bc) return ac - bc;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}
