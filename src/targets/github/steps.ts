/**
 * The `run:` text of the two steps of a generated workflow: acore's fixed sh programs
 * (src/targets/shell/scripts.ts) with GitHub's logging. A definition's values never appear in
 * this text: each positional argument $1..$N of the programs is read from a variable the
 * step's `env:` sets (see index.ts), so nothing a definition or an event payload holds is ever
 * parsed as shell code or as a GitHub expression.
 *
 * GitHub runs `shell: sh` as `sh -e <file>`; the programs test exit statuses themselves, so
 * both steps start with `set +e`.
 */
import type { ActivityIR } from '../../compiler/ir.ts';
import { type Flavor, guardScript, type Priority, runScript } from '../shell/scripts.ts';

const COMMAND: Record<Priority, string> = { 3: 'error', 4: 'warning', 5: 'notice' };

/**
 * Messages become workflow commands (`::error::…`, `::warning::…`, `::notice::…`) on stdout,
 * which GitHub shows as annotations. Their data is escaped at run time by `acore_log`, since
 * messages hold run-time values (paths, statuses).
 */
export const githubFlavor: Flavor = {
  log: (p, m) => `acore_log ${COMMAND[p]} "acore: ${m}"`,
};

/**
 * `acore_log COMMAND MESSAGE`: one workflow command, its data escaped as the runner expects
 * (`%` → %25, CR → %0D, LF → %0A), so a message can neither end early nor start a second
 * command on a new line.
 */
const LOG_FUNCTION = [
  "acore_nl=$(printf '\\nx'); acore_nl=${acore_nl%x}; acore_cr=$(printf '\\rx'); acore_cr=${acore_cr%x}",
  'acore_log() {',
  '  acore_m=$2 acore_e=',
  '  while :; do',
  '    case $acore_m in *[%$acore_cr$acore_nl]*) ;; *) break ;; esac',
  '    acore_h=${acore_m%%[%$acore_cr$acore_nl]*}; acore_m=${acore_m#"$acore_h"}; acore_t=${acore_m#?}',
  '    case ${acore_m%"$acore_t"} in %) acore_e=$acore_e$acore_h%25 ;; "$acore_cr") acore_e=$acore_e$acore_h%0D ;; *) acore_e=$acore_e$acore_h%0A ;; esac',
  '    acore_m=$acore_t',
  '  done',
  "  printf '::%s::%s\\n' \"$1\" \"$acore_e$acore_m\"",
  '}',
];

/** One environment variable of a step: `name` is acore's, `value` is raw (escaped by the caller). */
export interface StepVar {
  name: string;
  value: string;
  /** A fixed GitHub expression of acore's (written as is), not a definition's text. */
  expression?: boolean;
}

export interface StepProgram {
  env: StepVar[];
  lines: string[];
}

/** How $1 (the lock) is found: an explicit lock_file via env, or the default in the runtime directory. */
function lockArg(ir: ActivityIR): { env: StepVar; word: string } {
  if (ir.instruction.lockFile !== undefined) return { env: { name: 'ACORE_LOCK', value: ir.instruction.lockFile }, word: '"$ACORE_LOCK"' };
  return { env: { name: 'ACORE_LOCK_NAME', value: `acore-${ir.id}.lock` }, word: '"${XDG_RUNTIME_DIR:-/tmp}/$ACORE_LOCK_NAME"' };
}

/** The payload field a filter reads; field names are identifiers (schema). */
export const payloadExpression = (field: string) => `\${{ github.event.client_payload.${field} }}`;
export const PAYLOAD_JSON_EXPRESSION = '${{ toJSON(github.event.client_payload) }}';

/** Guard step: event filters, then the guard program in a subshell; its verdict goes to $GITHUB_OUTPUT. */
export function guardStep(ir: ActivityIR): StepProgram {
  const program = guardScript(ir, '', githubFlavor);
  const lock = lockArg(ir);
  const env: StepVar[] = [];
  const lines = ['set +e', ...LOG_FUNCTION];
  if (ir.trigger.kind === 'event') {
    ir.trigger.filters.forEach(([field, pattern], i) => {
      const v = `ACORE_FILTER_${i + 1}`;
      env.push({ name: `${v}_FIELD`, value: field }, { name: `${v}_PATTERN`, value: pattern }, { name: `${v}_VALUE`, value: payloadExpression(field), expression: true });
      // The pattern is unquoted so that it is a glob; an expansion's result is never expanded again.
      lines.push(
        `case "$${v}_VALUE" in $${v}_PATTERN) ;; *) acore_log notice "acore: skipped: the event's $${v}_FIELD does not match the filter $${v}_PATTERN"; echo run=false >> "$GITHUB_OUTPUT"; exit 0 ;; esac`,
      );
    });
  }
  env.push(lock.env);
  const words = [lock.word];
  program.args.slice(1).forEach((value, i) => {
    const name = `ACORE_ARG_${i + 2}`;
    env.push({ name, value });
    words.push(`"$${name}"`);
  });
  lines.push('(', `  set -- ${words.join(' ')}`, ...program.statements.map((s) => `  ${s}`), ')');
  lines.push('acore_r=$?', 'case $acore_r in 0) echo run=true >> "$GITHUB_OUTPUT" ;; 1) echo run=false >> "$GITHUB_OUTPUT" ;; *) exit "$acore_r" ;; esac');
  return { env, lines };
}

/** Run step: the run program, its arguments from env (the command is $ACORE_CMD), which are then unset. */
export function runStep(ir: ActivityIR): StepProgram {
  const program = runScript(ir, '', githubFlavor);
  const lock = lockArg(ir);
  const env: StepVar[] = [lock.env];
  const words = [lock.word];
  program.args.slice(1).forEach((value, i) => {
    const name = i === 0 ? 'ACORE_CMD' : `ACORE_ARG_${i + 2}`;
    env.push({ name, value });
    words.push(`"$${name}"`);
  });
  const lines = [
    'set +e',
    ...LOG_FUNCTION,
    `set -- ${words.join(' ')}`,
    // The job sees the definition's env and the event's variables, not acore's arguments.
    `unset ${env.map((v) => v.name).join(' ')}`,
    ...program.statements,
  ];
  return { env, lines };
}

/** Variables the command sees for an event: each filter field, and the whole payload as JSON. */
export function eventVars(ir: ActivityIR): StepVar[] {
  if (ir.trigger.kind !== 'event') return [];
  return [
    ...ir.trigger.filters.map(([field]) => ({ name: eventVarName(field), value: payloadExpression(field), expression: true })),
    { name: 'ACORE_EVENT_PAYLOAD', value: PAYLOAD_JSON_EXPRESSION, expression: true },
  ];
}

export const eventVarName = (field: string) => `ACORE_EVENT_${field.toUpperCase()}`;
