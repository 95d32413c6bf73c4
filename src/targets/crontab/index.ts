/**
 * crontab target (crontab(5), Debian cron 3.0pl1 and cronie alike):
 *
 *   crontab              one managed block for a user crontab (form `user`), or
 *   cron.d/<name>        one /etc/cron.d file per job with a user field (form `cron.d`;
 *                        run-parts only reads names made of letters, digits, _ and -)
 *   libexec/<id>.sh      the job script every line runs
 *
 * A crontab command is limited to 999 characters (Debian's MAX_COMMAND) and turns every bare
 * `%` into a line break, so the guard, the lock, the timeout and the command live in a job
 * script; the line only runs `/bin/sh <script>`, with `%` escaped. Time zones (there is no
 * CRON_TZ in Debian's cron) and the L/W/# extensions run the line on a superset of the fire
 * times and let the script's `acore_fires` keep exactly the right ones.
 */
import { type Template, template } from '../templates.ts';
import type { ActivityIR, CronTriggerIR } from '../../compiler/ir.ts';
import { capabilityProblems } from '../capabilities.ts';
import { hasDaylightSaving } from '../zones.ts';
import { scheduleCheck, supersetFields, cronList } from '../shell/schedule-check.ts';
import { type Flavor, guardScript, requiredTools, runScript } from '../shell/scripts.ts';
import { shQuote } from '../shell/quote.ts';
import { type Artefact, commentSafe, DEFAULT_SCRIPT_DIR, emitAll, generatedHeader, type Target, type TargetOptions, type TargetProblem } from '../target.ts';
import blockTemplate from '../../../templates/crontab/block.hbs';
import crondTemplate from '../../../templates/crontab/crond.hbs';
import jobTemplate from '../../../templates/crontab/job.sh.hbs';

let templates: { block: Template; crond: Template; job: Template } | undefined;
/** Made ready on first use: a command that never emits crontab files never builds them. */
const ready = () => (templates ??= { block: template(blockTemplate), crond: template(crondTemplate), job: template(jobTemplate) });

/** Skips and warnings go to syslog (cron would mail anything on stdout/stderr); failures to stderr, which cron mails. */
function cronFlavor(name: string): Flavor {
  return {
    log: (p, m) =>
      p <= 3
        ? `echo "acore: ${m}" >&2`
        : `logger -t acore -p user.${p === 4 ? 'warning' : 'notice'} -- "${name}: ${m}" 2>/dev/null || :`,
  };
}

/** A job's line in the user crontab's managed block: its share of the one `crontab` file. */
interface BlockLine {
  id: string;
  title: string;
  source: string;
  line: string;
}

export const crontabTarget: Target = {
  name: 'crontab',
  part(ir, options) {
    if (!ir.targets.crontab) return undefined;
    const form = options.crontab?.form ?? 'user';
    const scriptDir = options.crontab?.scriptDir ?? DEFAULT_SCRIPT_DIR[form];
    const problems = capabilityProblems('crontab', ir);
    if (problems.some((p) => p.severity === 'error') || ir.trigger.kind !== 'cron') return { artefacts: [], problems };
    const job = emitJob(ir, ir.trigger, scriptDir, options);
    if (form === 'user') {
      const share: BlockLine = { id: ir.id, title: commentSafe(ir.title), source: commentSafe(`from ${ir.source}`), line: job.line };
      return { artefacts: [job.script], problems, share };
    }
    const user = ir.targets.crontab.user ?? 'root';
    const crond: Artefact = {
      target: 'crontab',
      path: `cron.d/${crondName(ir.id)}`,
      content: ready().crond({
        header: generatedHeader(ir, 'crontab'),
        script: commentSafe(job.scriptPath),
        user,
        line: job.line.replace(/^(\S+ \S+ \S+ \S+ \S+) /, `$1 ${user} `),
      }),
      ids: [ir.id],
    };
    return { artefacts: [job.script, crond], problems };
  },
  join(shares, options) {
    const form = options.crontab?.form ?? 'user';
    if (form !== 'user' || shares.length === 0) return [];
    const scriptDir = options.crontab?.scriptDir ?? DEFAULT_SCRIPT_DIR[form];
    const jobs = shares as BlockLine[];
    return [{ target: 'crontab', path: 'crontab', content: ready().block({ jobs, scriptDir: commentSafe(scriptDir) }), ids: jobs.map((l) => l.id) }];
  },
  emit(definitions, options) {
    return emitAll(this, definitions, options);
  },
};

/** /etc/cron.d names: letters, digits, `_` and `-` only (run-parts(8)); `acore-` marks ours. */
export function crondName(id: string): string {
  return `acore-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A path for the crontab line: `$HOME/…` stays expandable, everything else is literal. */
function lineWord(path: string): string {
  const home = /^(\$HOME|~)\//.exec(path);
  const rest = home ? path.slice(home[0].length) : path;
  const escaped = rest.replace(/["\\$`]/g, (c) => `\\${c}`);
  return home ? `"$HOME/${escaped}"` : `"${escaped}"`;
}

/** crontab(5): a bare % ends the command; `\%` is a literal one. */
function cronEscape(command: string): string {
  return command.replace(/%/g, '\\%');
}

function emitJob(ir: ActivityIR, trigger: CronTriggerIR, scriptDir: string, options: TargetOptions) {
  const tpl = ready();
  const s = trigger.schedule;
  const extensions = s.daysOfMonth.some((i) => i.kind !== 'day') || s.daysOfWeek.some((i) => i.kind !== 'weekday');
  // A star-started day field cron cannot write as `*` or `*`/n would lose crontab(5)'s day rule.
  const lostStar = domField(s) === undefined || dowField(s) === undefined;
  const zone = trigger.timezone !== undefined && !(trigger.timezone === options.crontab?.hostTimezone && !hasDaylightSaving(trigger.timezone)) ? trigger.timezone : undefined;
  const needsCheck = zone !== undefined || extensions || lostStar;
  const fields = needsCheck
    ? supersetFields(s, zone)
    : `${cronList(s.minutes, 0, 59)} ${cronList(s.hours, 0, 23)} ${domField(s)!} ${cronList(s.months, 1, 12)} ${dowField(s)!}`;
  const scriptPath = `${scriptDir.replace(/\/+$/, '')}/${ir.id}.sh`;
  const line = `${fields} ${cronEscape(`/bin/sh ${lineWord(scriptPath)}`)}`;

  const flavor = cronFlavor(ir.id);
  const name = ir.id;
  const lock = ir.instruction.lockFile === undefined ? `"\${XDG_RUNTIME_DIR:-/tmp}/acore-${name}.lock"` : shQuote(ir.instruction.lockFile);
  const guard = guardScript(ir, '', flavor);
  const run = runScript(ir, '', flavor);
  const args = (a: string[]) => [lock, ...a.slice(1).map(shQuote)].join(' ');
  const ins = ir.instruction;
  const setup: string[] = [];
  if (ins.workingDirectory !== undefined) {
    setup.push(`cd ${shQuote(ins.workingDirectory)} || { echo "acore: cannot change to the working directory" >&2; exit 1; }`);
  }
  for (const [k, v] of ins.env) setup.push(`export ${k}=${shQuote(v)}`);
  const tools = requiredTools(ir);
  if (needsCheck) tools.push('GNU date (coreutils)');
  tools.push('logger (bsdutils)');
  const where = trigger.timezone ? `in ${trigger.timezone}${zone ? '' : " (the host's zone, stated with --cron-host-tz)"}` : "in the host's local time";
  const content = tpl.job({
    header: generatedHeader(ir, 'crontab', [`Needs on the host: /bin/sh, coreutils, ${tools.join(', ')}.`]),
    cron: commentSafe(`${s.expression} ${where}`),
    fields,
    check: needsCheck ? scheduleCheck(s, zone) : undefined,
    setup,
    guardNote: commentSafe(
      ['skip if another run holds the lock', ...ir.probes.map((p) => `skip unless GET ${p.url} answers JSON within ${p.timeoutSeconds} s`), ...(ir.conditions.length > 0 ? [`skip unless ${ir.conditions.map((c) => c.text).join(' && ')}`] : [])].join('; '),
    ),
    guardArgs: args(guard.args),
    guard: guard.statements,
    runNote: commentSafe(
      `hold the lock for the whole run${ins.timeoutSeconds !== undefined ? `, stop it after ${ins.timeoutSeconds} s` : ''}; on_failure: ${ins.onFailure}`,
    ),
    runArgs: args(run.args),
    run: run.statements,
  });
  return { script: { target: 'crontab' as const, path: `libexec/${ir.id}.sh`, content, ids: [ir.id] }, line, scriptPath };
}

/**
 * Day fields keep their `*` start so cron applies crontab(5)'s day rule the same way;
 * undefined when a star-started field is not `*` or `*`/n (then acore_fires decides).
 */
function domField(s: CronTriggerIR['schedule']): string | undefined {
  const days = s.daysOfMonth.flatMap((i) => (i.kind === 'day' ? [i.day] : []));
  if (s.domStar) return days.length === 31 ? '*' : starStep(days, 1, 31);
  // Restricted, even when every day is listed: `1-31` is not `*` for the day rule.
  return days.length === 31 ? '1-31' : cronList(days, 1, 31);
}

function dowField(s: CronTriggerIR['schedule']): string | undefined {
  const days = s.daysOfWeek.flatMap((i) => (i.kind === 'weekday' ? [i.weekday] : []));
  if (s.dowStar) return days.length === 7 ? '*' : starStep(days, 0, 6);
  return days.length === 7 ? '0-6' : cronList(days, 0, 6);
}

/** `*`/n for a star-started field (cron's "unrestricted" marker), when the values are that series. */
function starStep(values: number[], min: number, max: number): string | undefined {
  if (values.length < 2 || values[0] !== min) return undefined;
  const step = values[1]! - values[0]!;
  const series = Array.from({ length: Math.floor((max - min) / step) + 1 }, (_, i) => min + i * step);
  return series.length === values.length && series.every((v, i) => v === values[i]) ? `*/${step}` : undefined;
}
