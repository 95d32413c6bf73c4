/**
 * systemd target: per cron definition a `.timer` (systemd.timer(5)), the job's `.service`
 * (systemd.service(5), systemd.exec(5)) and a small `-trigger.service` between them that
 * gives `misfire_policy` its meaning (see templates/systemd/trigger.hbs).
 *
 *   <name>.timer ──elapses──▶ <name>-trigger.service ──systemctl start --no-block──▶ <name>.service
 *
 * <name>.service: ExecCondition= runs the guard (lock free, probes, rule: skip = exit 1),
 * ExecStart= runs the command under the lock with the timeout and failure policy. Starting
 * <name>.service by hand is a normal run that the schedule will not overlap.
 */
import { type Template, template } from '../templates.ts';
import type { ActivityIR, CronTriggerIR } from '../../compiler/ir.ts';
import { guardScript, requiredTools, runScript, type ShellProgram, systemdFlavor } from '../shell/scripts.ts';
import { type Artefact, commentSafe, generatedHeader, type Target, type TargetOptions, type TargetProblem } from '../target.ts';
import { capabilityProblems } from '../capabilities.ts';
import { InexpressibleSchedule, toOnCalendar } from './calendar.ts';
import { environmentAssignment, type ExecWord, execCommand, specifierSafe } from './escape.ts';
import serviceTemplate from '../../../templates/systemd/service.hbs';
import timerTemplate from '../../../templates/systemd/timer.hbs';
import triggerTemplate from '../../../templates/systemd/trigger.hbs';

let templates: { timer: Template; service: Template; trigger: Template } | undefined;

export const systemdTarget: Target = {
  name: 'systemd',
  emit(definitions, options) {
    templates ??= { timer: template(timerTemplate), service: template(serviceTemplate), trigger: template(triggerTemplate) };
    const artefacts: Artefact[] = [];
    const problems: TargetProblem[] = [];
    for (const ir of definitions) {
      const settings = ir.targets.systemd;
      if (!settings) continue;
      const found = capabilityProblems('systemd', ir);
      problems.push(...found);
      if (found.some((p) => p.severity === 'error')) continue;
      const result = emitOne(ir, options);
      if ('problem' in result) problems.push(result.problem);
      else artefacts.push(...result.artefacts);
      if (options.scope === 'user' && (settings.user || settings.group)) {
        problems.push({
          id: ir.id,
          field: ['targets', 'systemd', settings.user ? 'user' : 'group'],
          code: 'target-setting',
          severity: 'error',
          message: 'User= and Group= only apply to system units; compile with --scope system, or drop the setting',
        });
      }
    }
    return { artefacts, problems };
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
  const triggerUnit = `${name}-trigger.service`;
  const tpl = templates!;
  const tools = requiredTools(ir);
  const header = generatedHeader(ir, 'systemd', [`Needs on the host: /bin/sh, coreutils, ${tools.join(', ')}.`]);
  // %t is the runtime directory: /run for system units, $XDG_RUNTIME_DIR for user units.
  const lockArg: ExecWord = ir.instruction.lockFile === undefined ? { raw: `%t/acore-${name}.lock` } : ir.instruction.lockFile;
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
  const systemctl = options.scope === 'user' ? 'systemctl --user' : 'systemctl';
  const triggerService = tpl.trigger({
    header,
    jobUnit,
    startCommand: `${systemctl} start --no-block ${jobUnit}`,
  });
  return {
    artefacts: [
      { target: 'systemd', path: `${name}.timer`, content: timer, ids: [ir.id] },
      { target: 'systemd', path: jobUnit, content: service, ids: [ir.id] },
      { target: 'systemd', path: triggerUnit, content: triggerService, ids: [ir.id] },
    ],
  };
}

function guardNote(ir: ActivityIR): string {
  const parts = ['skip if another run holds the lock'];
  for (const p of ir.probes) parts.push(`skip unless GET ${p.url} answers JSON within ${p.timeoutSeconds} s (bound to ${p.bind})`);
  if (ir.conditions.length > 0) parts.push(`skip unless ${ir.conditions.map((c) => c.text).join(' && ')}`);
  return commentSafe(parts.join('; '));
}
