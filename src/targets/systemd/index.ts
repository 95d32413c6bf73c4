/**
 * systemd target: per cron definition a `.timer` (systemd.timer(5)) and the job's `.service`
 * (systemd.service(5), systemd.exec(5)); between them an instance of one template unit shared by
 * every timer in the output directory, `acore-trigger@.service`, that gives `misfire_policy`
 * its meaning (see templates/systemd/acore-trigger@.service.hbs).
 *
 *   <name>.timer ──elapses──▶ acore-trigger@<name>.service ──systemctl start --no-block %i.service──▶ <name>.service
 *
 * The template is emitted once, with every emitted definition's id, whenever at least one
 * definition is emitted (and so removed with the last one). `%i` is the instance name as
 * written, which is exactly <name>: systemd expands specifiers in ExecStart= after unescaping
 * its words, so a unit_name with `\x2d`-style escapes reaches systemctl unchanged.
 * Length: names are at most 200 characters, so `acore-trigger@<name>.service` stays within
 * systemd's 255 (test/systemd-verify.test.ts verifies the longest).
 *
 * <name>.service: ExecCondition= runs the guard (lock free, probes, rule: skip = exit 1),
 * ExecStart= runs the command under the lock with the timeout and failure policy. Starting
 * <name>.service by hand is a normal run that the schedule will not overlap.
 */
import { type Template, template } from '../templates.ts';
import type { ActivityIR, CronTriggerIR } from '../../compiler/ir.ts';
import { guardScript, requiredTools, runScript, type ShellProgram, systemdFlavor } from '../shell/scripts.ts';
import { type Artefact, commentSafe, emitAll, GENERATED_MARKER, generatedHeader, type Target, type TargetOptions, type TargetProblem } from '../target.ts';
import { capabilityProblems } from '../capabilities.ts';
import { InexpressibleSchedule, toOnCalendar } from './calendar.ts';
import { environmentAssignment, type ExecWord, execCommand, specifierSafe } from './escape.ts';
import serviceTemplate from '../../../templates/systemd/service.hbs';
import timerTemplate from '../../../templates/systemd/timer.hbs';
import triggerTemplate from '../../../templates/systemd/acore-trigger@.service.hbs';

let templates: { timer: Template; service: Template; trigger: Template } | undefined;
/** Made ready on first use: a command that never emits systemd units never builds them. */
const ready = () => (templates ??= { timer: template(timerTemplate), service: template(serviceTemplate), trigger: template(triggerTemplate) });

/** The one trigger unit, a template; each timer starts its instance `acore-trigger@<name>.service`. */
export const TRIGGER_TEMPLATE = 'acore-trigger@.service';

export function triggerInstance(name: string): string {
  return `acore-trigger@${name}.service`;
}

/** It has no single definition, so no `acore-id:` line; the marker still starts it. */
const TRIGGER_HEADER = [
  `${GENERATED_MARKER}. Do not edit: \`acore compile --target systemd\` rewrites it.`,
  '# Shared by every timer acore generates into this directory: <name>.timer starts',
  '# acore-trigger@<name>.service, which starts <name>.service unless it is already running.',
  '# Needs on the host: systemctl.',
].join('\n');

export const systemdTarget: Target = {
  name: 'systemd',
  part(ir, options) {
    const settings = ir.targets.systemd;
    if (!settings) return undefined;
    const problems = capabilityProblems('systemd', ir);
    let artefacts: Artefact[] = [];
    // The share: this definition's id, on the shared trigger template.
    let share: string | undefined;
    if (!problems.some((p) => p.severity === 'error')) {
      const result = emitOne(ir, options);
      if ('problem' in result) problems.push(result.problem);
      else {
        artefacts = result.artefacts;
        share = ir.id;
      }
    }
    if (options.scope === 'user' && (settings.user || settings.group)) {
      problems.push({
        id: ir.id,
        field: ['targets', 'systemd', settings.user ? 'user' : 'group'],
        code: 'target-setting',
        severity: 'error',
        message: 'User= and Group= only apply to system units; compile with --scope system, or drop the setting',
      });
    }
    return share === undefined ? { artefacts, problems } : { artefacts, problems, share };
  },
  join(shares, options) {
    if (shares.length === 0) return [];
    const systemctl = options.scope === 'user' ? 'systemctl --user' : 'systemctl';
    return [
      {
        target: 'systemd',
        path: TRIGGER_TEMPLATE,
        content: ready().trigger({ header: TRIGGER_HEADER, startCommand: `${systemctl} start --no-block %i.service` }),
        ids: (shares as string[]).slice().sort(),
      },
    ];
  },
  emit(definitions, options) {
    return emitAll(this, definitions, options);
  },
};

export function unitBaseName(ir: ActivityIR): string {
  return ir.targets.systemd?.unitName ?? ir.id;
}

function emitOne(ir: ActivityIR, options: TargetOptions): { artefacts: Artefact[] } | { problem: TargetProblem } {
  if (ir.trigger.kind !== 'cron') throw new Error('internal: event triggers are refused by the capability matrix');
  const trigger: CronTriggerIR = ir.trigger;
  let onCalendar: string[];
  try {
    onCalendar = toOnCalendar(trigger.schedule, trigger.timezone);
  } catch (e) {
    if (!(e instanceof InexpressibleSchedule)) throw e;
    return {
      problem: {
        id: ir.id,
        field: ['trigger', 'cron_expression'],
        code: 'target-unsupported',
        severity: 'error',
        message: `systemd cannot express this schedule exactly: ${e.message}`,
      },
    };
  }

  const name = unitBaseName(ir);
  const jobUnit = `${name}.service`;
  const triggerUnit = triggerInstance(name);
  const tpl = ready();
  const tools = requiredTools(ir);
  const header = generatedHeader(ir, 'systemd', [`Needs on the host: /bin/sh, coreutils, ${tools.join(', ')}.`]);
  // %t is the runtime directory: /run for system units, $XDG_RUNTIME_DIR for user units.
  // A raw word is C-unescaped by systemd: the backslash of a unit name's own escape (\x2d) is
  // doubled, or `a\x2db` and `a-b` would share the lock `acore-a-b.lock`.
  const lockArg: ExecWord = ir.instruction.lockFile === undefined ? { raw: `%t/acore-${name.replace(/\\/g, '\\\\')}.lock` } : ir.instruction.lockFile;
  const lockNote = ir.instruction.lockFile ?? `%t/acore-${name}.lock`;
  const guard = guardScript(ir, '', systemdFlavor);
  const run = runScript(ir, '', systemdFlavor);
  // $0 names the program in sh's own messages; $1 is always the lock.
  const command = (p: ShellProgram, name0: string) => execCommand(['/bin/sh', '-c', { statements: p.statements }, name0, lockArg, ...p.args.slice(1)]);

  const ins = ir.instruction;
  const schedule = trigger.schedule;
  const cron = `${schedule.expression}${trigger.timezone ? ` (${trigger.timezone})` : ' (host local time)'}`;
  const service = tpl.service({
    header,
    description: specifierSafe(commentSafe(ir.title)),
    onFailure: ins.onFailure === 'fail' ? ir.targets.systemd?.onFailure ?? [] : [],
    user: options.scope === 'system' ? ir.targets.systemd?.user : undefined,
    group: options.scope === 'system' ? ir.targets.systemd?.group : undefined,
    workingDirectory: ins.workingDirectory === undefined ? undefined : specifierSafe(ins.workingDirectory),
    environment: ins.env.map(([k, v]) => environmentAssignment(k, v)),
    guardNote: guardNote(ir),
    guard: command(guard, 'acore-guard'),
    lockNote: commentSafe(lockNote),
    timeout: ins.timeoutSeconds,
    onFailurePolicy: ins.onFailure === 'fail' ? 'fail (the unit enters the failed state; OnFailure= units start)' : 'log_and_continue (logged as a warning; the unit does not fail)',
    run: command(run, 'acore-run'),
  });
  const timer = tpl.timer({
    header,
    description: specifierSafe(commentSafe(`Schedule of ${ir.title}`)),
    cron: commentSafe(cron),
    onCalendar,
    misfire: trigger.misfire,
    misfireNote:
      trigger.misfire === 'catch_up'
        ? 'a run missed while the machine was off or the timer stopped runs once when it is back'
        : 'runs missed while the machine was off are not made up',
    persistent: trigger.misfire === 'catch_up' ? 'true' : 'false',
    triggerUnit,
  });
  return {
    artefacts: [
      { target: 'systemd', path: `${name}.timer`, content: timer, ids: [ir.id] },
      { target: 'systemd', path: jobUnit, content: service, ids: [ir.id] },
    ],
  };
}

function guardNote(ir: ActivityIR): string {
  const parts = ['skip if another run holds the lock'];
  for (const p of ir.probes) parts.push(`skip unless GET ${p.url} answers JSON within ${p.timeoutSeconds} s (bound to ${p.bind})`);
  if (ir.conditions.length > 0) parts.push(`skip unless ${ir.conditions.map((c) => c.text).join(' && ')}`);
  return commentSafe(parts.join('; '));
}
