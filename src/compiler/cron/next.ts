/**
 * Fire times as each target will actually fire them (`acore next`). Pure: no I/O, no clock;
 * the caller passes `after` (fire times strictly after it) and the host's time zone.
 *
 * Every target matches the schedule against a wall clock in some zone; they differ in which
 * zone, in resolution, and in what they do around daylight-saving transitions:
 *
 * - systemd (`OnCalendar=`, with the definition's zone or the host's): a local time that does
 *   not exist (spring forward) is skipped; an ambiguous one (fall back) fires once, at the
 *   first, earlier instant. Seconds resolution.
 * - crontab with a zone: the job script's `acore_fires` checks the time in the zone, with the
 *   same rules as systemd (README, crontab target). Minute resolution.
 * - crontab without a zone: the host's cron (Debian's cron 3.0pl1 and cronie share Vixie
 *   cron's clock handling, cron.c): after a jump forward of 5 minutes to 3 hours, jobs whose
 *   minute and hour fields are both fixed run once for every skipped minute, right after the
 *   jump, while jobs with `*` in the minute or hour field run only at the current minute; after
 *   a jump back of up to 3 hours, fixed-time jobs are not repeated but `*` jobs run again in
 *   the repeated hour. A line that `acore_fires` checks (L/W/#) re-reads the clock when it
 *   runs, so a catch-up run after the jump does not pass the check.
 * - github: the schedule is read in `timezone:`, or in UTC without one (not the host's zone).
 *   GitHub documents that "scheduled workflows in skipped hours advance to the next valid time"
 *   (a 2:30 AM schedule runs at 3:00 AM); it documents nothing for a repeated hour, shown
 *   here once, at the first instant. Minute resolution.
 *
 * Fire times are found by stepping over local days with `matchesDay` and then over the
 * schedule's times of that day, never minute by minute.
 */
import type { CronSchedule, TargetName } from '../ir.ts';
import { matchesDay } from './match.ts';
import { monthLength } from './schedule.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** UTC offsets lie within UTC-12 … UTC+14. */
const MAX_OFFSET = 14 * HOUR;
const MIN_OFFSET = -12 * HOUR;
/** A full Gregorian cycle (weekdays included) plus a year: a valid schedule fires within it. */
const SEARCH_YEARS = 401;

// ---------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local wall clock minus UTC, in ms, of `zone` at instant `at` (whole seconds). */
export function zoneOffset(zone: string, at: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(at))) parts[p.type] = p.value;
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(at / SECOND) * SECOND;
}

/** Local wall-clock time (as a UTC-based ms value) of instant `at` in `zone`. */
export function wallClock(zone: string, at: number): number {
  return at + zoneOffset(zone, at);
}

/** Is this an IANA zone name the runtime knows? */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Does the zone's UTC offset change within the year after `at`? (Daylight saving, or any other change.) */
export function observesDst(zone: string, at: number): boolean {
  const first = zoneOffset(zone, at);
  for (let k = 1; k <= 26; k++) if (zoneOffset(zone, at + k * 14 * DAY) !== first) return true;
  return false;
}

/**
 * How wall times of one local day map to instants: the offsets before and after `transition`
 * (an instant; Infinity when the offset does not change near this day).
 */
interface DayMapping {
  before: number;
  after: number;
  transition: number;
}

function dayMapping(zone: string, wallMidnight: number): DayMapping {
  const lo = wallMidnight - MAX_OFFSET;
  const hi = wallMidnight + DAY - MIN_OFFSET;
  const before = zoneOffset(zone, lo);
  const after = zoneOffset(zone, hi);
  if (before === after) return { before, after, transition: Infinity };
  // The first whole second with the new offset.
  let a = lo / SECOND;
  let b = hi / SECOND;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (zoneOffset(zone, mid * SECOND) === before) a = mid;
    else b = mid;
  }
  return { before, after, transition: b * SECOND };
}

// ---------------------------------------------------------------------------------------------
// Models

/** What a target does with a wall time around a transition. */
export interface TransitionModel {
  /**
   * A wall time that does not exist: `skip`, or run at the first instant after the jump.
   * `gapMinutes` is the length of the jump.
   */
  gap: (gapMinutes: number) => 'skip' | 'after-jump';
  /** A wall time that happens twice: fire at the first instant only, or at both. */
  overlap: (overlapMinutes: number) => 'first' | 'both';
  /** How a fire time after the jump is explained. */
  gapNote: string;
  overlapNote: string;
}

export const CALENDAR_MODEL: TransitionModel = {
  gap: () => 'skip',
  overlap: () => 'first',
  gapNote: '',
  overlapNote: '',
};

/**
 * The host's cron (Vixie cron's cron.c, in Debian's cron and cronie) for a crontab line.
 * `wildcard`: the line's minute or hour field is `*` (MIN_STAR/HR_STAR). `checked`: the job
 * script's `acore_fires` re-checks the wall clock when the line runs.
 */
export function vixieCronModel(wildcard: boolean, checked: boolean): TransitionModel {
  return {
    // Clock jumps forward by G minutes: cron sees G+1 minutes pass. ≤ 5: every job catches up;
    // ≤ 3 h: fixed-time jobs catch up (right after the jump); more: nothing catches up.
    gap: (g) => {
      if (checked || g + 1 > 180) return 'skip';
      if (g + 1 <= 5) return 'after-jump';
      return wildcard ? 'skip' : 'after-jump';
    },
    // Clock goes back by O minutes: up to 3 h, only `*` jobs run again; more, cron resyncs and
    // every job runs again.
    overlap: (o) => (wildcard || o - 1 > 180 ? 'both' : 'first'),
    gapNote: "Debian's cron starts a fixed-time job right after the jump, once for each skipped fire time",
    overlapNote: "again in the repeated hour: Debian's cron runs a job with * in its minute or hour field in both passes",
  };
}

export const GITHUB_MODEL: TransitionModel = {
  gap: () => 'after-jump',
  overlap: () => 'first',
  gapNote: 'GitHub advances a schedule in a skipped hour to the next valid time',
  overlapNote: '',
};

export interface FireTime {
  /** The instant, epoch ms. */
  at: number;
  /**
   * Set when the instant is not simply the schedule's wall time: a skipped local time run
   * after the jump, or a repeated one run again.
   */
  note?: string;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `HH:MM` or `HH:MM:SS` of a wall-clock value. */
function clock(wall: number, seconds: boolean): string {
  const d = new Date(wall);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return seconds ? `${hm}:${pad(d.getUTCSeconds())}` : hm;
}

/**
 * The first `count` fire times strictly after `after` of a schedule read in `zone`, under a
 * transition model. Ascending; instants are unique (fire times that land on the same instant
 * are one entry whose note names them).
 */
export function fireTimes(s: CronSchedule, zone: string, after: number, count: number, model: TransitionModel = CALENDAR_MODEL): FireTime[] {
  if (count <= 0) return [];
  const withSeconds = s.seconds.some((x) => x !== 0);
  const found = new Map<number, { regular: boolean; gap: string[]; again: boolean }>();
  const entry = (at: number) => {
    let e = found.get(at);
    if (!e) {
      e = { regular: false, gap: [], again: false };
      found.set(at, e);
    }
    return e;
  };
  let enough = Infinity; // the instant up to which `found` is complete once it holds `count` times

  const start = new Date(wallClock(zone, after) - DAY);
  let y = start.getUTCFullYear();
  let m = start.getUTCMonth() + 1;
  let d = start.getUTCDate();
  const lastYear = y + SEARCH_YEARS;
  while (y <= lastYear) {
    if (!s.months.includes(m)) {
      d = 1;
      if (++m > 12) [m, y] = [1, y + 1];
      continue;
    }
    const wallMidnight = Date.UTC(y, m - 1, d);
    // Every instant of this local day lies after wallMidnight - MAX_OFFSET.
    if (wallMidnight - MAX_OFFSET > enough) break;
    if (matchesDay(s, y, m, d) && wallMidnight + DAY - MIN_OFFSET > after) {
      const map = dayMapping(zone, wallMidnight);
      // Without a transition, instants follow wall order: stop the day once there are enough.
      const monotone = map.transition === Infinity;
      day: for (const h of s.hours) {
        for (const mi of s.minutes) {
          for (const sec of s.seconds) {
            if (monotone && found.size >= count) break day;
            const wall = wallMidnight + h * HOUR + mi * MINUTE + sec * SECOND;
            const t1 = wall - map.before;
            const t2 = wall - map.after;
            const first = t1 < map.transition;
            const second = t2 >= map.transition && map.before !== map.after;
            if (first && second) {
              // Ambiguous: the wall time happens twice (t1 < t2).
              if (t1 > after) entry(t1).regular = true;
              if (t2 > after && model.overlap((map.before - map.after) / MINUTE) === 'both') entry(t2).again = true;
            } else if (first || second) {
              const t = first ? t1 : t2;
              if (t > after) entry(t).regular = true;
            } else if (map.transition > after && model.gap((map.after - map.before) / MINUTE) === 'after-jump') {
              // Does not exist: clocks jump over it at `transition`.
              entry(map.transition).gap.push(clock(wall, withSeconds));
            }
          }
        }
      }
      if (enough === Infinity && found.size >= count) {
        enough = [...found.keys()].sort((a, b) => a - b)[count - 1]!;
      }
    }
    if (++d > monthLength(y, m)) {
      d = 1;
      if (++m > 12) [m, y] = [1, y + 1];
    }
  }

  return [...found.entries()]
    .sort(([a], [b]) => a - b)
    .slice(0, count)
    .map(([at, e]) => {
      const notes: string[] = [];
      if (e.gap.length > 0) {
        const times = e.gap.join(', ');
        notes.push(`for ${times}, which ${e.gap.length === 1 ? 'does' : 'do'} not exist that day (clocks jump forward)${model.gapNote ? `: ${model.gapNote}` : ''}${e.regular ? '; also its own fire time' : ''}`);
      }
      if (e.again) notes.push(model.overlapNote || 'again in the repeated hour');
      return notes.length > 0 ? { at, note: notes.join('; ') } : { at };
    });
}

// ---------------------------------------------------------------------------------------------
// Per target

/** crontab(5) lines that acore writes for a zone-less schedule have `*` in minute or hour only when every value is listed. */
export function cronLineIsWildcard(s: CronSchedule): boolean {
  return s.minutes.length === 60 || s.hours.length === 24;
}

/** Zone-less crontab lines whose day the job script checks (L/W/#, or a `*`-started day field cron cannot write). */
export function cronLineIsChecked(s: CronSchedule): boolean {
  const extensions = s.daysOfMonth.some((i) => i.kind !== 'day') || s.daysOfWeek.some((i) => i.kind !== 'weekday');
  const days = s.daysOfMonth.flatMap((i) => (i.kind === 'day' ? [i.day] : []));
  const weekdays = s.daysOfWeek.flatMap((i) => (i.kind === 'weekday' ? [i.weekday] : []));
  const starSeries = (values: number[], min: number, max: number) => {
    if (values.length === max - min + 1) return true;
    if (values.length < 2 || values[0] !== min) return false;
    const step = values[1]! - values[0]!;
    const n = Math.floor((max - min) / step) + 1;
    return values.length === n && values.every((v, i) => v === min + i * step);
  };
  const lostStar = (s.domStar && !starSeries(days, 1, 31)) || (s.dowStar && !starSeries(weekdays, 0, 6));
  return extensions || lostStar;
}

export type ZoneSource = 'definition' | 'host' | 'github-utc';

export interface TargetFireTimes {
  target: TargetName;
  /** The zone the target reads the schedule in. */
  zone: string;
  zoneSource: ZoneSource;
  resolution: 'second' | 'minute';
  times: FireTime[];
  /** What the reader should know about how this target fires (DST, lateness, limits). */
  notes: string[];
}

export interface PreviewRequest {
  schedule: CronSchedule;
  /** The definition's trigger.timezone. */
  timezone?: string;
  /** The host's zone, read by systemd and cron when the definition names none. */
  hostZone: string;
  targets: readonly TargetName[];
  /** Fire times strictly after this instant (epoch ms). */
  after: number;
  count: number;
}

export interface Difference {
  /** The first instant at which the targets disagree. */
  at: number;
  firing: TargetName[];
  silent: TargetName[];
}

export interface Preview {
  targets: TargetFireTimes[];
  /** Set when the targets' lists disagree within the window they all cover. */
  differ?: Difference;
  notes: string[];
}

export function targetFireTimes(target: TargetName, req: Omit<PreviewRequest, 'targets'>): TargetFireTimes {
  const s = req.schedule;
  const zoned = req.timezone !== undefined;
  const notes: string[] = [];
  if (target === 'systemd') {
    const zone = req.timezone ?? req.hostZone;
    if (!zoned) notes.push(`no trigger.timezone: systemd reads the schedule in the host's time zone, here ${zone}`);
    if (observesDst(zone, req.after)) {
      notes.push(`${zone} changes its UTC offset: a local time that does not exist is skipped, an ambiguous one fires once, at the first instant`);
    }
    return { target, zone, zoneSource: zoned ? 'definition' : 'host', resolution: 'second', times: fireTimes(s, zone, req.after, req.count, CALENDAR_MODEL), notes };
  }
  if (target === 'crontab') {
    if (zoned) {
      notes.push(`the job script checks the time in ${req.timezone} (the line runs each quarter hour that could match)`);
      if (observesDst(req.timezone!, req.after)) {
        notes.push(`${req.timezone} changes its UTC offset: a local time that does not exist is skipped, an ambiguous one runs once, at the first instant (as on systemd)`);
      }
      return { target, zone: req.timezone!, zoneSource: 'definition', resolution: 'minute', times: fireTimes(s, req.timezone!, req.after, req.count, CALENDAR_MODEL), notes };
    }
    const wildcard = cronLineIsWildcard(s);
    const checked = cronLineIsChecked(s);
    notes.push(`no trigger.timezone: cron reads the schedule in the host's time zone, here ${req.hostZone}`);
    if (!observesDst(req.hostZone, req.after)) {
      notes.push(`${req.hostZone} keeps its UTC offset, so cron's handling of clock changes does not matter here`);
    } else {
      notes.push(
        "around daylight-saving changes Debian's cron (and cronie) runs jobs in a skipped hour right after the jump and does not repeat fixed-time jobs in a repeated hour; " +
          (checked
            ? 'this line is checked by the job script at run time, so a skipped time is not made up'
            : wildcard
              ? 'this line has * in its minute or hour field, so its skipped times are not made up and it runs again in a repeated hour'
              : 'this line has fixed minutes and hours, so a skipped time runs right after the jump and a repeated time runs once'),
      );
    }
    return {
      target,
      zone: req.hostZone,
      zoneSource: 'host',
      resolution: 'minute',
      times: fireTimes(s, req.hostZone, req.after, req.count, vixieCronModel(wildcard, checked)),
      notes,
    };
  }
  const zone = req.timezone ?? 'UTC';
  if (!zoned) notes.push("no trigger.timezone: GitHub reads the schedule in UTC, not in the host's time zone");
  else if (observesDst(zone, req.after)) {
    notes.push(
      `timezone: ${zone}: GitHub advances a fire time in a skipped hour to the next valid time (GitHub's documentation); it documents nothing for a repeated hour, shown here once, at the first instant`,
    );
  }
  notes.push('GitHub may start scheduled runs late (under load, especially at the start of an hour) or drop some, and runs a schedule at most every 5 minutes');
  return {
    target,
    zone,
    zoneSource: zoned ? 'definition' : 'github-utc',
    resolution: 'minute',
    times: fireTimes(s, zone, req.after, req.count, GITHUB_MODEL),
    notes,
  };
}

/** The first instant, within the window every list covers, at which some targets fire and others do not. */
export function firstDifference(lists: readonly { target: TargetName; times: readonly FireTime[] }[]): Difference | undefined {
  if (lists.length < 2) return undefined;
  // A list of fewer than `count` times is complete up to its end; use the shortest horizon.
  const horizon = Math.min(...lists.map((l) => (l.times.length > 0 ? l.times[l.times.length - 1]!.at : -Infinity)));
  const sets = lists.map((l) => new Set(l.times.map((t) => t.at)));
  const all = [...new Set(lists.flatMap((l) => l.times.map((t) => t.at)))].filter((t) => t <= horizon).sort((a, b) => a - b);
  for (const at of all) {
    const firing = lists.filter((_, i) => sets[i]!.has(at)).map((l) => l.target);
    if (firing.length !== lists.length) {
      return { at, firing, silent: lists.filter((_, i) => !sets[i]!.has(at)).map((l) => l.target) };
    }
  }
  return undefined;
}

/** ISO 8601 in UTC without milliseconds when they are zero. */
export function isoUtc(at: number): string {
  return new Date(at).toISOString().replace('.000Z', 'Z');
}

/** `2026-03-29 03:00:00 +02:00` in the zone. */
export function formatInZone(at: number, zone: string): string {
  const offset = zoneOffset(zone, at);
  const wall = new Date(at + offset);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / MINUTE;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][wall.getUTCDay()]!;
  const date = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  return `${day} ${date} ${time} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Fire times of a schedule on each target, and where the targets disagree. */
export function previewFireTimes(req: PreviewRequest): Preview {
  const targets = req.targets.map((t) => targetFireTimes(t, req));
  const differ = firstDifference(targets);
  const notes: string[] = [];
  if (differ) {
    const zone = req.timezone ?? req.hostZone;
    notes.push(
      `targets differ: first at ${isoUtc(differ.at)} (${formatInZone(differ.at, zone)} in ${zone}), when ${differ.firing.join(' and ')} ${differ.firing.length === 1 ? 'fires' : 'fire'} and ${differ.silent.join(' and ')} ${differ.silent.length === 1 ? 'does' : 'do'} not`,
    );
  }
  return { targets, ...(differ ? { differ } : {}), notes };
}
