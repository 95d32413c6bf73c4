/**
 * Diagnostics → text, the way tsc and rustc show them:
 *
 *   definitions/a.yaml:7:20: error[rule-unbound]: unknown name 'hub_helth' (bound names: hub_health)
 *      7 |     - "hub_helth.status == 'ok'"
 *        |        ^^^^^^^^^
 */
import type { Diagnostic } from '../compiler/diagnostics.ts';

export type SourceLookup = (file: string) => string | undefined;

export function formatDiagnostic(d: Diagnostic, sources: SourceLookup, color = false): string {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const sevColor = d.severity === 'error' ? '31;1' : d.severity === 'warning' ? '33;1' : '36;1';
  const loc = d.range ? `${d.file}:${d.range.start.line}:${d.range.start.col}` : d.file;
  const lines = [`${loc ? `${paint('1', loc)}: ` : ''}${paint(sevColor, `${d.severity}[${d.code}]`)}: ${d.message}`];
  const text = d.file ? sources(d.file) : undefined;
  if (d.range && text !== undefined) {
    const srcLines = text.split('\n');
    const { start, end } = d.range;
    const line = (srcLines[start.line - 1] ?? '').replace(/\r$/, '');
    const gutter = String(start.line).length;
    const shown = line.replace(/\t/g, ' ');
    const width = end.line === start.line ? Math.max(1, end.col - start.col) : Math.max(1, line.length - start.col + 1);
    lines.push(`${' '.repeat(gutter + 1)}${paint('34;1', '|')}`);
    lines.push(`${paint('34;1', `${start.line} |`)} ${shown}`);
    lines.push(`${' '.repeat(gutter + 1)}${paint('34;1', '|')} ${' '.repeat(Math.max(0, start.col - 1))}${paint(sevColor, '^'.repeat(Math.min(width, Math.max(1, shown.length - start.col + 1))))}`);
  }
  for (const r of d.related ?? []) {
    const at = r.range ? `${r.file}:${r.range.start.line}:${r.range.start.col}` : r.file;
    lines.push(`${' '.repeat(2)}= note: ${r.message} (${at})`);
  }
  if (d.help) lines.push(`  = help: ${d.help}`);
  return lines.join('\n');
}

export function summary(diagnostics: readonly Diagnostic[]): string {
  const n = (sev: Diagnostic['severity']) => diagnostics.filter((d) => d.severity === sev).length;
  const files = new Set(diagnostics.filter((d) => d.severity === 'error' && d.file !== '').map((d) => d.file)).size;
  const parts: string[] = [];
  const errors = n('error');
  const warnings = n('warning');
  if (errors) parts.push(`${errors} error${errors === 1 ? '' : 's'}${files > 0 ? ` in ${files} file${files === 1 ? '' : 's'}` : ''}`);
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return parts.join(', ');
}
