/**
 * The two POSIX sh programs every scheduler target runs around a job (sh(1p), flock(1),
 * timeout(1), curl(1), jq(1)):
 *
 * - the guard decides whether this fire time runs: exit 0 = run, 1 = skip quietly (another
 *   run holds the lock, a probe could not reach its endpoint, the rule is false), 255 = broken
 *   (a tool is missing, the lock file is unusable, jq failed): it must fail loudly, never skip
 *   forever (systemd's ExecCondition= treats 1-254 as skip and 255 as failure);
 * - the runner holds the lock for the whole run, applies the timeout and the failure policy.
 *
 * The scripts' text is fixed by acore; every value that comes from a definition (lock path,
 * URLs, command, jq program) is passed as a positional argument, so no quoting of user data
 * ever happens inside shell code.
 */
import type { ActivityIR } from '../../compiler/ir.ts';
import { jqProgram } from './jq.ts';

export interface ShellProgram {
  /** Statements of one sh program, to be joined with `; ` (or laid out one per line). */
  statements: string[];
  /** $1, $2, … */
  args: string[];
}

/** syslog priorities the scripts log at: 3 = err (a failure), 4 = warning, 5 = notice (a skip). */
export type Priority = 3 | 4 | 5;

/** How a target's scripts log: `message` is the body of a sh double-quoted string. */
export interface Flavor {
  log(priority: Priority, message: string): string;
}

/** systemd reads a `<N>` prefix on each line of a unit's output as its journal priority. */
export const systemdFlavor: Flavor = {
  log: (p, m) => `echo "<${p}>acore: ${m}" >&2`,
};

/** Host tools the generated scripts need beyond /bin/sh and coreutils. */
export function requiredTools(ir: ActivityIR): string[] {
  const tools = ['flock (util-linux)'];
  if (ir.probes.length > 0) tools.push('curl');
  if (ir.conditions.length > 0) tools.push('jq');
  return tools;
}


/** Guard: lock free? tools present? probes reachable and JSON? rule true? */
export function guardScript(ir: ActivityIR, lockFile: string, flavor: Flavor): ShellProgram {
  const log = flavor.log;
  const args = [lockFile];
  const s: string[] = [
    `fail() { ${log(3, '$*')}; exit 255; }`,
    `skip() { ${log(5, 'skipped: $*')}; exit 1; }`,
    'command -v flock >/dev/null || fail "flock (util-linux) is not installed"',
    'command exec 8>>"$1" || fail "cannot open the lock file $1"',
    'flock -n -E 200 8; r=$?',
    '[ "$r" = 200 ] && skip "another run holds the lock $1"',
    '[ "$r" = 0 ] || fail "cannot use the lock file $1 (flock exit status $r)"',
  ];
  if (ir.probes.length > 0) s.push('command -v curl >/dev/null || fail "curl is not installed"');
  if (ir.probes.length > 0 || ir.conditions.length > 0) s.push('command -v jq >/dev/null || fail "jq is not installed"');
  ir.probes.forEach((p, i) => {
    const url = `\${${args.length + 1}}`;
    const timeout = `\${${args.length + 2}}`;
    args.push(p.url, String(p.timeoutSeconds));
    // The bind is an identifier (schema), so it is safe inside the script text.
    s.push(
      `p${i}=$(curl -fsS --proto =http,https --max-time "${timeout}" -- "${url}") || skip "context probe ${p.bind}: GET ${url} failed (curl exit status $?)"`,
      `jq -n --argjson v "$p${i}" true >/dev/null 2>&1 || skip "context probe ${p.bind}: GET ${url} did not return JSON"`,
    );
  });
  if (ir.conditions.length > 0) {
    const program = `\${${args.length + 1}}`;
    const text = `\${${args.length + 2}}`;
    args.push(
      jqProgram(
        ir.conditions,
        ir.probes.map((p) => p.bind),
      ),
      ir.conditions.map((c) => c.text).join(' && '),
    );
    const argjson = ir.probes.map((_, i) => `--argjson p${i} "$p${i}"`).join(' ');
    s.push(
      `jq -n -e ${argjson} "${program}" >/dev/null; r=$?`,
      `[ "$r" = 1 ] && skip "rule is false: ${text}"`,
      `[ "$r" = 0 ] || fail "cannot evaluate the rule (jq exit status $r)"`,
    );
  }
  s.push('exit 0');
  return { statements: s, args };
}

/** Runner: hold the lock on fd 9 for the whole run (not inherited by the job), time out, apply the policy. */
export function runScript(ir: ActivityIR, lockFile: string, flavor: Flavor): ShellProgram {
  const log = flavor.log;
  const ins = ir.instruction;
  const args = [lockFile, ins.command];
  const timeout = ins.timeoutSeconds !== undefined ? 'timeout -k 10 "$3" ' : '';
  if (ins.timeoutSeconds !== undefined) args.push(String(ins.timeoutSeconds));
  const failed = ins.timeoutSeconds !== undefined ? '$m' : 'failed with exit status $r';
  const s: string[] = [
    `command exec 9>>"$1" || { ${log(3, 'cannot open the lock file $1')}; exit 255; }`,
    'flock -n -E 200 9; r=$?',
    `[ "$r" = 200 ] && { ${log(5, 'skipped: another run holds the lock $1')}; exit 0; }`,
    `[ "$r" = 0 ] || { ${log(3, 'cannot lock $1 (flock exit status $r)')}; exit 255; }`,
    `${timeout}/bin/sh -c "$2" 9>&-; r=$?`,
    '[ "$r" = 0 ] && exit 0',
  ];
  if (ins.timeoutSeconds !== undefined) s.push('if [ "$r" = 124 ]; then m="timed out after $3 seconds"; else m="failed with exit status $r"; fi');
  if (ins.onFailure === 'log_and_continue') {
    s.push(`${log(4, `the command ${failed}; on_failure is log_and_continue, so the run is not marked failed`)}`, 'exit 0');
  } else {
    s.push(`${log(3, `the command ${failed}`)}`, 'exit "$r"');
  }
  return { statements: s, args };
}
