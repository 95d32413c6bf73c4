/**
 * What a definition means, in words a reviewer reads: schedules described (cronstrue, plus
 * acore's own exact words where cronstrue is vague), fire times counted and listed, and every
 * field of a definition as a flat list of facts that two versions can be compared by.
 *
 * Pure: no clock, no file system. `now` is always passed in.
 */
import cronstrue from 'cronstrue';
import { matchesDay } from '../compiler/cron/match.ts';
import { fireTimes, zoneOffset } from '../compiler/cron/next.ts';
import type { CronSchedule, DomItem, DowItem } from '../compiler/cron/schedule.ts';
import type { ActivityIR, CronTriggerIR } from '../compiler/ir.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

// ---------------------------------------------------------------------------------------------
// Time zones (Intl only). `zone` undefined = no zone in the definition: shown and counted in UTC.

/** Local wall clock minus UTC, in ms, of `zone` at `utcMs` (UTC without a zone). */
export function zoneOffsetMs(zone: string | undefined, utcMs: number): number {
  return zone === undefined ? 0 : zoneOffset(zone, utcMs);
}

/** How the wall-clock times of one local day map to instants: one offset, or two around a transition. */
interface DayMapping {
  before: number;
  after: number;
  /** First instant with the `after` offset (Infinity: no transition that day). */
  transition: number;
}

const FIXED: DayMapping = { before: 0, after: 0, transition: Infinity };

function dayMapping(zone: string | undefined, wallMidnight: number): DayMapping {
  if (zone === undefined) return FIXED;
  // Every instant a wall time of this day can be lies in [lo, hi) (offsets are within -12h..+14h).
  const lo = wallMidnight - 14 * HOUR_MS;
  const hi = wallMidnight + DAY_MS + 12 * HOUR_MS;
  const before = zoneOffsetMs(zone, lo);
  const after = zoneOffsetMs(zone, hi);
  if (before === after) return { before, after, transition: Infinity };
  let a = lo / 1000;
  let b = hi / 1000;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (zoneOffsetMs(zone, mid * 1000) === before) a = mid;
    else b = mid;
  }
  return { before, after, transition: b * 1000 };
}

/** The instant of a wall time: undefined in a gap (spring forward); the earlier one when ambiguous. */
function wallToUtc(map: DayMapping, wall: number): number | undefined {
  const early = wall - map.before;
  if (early < map.transition) return early;
  const late = wall - map.after;
  return late >= map.transition ? late : undefined;
}

/** Days since 1970-01-01 of the local calendar date of `utcMs` in `zone`. */
export function localDayNumber(utcMs: number, zone: string | undefined): number {
  return Math.floor((utcMs + zoneOffsetMs(zone, utcMs)) / DAY_MS);
}

function civil(day: number): { y: number; m: number; d: number } {
  const date = new Date(day * DAY_MS);
  return { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate() };
}

export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// Fire times: step over local days (matchesDay), then the day's times, mapped through the zone.
// Listing them is next.ts's job; counting a year of them (every second of `* * * * * *`) is done
// here, a whole day at a time except on days with an offset change.

/** The Gregorian calendar repeats every 400 years (146 097 days). */
const CYCLE_DAYS = 146_097;

/**
 * The first `count` fire instants strictly after `afterMs`, as systemd fires them (a
 * nonexistent local time skipped, an ambiguous one once, at the earlier instant): the shared
 * fire-time helper of src/compiler/cron/next.ts (calendar model).
 */
export function nextFireTimes(s: CronSchedule, zone: string | undefined, afterMs: number, count: number): number[] {
  return fireTimes(s, zone ?? 'UTC', afterMs, count).map((f) => f.at);
}

/** Fire times on the local dates [firstDay, firstDay + days), counted exactly (DST gaps skip, overlaps fire once). */
export function countFires(s: CronSchedule, zone: string | undefined, firstDay: number, days: number): number {
  const perDay = s.hours.length * s.minutes.length * s.seconds.length;
  let n = 0;
  for (let day = firstDay; day < firstDay + days; day++) {
    const { y, m, d } = civil(day);
    if (!matchesDay(s, y, m, d)) continue;
    const map = dayMapping(zone, day * DAY_MS);
    if (map.transition === Infinity) {
      n += perDay;
      continue;
    }
    for (const h of s.hours) {
      for (const mi of s.minutes) {
        for (const sec of s.seconds) if (wallToUtc(map, day * DAY_MS + h * HOUR_MS + mi * 60_000 + sec * 1000) !== undefined) n++;
      }
    }
  }
  return n;
}

const WEEKDAY_SHORT = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** `Mon 2026-05-04 12:00 +02:00` (seconds when asked), the wall clock in `zone` (UTC without one). */
export function formatInstant(utcMs: number, zone: string | undefined, seconds = false): string {
  const offset = zoneOffsetMs(zone, utcMs);
  const wall = new Date(utcMs + offset);
  const iso = wall.toISOString();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${WEEKDAY_SHORT[wall.getUTCDay()]} ${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)} ${off}`;
}

// ---------------------------------------------------------------------------------------------
// Words for a schedule

const MONTH_LONG = ['', 'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function ordinal(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th'}`;
}

/** `1–7`, `1, 15`, `1, 3, 5, …, 31` (an arithmetic run of 6 or more shown by its start and end). */
function numberList(values: readonly number[], name: (v: number) => string = String): string {
  const v = [...values].sort((a, b) => a - b);
  if (v.length >= 6) {
    const step = v[1]! - v[0]!;
    if (step > 1 && v.every((x, i) => i === 0 || x - v[i - 1]! === step)) {
      return `${name(v[0]!)}, ${name(v[1]!)}, ${name(v[2]!)}, …, ${name(v[v.length - 1]!)}`;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === v[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${name(v[i]!)}–${name(v[j]!)}` : j > i ? `${name(v[i]!)}, ${name(v[j]!)}` : name(v[i]!));
    i = j + 1;
  }
  return parts.join(', ');
}

function domWords(items: readonly DomItem[]): string {
  const days = items.filter((i): i is Extract<DomItem, { kind: 'day' }> => i.kind === 'day').map((i) => i.day);
  const out: string[] = [];
  if (days.length) {
    const short = days.some((d) => d > 28) ? ' (none in months without such a day)' : '';
    out.push(`day${days.length > 1 ? 's' : ''} ${numberList(days)} of the month${short}`);
  }
  for (const i of items) {
    if (i.kind === 'last') out.push(i.offset === 0 ? 'the last day of the month' : `${i.offset} day${i.offset === 1 ? '' : 's'} before the last day of the month`);
    else if (i.kind === 'last-weekday') out.push('the last weekday (Monday–Friday) of the month');
    else if (i.kind === 'nearest-weekday') {
      out.push(`the weekday (Monday–Friday) nearest the ${ordinal(i.day)}, without leaving the month (none in months without a ${ordinal(i.day)})`);
    }
  }
  return out.join(' or ');
}

function dowWords(items: readonly DowItem[]): string {
  const plain = items.filter((i) => i.kind === 'weekday').map((i) => i.weekday);
  const out: string[] = [];
  if (plain.length) out.push(numberList(plain, (w) => WEEKDAY_LONG[w] ?? String(w)));
  for (const i of items) {
    if (i.kind === 'nth') out.push(`the ${['', 'first', 'second', 'third', 'fourth', 'fifth'][i.nth] ?? ordinal(i.nth)} ${WEEKDAY_LONG[i.weekday]} of the month`);
    else if (i.kind === 'last') out.push(`the last ${WEEKDAY_LONG[i.weekday]} of the month`);
  }
  return out.join(' or ');
}

function isFullDom(s: CronSchedule): boolean {
  return s.daysOfMonth.length === 31 && s.daysOfMonth.every((i) => i.kind === 'day');
}

function isFullDow(s: CronSchedule): boolean {
  return s.daysOfWeek.length === 7 && s.daysOfWeek.every((i) => i.kind === 'weekday');
}

/**
 * acore's exact words for the days, where cronstrue is vague or wrong: L/W/# extensions, the
 * OR of two restricted day fields, and crontab(5)'s rule that a field starting with `*` (even
 * `*` + `/2`) counts as unrestricted, so both fields must then match. Undefined when not needed.
 */
export function preciseDays(s: CronSchedule): string | undefined {
  const extensions = s.daysOfMonth.some((i) => i.kind !== 'day') || s.daysOfWeek.some((i) => i.kind !== 'weekday');
  const domRestrictedStar = s.domStar && !isFullDom(s);
  const dowRestrictedStar = s.dowStar && !isFullDow(s);
  const both = !s.domStar && !s.dowStar;
  if (!extensions && !both && !domRestrictedStar && !dowRestrictedStar) return undefined;
  const months = s.months.length === 12 ? '' : ` in ${numberList(s.months, (m) => MONTH_LONG[m] ?? String(m))}`;
  const domAll = isFullDom(s);
  const dowAll = isFullDow(s);
  let days: string;
  if (both) {
    days = `on ${domWords(s.daysOfMonth)}, or on ${dowWords(s.daysOfWeek)} (both day fields are restricted, so either one is enough)`;
  } else if (domAll && dowAll) {
    days = 'every day';
  } else if (dowAll) {
    days = `on ${domWords(s.daysOfMonth)}`;
  } else if (domAll) {
    days = `on ${dowWords(s.daysOfWeek)}`;
  } else {
    days = `only on days that are ${domWords(s.daysOfMonth)} and also ${dowWords(s.daysOfWeek)} (a day field starting with * counts as unrestricted, so both must match)`;
  }
  return `${days}${months}`;
}

/** cronstrue's description, with acore's precise day words appended where cronstrue is not exact. */
export function describeCron(s: CronSchedule): string {
  let text: string;
  try {
    text = cronstrue.toString(s.expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    text = `cron ${s.expression}`;
  }
  const precise = preciseDays(s);
  return precise ? `${text} — precisely: ${precise}` : text;
}

// ---------------------------------------------------------------------------------------------
// Schedule facts: description, rate, next fire times

/** Runs are counted over this many local days from `now`'s date: 58 whole weeks, over a year. */
export const RATE_WINDOW_DAYS = 406;

export interface ScheduleFacts {
  expression: string;
  zone?: string;
  description: string;
  /** Fire times in the window. */
  runsInWindow: number;
  /** Local date the window starts on (YYYY-MM-DD). */
  windowStart: string;
  perDay: string;
  perWeek: string;
  /** The next five fire times after `now`, formatted in the zone. */
  next: string[];
  nextMs: number[];
}

/** `12`, `≈0.71`, `<0.01`: exact when the division is, rounded to two decimals otherwise. */
export function rate(count: number, divisor: number): string {
  if (count % divisor === 0) return String(count / divisor);
  const v = count / divisor;
  if (v < 0.005) return '<0.01';
  return `≈${Number(v.toFixed(2))}`;
}

export function scheduleFacts(trigger: CronTriggerIR, nowMs: number): ScheduleFacts {
  const s = trigger.schedule;
  const zone = trigger.timezone;
  const first = localDayNumber(nowMs, zone);
  const runs = countFires(s, zone, first, RATE_WINDOW_DAYS);
  const nextMs = nextFireTimes(s, zone, nowMs, 5);
  return {
    expression: s.expression,
    ...(zone ? { zone } : {}),
    description: describeCron(s),
    runsInWindow: runs,
    windowStart: isoDate(first),
    perDay: runs === 0 ? `0 (none in the ${RATE_WINDOW_DAYS} days counted)` : rate(runs, RATE_WINDOW_DAYS),
    perWeek: runs === 0 ? `0 (none in the ${RATE_WINDOW_DAYS / 7} weeks counted)` : rate(runs, RATE_WINDOW_DAYS / 7),
    nextMs,
    next: nextMs.map((t) => formatInstant(t, zone, s.hasSeconds)),
  };
}

/** Do two schedules fire at the same wall-clock times (whatever the spelling)? */
export function sameSchedule(a: CronSchedule, b: CronSchedule): boolean {
  const key = (s: CronSchedule) => JSON.stringify([s.seconds, s.minutes, s.hours, s.months, s.daysOfMonth, s.daysOfWeek, s.domStar || isFullDom(s), s.dowStar || isFullDow(s)]);
  if (key(a) === key(b)) return true;
  // Different day-field spellings can still pick the same days: compare a whole 400-year cycle.
  const times = (s: CronSchedule) => JSON.stringify([s.seconds, s.minutes, s.hours]);
  if (times(a) !== times(b)) return false;
  const start = Date.UTC(2000, 0, 1) / DAY_MS;
  for (let day = start; day < start + CYCLE_DAYS; day++) {
    const { y, m, d } = civil(day);
    if (matchesDay(a, y, m, d) !== matchesDay(b, y, m, d)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Facts: every field of a definition, flat, in the order a reviewer reads them

export interface FactValue {
  text: string;
  /** A value from the definition (shown as code), or acore's words for a default (prose). */
  literal: boolean;
}

export interface Fact {
  key: string;
  /** What the field is; `{}` stands for `subject` (an env name, a probe bind), shown as code. */
  label: string;
  subject?: string;
  order: number;
  value: FactValue;
  /** acore's default, not written in the definition: left out when listing a whole definition. */
  implied?: boolean;
}

const lit = (text: string): FactValue => ({ text, literal: true });
const prose = (text: string): FactValue => ({ text, literal: false });

export function factsOf(ir: ActivityIR, enabled: boolean): Fact[] {
  const facts: Fact[] = [];
  const add = (order: number, key: string, label: string, value: FactValue, more: { subject?: string; implied?: boolean } = {}) =>
    facts.push({ key, label, order, value, ...more });
  const implied = { implied: true };
  add(0, 'enabled', 'enabled', prose(enabled ? 'yes' : 'no (validated, nothing generated)'), enabled ? implied : {});
  if (ir.description !== undefined) add(1, 'description', 'description', lit(ir.description.replace(/\n+$/, '')));
  const t = ir.trigger;
  if (t.kind === 'cron') {
    add(2, 'trigger', 'trigger', prose('cron'));
    add(3, 'schedule', 'schedule', lit(t.schedule.expression));
    add(4, 'timezone', 'time zone', t.timezone ? lit(t.timezone) : prose("the host's local time (no zone)"));
    add(5, 'misfire', 'misfire policy', lit(t.misfire));
  } else {
    add(2, 'trigger', 'trigger', prose('event'));
    add(6, 'event', 'event type', lit(t.eventType));
    for (const [field, glob] of t.filters) add(7, `filter:${field}`, 'event filter {}', lit(glob), { subject: field });
  }
  for (const p of ir.probes) {
    add(8, `probe:${p.bind}`, 'health check {}', lit(`GET ${p.url}`), { subject: p.bind });
    add(8.5, `probe-timeout:${p.bind}`, 'health check {} timeout', prose(`${p.timeoutSeconds} s`), { subject: p.bind });
  }
  for (const c of ir.conditions) add(9, `rule:${c.text}`, 'rule condition', lit(c.text));
  const ins = ir.instruction;
  add(10, 'command', 'command', lit(ins.command));
  add(11, 'on_failure', 'failure policy', lit(ins.onFailure));
  if (ins.timeoutSeconds !== undefined) add(12, 'timeout', 'timeout', prose(`${ins.timeoutSeconds} s`));
  else add(12, 'timeout', 'timeout', prose('none'), implied);
  if (ins.workingDirectory !== undefined) add(13, 'workdir', 'working directory', lit(ins.workingDirectory));
  else add(13, 'workdir', 'working directory', prose('not set'), implied);
  for (const [name, value] of ins.env) add(14, `env:${name}`, 'env {}', lit(value), { subject: name });
  if (ins.lockFile !== undefined) add(15, 'lock', 'lock file', lit(ins.lockFile));
  else add(15, 'lock', 'lock file', prose('the default, one per job'), implied);
  const allowed = (['systemd', 'crontab', 'github'] as const).filter((n) => ir.targets[n] !== undefined);
  add(16, 'targets', 'targets', prose(allowed.length ? allowed.join(', ') : 'none'));
  const sd = ir.targets.systemd;
  if (sd) {
    if (sd.unitName !== undefined) add(17, 'systemd.unit_name', 'systemd unit name', lit(sd.unitName));
    else add(17, 'systemd.unit_name', 'systemd unit name', prose('from the id'), implied);
    if (sd.onFailure.length) add(18, 'systemd.on_failure', 'systemd OnFailure= units', lit(sd.onFailure.join(' ')));
    else add(18, 'systemd.on_failure', 'systemd OnFailure= units', prose('none'), implied);
    if (sd.user !== undefined) add(19, 'systemd.user', 'systemd User=', lit(sd.user));
    if (sd.group !== undefined) add(20, 'systemd.group', 'systemd Group=', lit(sd.group));
  }
  if (ir.targets.crontab?.user !== undefined) add(21, 'crontab.user', 'crontab user', lit(ir.targets.crontab.user));
  const gh = ir.targets.github;
  if (gh) {
    if (gh.runsOn !== undefined) add(22, 'github.runs_on', 'GitHub runs-on', lit(Array.isArray(gh.runsOn) ? JSON.stringify(gh.runsOn) : gh.runsOn));
    else add(22, 'github.runs_on', 'GitHub runs-on', prose('self-hosted (default)'), implied);
    if (gh.workflowName !== undefined) add(23, 'github.workflow_name', 'GitHub workflow name', lit(gh.workflowName));
  }
  return facts;
}

export interface FactChange {
  key: string;
  label: string;
  subject?: string;
  /** Undefined: the field is not there on that side (e.g. an env variable added). */
  before?: FactValue;
  after?: FactValue;
}

export function compareFacts(before: readonly Fact[], after: readonly Fact[]): FactChange[] {
  const a = new Map(before.map((f) => [f.key, f]));
  const b = new Map(after.map((f) => [f.key, f]));
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  const order = (k: string) => (b.get(k) ?? a.get(k))!.order;
  keys.sort((x, y) => order(x) - order(y) || (x < y ? -1 : x > y ? 1 : 0));
  const out: FactChange[] = [];
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    if (x && y && x.value.text === y.value.text && x.value.literal === y.value.literal) continue;
    const f = (y ?? x)!;
    out.push({ key: k, label: f.label, ...(f.subject !== undefined ? { subject: f.subject } : {}), ...(x ? { before: x.value } : {}), ...(y ? { after: y.value } : {}) });
  }
  return out;
}

/** The same definition apart from its id and file? (Then a removed + added pair is a rename.) */
export function sameApartFromId(a: ActivityIR, aEnabled: boolean, b: ActivityIR, bEnabled: boolean): boolean {
  return compareFacts(factsOf(a, aEnabled), factsOf(b, bEnabled)).length === 0;
}
