/**
 * GitHub Actions target: one workflow per definition, `<id>.yml` (for .github/workflows/).
 *
 *   on: schedule (cron [+ timezone]) or repository_dispatch (types: [event_type]), + workflow_dispatch
 *   concurrency: acore-<id>, never cancelling a run in progress
 *   jobs.run:  guard step ──run=true──▶ run step
 *
 * The guard step checks the event filters, then runs acore's guard program (lock free, probes,
 * rule; src/targets/shell/scripts.ts) and writes `run=true|false` to $GITHUB_OUTPUT: a skip
 * skips the run step without failing anything; a broken runner (missing tool, unusable lock)
 * fails the step. The run step runs acore's run program: lock for the whole run, timeout(1),
 * failure policy.
 *
 * Injection safety: the `run:` texts are acore's fixed programs only. Every value of a
 * definition (command, env, paths, URLs, the rule) and of an event payload reaches them as an
 * environment variable set by the step's `env:`, and every definition text written anywhere in
 * the file has each `${{` escaped (yaml.ts), so GitHub evaluates none of it.
 */
import { type Template, template } from '../templates.ts';
import type { ActivityIR } from '../../compiler/ir.ts';
import { capabilityProblems } from '../capabilities.ts';
import { requiredTools } from '../shell/scripts.ts';
import { type Artefact, commentSafe, emitAll, generatedHeader, type Target, type TargetProblem } from '../target.ts';
import { cronLine, InexpressibleCron } from './cron.ts';
import { eventVarName, eventVars, guardStep, runStep, type StepVar } from './steps.ts';
import { displayText, literal, yamlString } from './yaml.ts';
import workflowTemplate from '../../../templates/github/workflow.hbs';

export { githubFlavor } from './steps.ts';

let workflowTemplateFn: Template | undefined;

export const githubTarget: Target = {
  name: 'github',
  part(ir) {
    if (!ir.targets.github) return undefined;
    workflowTemplateFn ??= template(workflowTemplate);
    const capabilities = capabilityProblems('github', ir);
    const problems = [...capabilities, ...settingProblems(ir)];
    let cron: string | undefined;
    // Seconds and L/W/# are the matrix's to refuse; the day rule is this target's.
    if (ir.trigger.kind === 'cron' && !capabilities.some((p) => p.severity === 'error')) {
      try {
        cron = cronLine(ir.trigger.schedule);
      } catch (e) {
        if (!(e instanceof InexpressibleCron)) throw e;
        problems.push({
          id: ir.id,
          field: ['trigger', 'cron_expression'],
          code: 'target-unsupported',
          severity: 'error',
          message: `github cannot express this schedule exactly: ${e.message}`,
          help: 'write the day fields so that the rule is the same without a leading *, or leave github out of the targets',
        });
      }
    }
    if (problems.some((p) => p.severity === 'error')) return { artefacts: [], problems };
    return { artefacts: [{ target: 'github', path: `${ir.id}.yml`, content: workflow(ir, cron), ids: [ir.id] }], problems };
  },
  // Every workflow stands alone: nothing shared.
  join: () => [],
  emit(definitions, options) {
    return emitAll(this, definitions, options);
  },
};

/** Problems with values GitHub gives a meaning of its own (beyond the capability matrix). */
function settingProblems(ir: ActivityIR): TargetProblem[] {
  const out: TargetProblem[] = [];
  const problem = (field: (string | number)[], severity: 'error' | 'warning', message: string, help?: string) =>
    out.push({ id: ir.id, field, code: severity === 'error' ? 'target-setting' : 'target-approximated', severity, message, ...(help ? { help } : {}) });
  // GitHub's env: keys ignore case (`path` and `PATH` are one key, an error in the workflow).
  const envSeen = new Map<string, string>();
  for (const [name] of ir.instruction.env) {
    const first = envSeen.get(name.toUpperCase());
    envSeen.set(name.toUpperCase(), first ?? name);
    if (first !== undefined) {
      problem(['instruction', 'env', name], 'error', `github: the environment variables ${first} and ${name} differ only in case, and GitHub's env: ignores case`, 'rename one of them');
    } else if (/^ACORE_/i.test(name)) {
      problem(['instruction', 'env', name], 'error', `github: environment variables named ACORE_… are acore's own in the workflow (arguments, event fields), so ${name} cannot be set`, 'rename the variable');
    } else if (/^(GITHUB|RUNNER)_/i.test(name)) {
      problem(['instruction', 'env', name], 'warning', `github: the runner keeps its own value of its default variables (GITHUB_*, RUNNER_*), so ${name} may not be what the definition sets`);
    }
  }
  if (ir.trigger.kind === 'event') {
    // GitHub looks up payload fields ignoring case; the variables are upper case.
    const seen = new Map<string, string>();
    for (const [field] of ir.trigger.filters) {
      const name = eventVarName(field);
      const first = seen.get(name);
      if (name === 'ACORE_EVENT_PAYLOAD') {
        problem(['trigger', 'filters', field], 'error', `github: the filter field ${field} would be $ACORE_EVENT_PAYLOAD, which holds the whole payload`);
      } else if (first !== undefined) {
        problem(['trigger', 'filters', field], 'error', `github: the filter fields ${first} and ${field} differ only in case; GitHub reads payload fields ignoring case and both would be $${name}`);
      }
      seen.set(name, first ?? field);
    }
  }
  const settings = ir.targets.github ?? {};
  if (settings.workflowName?.includes('${{')) {
    problem(['targets', 'github', 'workflow_name'], 'error', 'github does not allow ${{ in a workflow name');
  }
  const labels = settings.runsOn === undefined ? [] : typeof settings.runsOn === 'string' ? [settings.runsOn] : settings.runsOn;
  if (labels.some((l) => l.trim() === '')) problem(['targets', 'github', 'runs_on'], 'error', 'github: runs_on labels must not be empty');
  return out;
}

function workflow(ir: ActivityIR, cron: string | undefined): string {
  const ins = ir.instruction;
  const settings = ir.targets.github ?? {};
  const trigger = ir.trigger;
  const guard = guardStep(ir);
  const run = runStep(ir);
  const zone = trigger.kind === 'cron' ? (trigger.timezone ?? "UTC, GitHub's default (the definition names no time zone)") : undefined;
  const filters = trigger.kind === 'event' && trigger.filters.length > 0 ? `, payload filters ${trigger.filters.map(([f, p]) => `${f}=${p}`).join(' ')}` : '';
  const header = yamlComment(
    generatedHeader(ir, 'github', [
      `Needs on the runner: /bin/sh, coreutils, ${requiredTools(ir).join(', ')}.`,
      trigger.kind === 'cron'
        ? `Schedule: ${trigger.schedule.expression} in ${zone}; misfire_policy ${trigger.misfire}.`
        : `Event: repository_dispatch ${trigger.eventType}${filters}; a manual run (workflow_dispatch) has an empty payload.`,
    ]),
  );
  const runsOn = settings.runsOn ?? 'self-hosted';
  const content = workflowTemplateFn!({
    header,
    name: displayText(settings.workflowName ?? ir.title),
    schedule: cron === undefined ? undefined : { cron: yamlString(cron), timezone: trigger.kind === 'cron' && trigger.timezone ? literal(trigger.timezone) : undefined },
    eventTypes: trigger.kind === 'event' ? [literal(trigger.eventType)] : undefined,
    group: literal(`acore-${ir.id}`),
    concurrencyNote:
      trigger.kind === 'cron'
        ? 'A fire time while a run is active waits for it (at most one waits, newer ones replace it); a run is never cancelled.'
        : 'An event while a run is active waits for it (at most one waits, newer ones replace it); a run is never cancelled.',
    runsOn: typeof runsOn === 'string' ? literal(runsOn) : `[${runsOn.map(literal).join(', ')}]`,
    guardNote: yamlComment(guardNote(ir)),
    guardEnv: envLines([...ins.env.map(([name, value]) => ({ name, value })), ...guard.env]),
    guardScript: guard.lines,
    runNote: yamlComment(
      commentSafe(
        `hold the lock for the whole run${ins.timeoutSeconds !== undefined ? `, stop it after ${ins.timeoutSeconds} s` : ''}; on_failure: ${ins.onFailure}` +
          (ins.onFailure === 'log_and_continue' ? ' (a failure is a warning annotation; the workflow succeeds)' : ' (the job fails)'),
      ),
    ),
    continueOnError: ins.onFailure === 'log_and_continue',
    // A backstop only: timeout(1) stops the command first (SIGKILL 10 s after SIGTERM).
    timeoutMinutes: ins.timeoutSeconds === undefined ? undefined : Math.ceil(ins.timeoutSeconds / 60) + 1,
    workingDirectory: ins.workingDirectory === undefined ? undefined : literal(ins.workingDirectory),
    runEnv: envLines([...ins.env.map(([name, value]) => ({ name, value })), ...eventVars(ir), ...run.env]),
    runScript: run.lines,
  });
  // Handlebars drops the line break after the closing {{/each}}.
  return content.endsWith('\n') ? content : `${content}\n`;
}

/** `"NAME": value` lines; a definition's text is escaped, acore's own expressions are kept. */
function envLines(vars: StepVar[]): string[] {
  return vars.map((v) => `${yamlString(v.name)}: ${v.expression ? yamlString(v.value) : literal(v.value)}`);
}

/**
 * commentSafe text that also stays one YAML comment: characters YAML does not allow in a
 * document (C1 controls, U+FEFF, U+FFFE/U+FFFF, lone surrogates) and NEL, a line break in
 * YAML 1.1, become spaces. GitHub never sees comments; `${{` is still shown as `$ {{` so that
 * every `${{` in the file is one of acore's own expressions (the tests check exactly that).
 */
function yamlComment(text: string): string {
  return text.split('${{').join('$ {{').replace(/[\u0080-\u009f\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ' ');
}

function guardNote(ir: ActivityIR): string {
  const parts: string[] = [];
  if (ir.trigger.kind === 'event') parts.push(...ir.trigger.filters.map(([f, p]) => `skip unless the payload's ${f} matches ${p}`));
  parts.push('skip if another run holds the lock');
  for (const p of ir.probes) parts.push(`skip unless GET ${p.url} answers JSON within ${p.timeoutSeconds} s (bound to ${p.bind})`);
  if (ir.conditions.length > 0) parts.push(`skip unless ${ir.conditions.map((c) => c.text).join(' && ')}`);
  return commentSafe(parts.join('; '));
}
