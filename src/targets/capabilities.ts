/**
 * The capability matrix: for every feature a definition can use and every target, whether the
 * target keeps its meaning exactly, approximately (a warning that says how), or not at all (an
 * error). The targets enforce it through `capabilityProblems`, `acore explain` and the README
 * table are printed from it, and test/capabilities.test.ts walks every cell.
 */
import type { ActivityIR, TargetName } from '../compiler/ir.ts';
import type { TargetProblem } from './target.ts';
import { hasDaylightSaving } from './zones.ts';

export type Feature =
  | 'cron'
  | 'cron.seconds'
  | 'cron.extensions'
  | 'cron.macros'
  | 'cron.sub-five-minutes'
  | 'timezone'
  | 'timezone.host'
  | 'timezone.dst'
  | 'misfire.skip'
  | 'misfire.catch_up'
  | 'health-check'
  | 'rule'
  | 'lock'
  | 'on_failure.fail'
  | 'on_failure.log_and_continue'
  | 'timeout'
  | 'env'
  | 'working_directory'
  | 'event';

export type Support =
  | { level: 'exact'; how: string }
  | { level: 'approximated'; how: string }
  | { level: 'unsupported'; why: string };

export const FEATURES: { feature: Feature; title: string; field: (string | number)[] }[] = [
  { feature: 'cron', title: 'cron trigger, 5 fields (crontab(5))', field: ['trigger', 'cron_expression'] },
  { feature: 'cron.seconds', title: 'seconds field (6 fields)', field: ['trigger', 'cron_expression'] },
  { feature: 'cron.extensions', title: 'L, L-n, LW, nW, nL, n#k', field: ['trigger', 'cron_expression'] },
  { feature: 'cron.macros', title: '@hourly … @yearly', field: ['trigger', 'cron_expression'] },
  { feature: 'cron.sub-five-minutes', title: 'fires more often than every 5 minutes', field: ['trigger', 'cron_expression'] },
  { feature: 'timezone', title: 'trigger.timezone', field: ['trigger', 'timezone'] },
  { feature: 'timezone.host', title: 'no trigger.timezone (the host’s local time)', field: ['trigger', 'cron_expression'] },
  { feature: 'timezone.dst', title: 'a time zone with daylight saving time', field: ['trigger', 'timezone'] },
  { feature: 'misfire.skip', title: 'misfire_policy: skip', field: ['trigger', 'misfire_policy'] },
  { feature: 'misfire.catch_up', title: 'misfire_policy: catch_up', field: ['trigger', 'misfire_policy'] },
  { feature: 'health-check', title: 'context probes (http_get)', field: ['context'] },
  { feature: 'rule', title: 'rule.when', field: ['rule', 'when'] },
  { feature: 'lock', title: 'lock (no overlap with other holders)', field: ['instruction'] },
  { feature: 'on_failure.fail', title: 'on_failure: fail', field: ['instruction'] },
  { feature: 'on_failure.log_and_continue', title: 'on_failure: log_and_continue', field: ['instruction', 'on_failure'] },
  { feature: 'timeout', title: 'instruction.timeout_seconds', field: ['instruction', 'timeout_seconds'] },
  { feature: 'env', title: 'instruction.env', field: ['instruction', 'env'] },
  { feature: 'working_directory', title: 'instruction.working_directory', field: ['instruction', 'working_directory'] },
  { feature: 'event', title: 'event trigger', field: ['trigger', 'trigger_type'] },
];

const exact = (how: string): Support => ({ level: 'exact', how });
const approx = (how: string): Support => ({ level: 'approximated', how });
const no = (why: string): Support => ({ level: 'unsupported', why });

export const CAPABILITIES: Record<TargetName, Record<Feature, Support>> = {
  systemd: {
    cron: exact('OnCalendar= lines with the same fire times (day-of-month OR day-of-week as two lines)'),
    'cron.seconds': exact('OnCalendar= has seconds'),
    'cron.extensions': exact("weekday filters and `~` (days from the month's end); leap-year-dependent cases (29W, L-28 in February) are refused"),
    'cron.macros': exact('expanded to their five fields (@weekly is Sunday, not systemd’s Monday)'),
    'cron.sub-five-minutes': exact('AccuracySec=1s'),
    timezone: exact('OnCalendar=… <zone>; a nonexistent local time is skipped, an ambiguous one fires once'),
    'timezone.host': exact('OnCalendar= without a zone reads the host’s local time, as cron does'),
    'timezone.dst': exact('a local time that does not exist is skipped; an ambiguous one fires once (the first)'),
    'misfire.skip': exact('the timer starts an instance of the shared acore-trigger@.service, which starts the job only if it is not already running'),
    'misfire.catch_up': exact('Persistent=true: one run for the missed fire times when the timer is back'),
    'health-check': exact('ExecCondition= runs curl; unreachable, HTTP error, timeout or non-JSON skips the run'),
    rule: exact('ExecCondition= evaluates it with jq; false skips the run'),
    lock: exact('flock on the lock file for the whole run'),
    'on_failure.fail': exact('the unit fails; OnFailure= units start'),
    'on_failure.log_and_continue': exact('logged at warning priority; the unit does not fail'),
    timeout: exact('timeout(1); counts as a failure'),
    env: exact('Environment='),
    working_directory: exact('WorkingDirectory='),
    event: no('systemd timers cannot fire on events'),
  },
  crontab: {
    cron: exact('the same expression on a crontab line (Debian cron and cronie read it the same way)'),
    'cron.seconds': no('cron has minute resolution'),
    'cron.extensions': exact('the line runs on every candidate day; the job script checks L/W/# at run time'),
    'cron.macros': exact('expanded to their five fields'),
    'cron.sub-five-minutes': exact('cron runs every minute if asked'),
    timezone: exact('no CRON_TZ (Debian cron has none): the line runs each quarter hour that could match, the job script checks the time in the zone (nonexistent times skipped, ambiguous ones once)'),
    'timezone.host': exact('cron reads the host’s local time'),
    'timezone.dst': exact('acore_fires skips a local time that does not exist and runs an ambiguous one once (the first), as systemd does'),
    'misfire.skip': exact('flock -n: a fire time while a run holds the lock is dropped (cron never queues)'),
    'misfire.catch_up': no('cron does not run jobs missed while the machine was off (anacron would)'),
    'health-check': exact('the job script runs curl first; unreachable, HTTP error, timeout or non-JSON skips the run'),
    rule: exact('the job script evaluates it with jq; false skips the run'),
    lock: exact('flock on the lock file for the whole run'),
    'on_failure.fail': exact('a failure message on stderr, which cron mails (MAILTO)'),
    'on_failure.log_and_continue': exact('the failure goes to syslog (logger, warning), so cron mails nothing for it'),
    timeout: exact('timeout(1); counts as a failure'),
    env: exact('exported by the job script (not crontab variables, which would leak to other lines)'),
    working_directory: exact('cd in the job script'),
    event: no('cron cannot fire on events'),
  },
  github: {
    cron: exact('on.schedule cron (GitHub may start scheduled runs late under load)'),
    'cron.seconds': no('GitHub schedules have minute resolution'),
    'cron.extensions': no('GitHub cron has no L, W or #'),
    'cron.macros': exact('expanded to their five fields'),
    'cron.sub-five-minutes': approx('GitHub runs scheduled workflows at most every 5 minutes'),
    timezone: exact('on.schedule timezone:'),
    'timezone.dst': approx('GitHub runs a local time skipped by a daylight-saving change at the next valid time (documented), where systemd and cron skip it'),
    'timezone.host': approx('GitHub reads a schedule without timezone: in UTC, not in a host’s local time; set trigger.timezone'),
    'misfire.skip': approx('concurrency group: a fire time during a run waits and runs after it (at most one waits) instead of being dropped'),
    'misfire.catch_up': no('GitHub does not make up scheduled runs it missed'),
    'health-check': exact('a guard step runs curl on the runner; the run step is skipped, not failed'),
    rule: exact('the guard step evaluates it with jq; false skips the run step'),
    lock: exact('concurrency group, and flock on the (self-hosted) runner for the whole run'),
    'on_failure.fail': exact('the job fails'),
    'on_failure.log_and_continue': exact('continue-on-error and a warning annotation; the workflow succeeds'),
    timeout: exact('timeout(1) in the step, timeout-minutes as a backstop'),
    env: exact('env:, values escaped so GitHub never evaluates ${{ }} in them'),
    working_directory: exact('working-directory:'),
    event: exact('repository_dispatch with types: [event_type]; filters are checked on the payload by the guard step'),
  },
};

/** Does the schedule fire twice within 5 minutes somewhere? (GitHub's minimum interval.) */
function subFiveMinutes(ir: ActivityIR): boolean {
  if (ir.trigger.kind !== 'cron') return false;
  const s = ir.trigger.schedule;
  if (s.seconds.length > 1) return true;
  const m = s.minutes;
  if (m.length > 12) return true;
  // Gaps between consecutive minutes within an hour, and across the hour when every hour fires.
  for (let i = 1; i < m.length; i++) if (m[i]! - m[i - 1]! < 5) return true;
  const wraps = s.hours.length === 24 || s.hours.some((h, i) => i > 0 && h === s.hours[i - 1]! + 1);
  return wraps && m.length > 0 && m[0]! + 60 - m[m.length - 1]! < 5;
}

/** The features a definition uses. */
export function featuresUsed(ir: ActivityIR, target?: TargetName): Feature[] {
  const f: Feature[] = [];
  if (ir.trigger.kind === 'event') f.push('event');
  else {
    const s = ir.trigger.schedule;
    f.push('cron');
    if (s.seconds.some((x) => x !== 0)) f.push('cron.seconds');
    if (s.daysOfMonth.some((i) => i.kind !== 'day') || s.daysOfWeek.some((i) => i.kind !== 'weekday')) f.push('cron.extensions');
    if (s.macro) f.push('cron.macros');
    if (subFiveMinutes(ir)) f.push('cron.sub-five-minutes');
    f.push(ir.trigger.timezone ? 'timezone' : 'timezone.host');
    // Asking Intl about a zone costs milliseconds: only when the target's cell depends on it.
    const dstMatters = target === undefined || CAPABILITIES[target]['timezone.dst'].level !== 'exact';
    if (ir.trigger.timezone && dstMatters && hasDaylightSaving(ir.trigger.timezone)) f.push('timezone.dst');
    f.push(ir.trigger.misfire === 'catch_up' ? 'misfire.catch_up' : 'misfire.skip');
  }
  if (ir.probes.length > 0) f.push('health-check');
  if (ir.conditions.length > 0) f.push('rule');
  f.push('lock');
  f.push(ir.instruction.onFailure === 'fail' ? 'on_failure.fail' : 'on_failure.log_and_continue');
  if (ir.instruction.timeoutSeconds !== undefined) f.push('timeout');
  if (ir.instruction.env.length > 0) f.push('env');
  if (ir.instruction.workingDirectory !== undefined) f.push('working_directory');
  return f;
}

/** Errors for unsupported features, warnings for approximated ones. */
export function capabilityProblems(target: TargetName, ir: ActivityIR): TargetProblem[] {
  const problems: TargetProblem[] = [];
  for (const feature of featuresUsed(ir, target)) {
    const support = CAPABILITIES[target][feature];
    const meta = FEATURES.find((x) => x.feature === feature)!;
    if (support.level === 'unsupported') {
      problems.push({
        id: ir.id,
        field: meta.field,
        code: 'target-unsupported',
        severity: 'error',
        message: `${target} cannot express ${meta.title}: ${support.why}`,
        help: `leave ${target} out of this definition's targets, or change the definition`,
      });
    } else if (support.level === 'approximated') {
      problems.push({
        id: ir.id,
        field: meta.field,
        code: 'target-approximated',
        severity: 'warning',
        message: `${target} approximates ${meta.title}: ${support.how}`,
      });
    }
  }
  return problems;
}

/** The matrix as a Markdown table (README, `acore explain`): ✅ exact, ⚠️ approximated, ❌ unsupported. */
export function capabilityTable(): string {
  const targets = Object.keys(CAPABILITIES) as TargetName[];
  const cell = (s: Support) => (s.level === 'exact' ? `✅ ${s.how}` : s.level === 'approximated' ? `⚠️ ${s.how}` : `❌ ${s.why}`);
  const rows = FEATURES.map(({ feature, title }) => `| ${title} | ${targets.map((t) => cell(CAPABILITIES[t][feature]).replace(/\|/g, '\\|')).join(' | ')} |`);
  return [`| feature | ${targets.join(' | ')} |`, `| --- | ${targets.map(() => '---').join(' | ')} |`, ...rows].join('\n');
}
