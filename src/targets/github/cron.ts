/**
 * The five fields of a GitHub `on.schedule` cron line from the IR's value sets.
 *
 * GitHub reads POSIX cron (minute hour day-of-month month day-of-week, no seconds, no L/W/#;
 * the capability matrix refuses those before this runs). Minutes, hours and months are
 * written as `*` or lists of values and a-b ranges. The day fields carry crontab(5)'s day rule:
 * when both are restricted a day matches if EITHER matches, and a field whose text starts
 * with `*` counts as unrestricted (then BOTH must match). So a star-started day field is
 * written as `*` or `*`/n (the same series), and a restricted one never starts with `*`
 * (a full day-of-month written `1-31` stays restricted). When neither keeps the meaning, the
 * schedule is inexpressible in one line and the definition is refused.
 */
import type { CronSchedule } from '../../compiler/ir.ts';
import { cronList } from '../shell/schedule-check.ts';

export class InexpressibleCron extends Error {}

/** `min hour dom month dow`; throws InexpressibleCron. */
export function cronLine(s: CronSchedule): string {
  const days = s.daysOfMonth.flatMap((i) => (i.kind === 'day' ? [i.day] : []));
  const weekdays = s.daysOfWeek.flatMap((i) => (i.kind === 'weekday' ? [i.weekday] : []));
  if (days.length !== s.daysOfMonth.length || weekdays.length !== s.daysOfWeek.length) {
    throw new InexpressibleCron('GitHub cron has no L, W or #');
  }
  const domAll = days.length === 31;
  const dowAll = weekdays.length === 7;
  let dom: string | undefined;
  let dow: string | undefined;
  if (s.domStar || s.dowStar) {
    // Both must match. A full field matches every day whatever its form; a restricted one must
    // keep its `*` start only when the other field is restricted too.
    dom = s.domStar ? starField(days, 1, 31) : restrictedField(days, 1, 31);
    dow = s.dowStar ? starField(weekdays, 0, 6) : restrictedField(weekdays, 0, 6);
    if (dom === undefined && dowAll) [dom, dow] = [restrictedField(days, 1, 31), '*'];
    if (dow === undefined && domAll) [dom, dow] = ['*', restrictedField(weekdays, 0, 6)];
    if (dom === undefined || dow === undefined) {
      const field = dom === undefined ? 'day-of-month' : 'day-of-week';
      throw new InexpressibleCron(
        `the ${field} field starts with * (so both day fields must match, crontab(5)) but its days are not one */n series; ` +
          'GitHub would read a plain list as "either day field matches"',
      );
    }
  } else {
    // Either matches: both written without a leading `*`.
    dom = restrictedField(days, 1, 31);
    dow = restrictedField(weekdays, 0, 6);
  }
  return `${cronList(s.minutes, 0, 59)} ${cronList(s.hours, 0, 23)} ${dom} ${cronList(s.months, 1, 12)} ${dow}`;
}

/** `*` or `*`/n for a star-started field whose values are exactly that series; else undefined. */
function starField(values: number[], min: number, max: number): string | undefined {
  if (values.length === max - min + 1) return '*';
  if (values.length < 2 || values[0] !== min) return undefined;
  const step = values[1]! - values[0]!;
  const series = Array.from({ length: Math.floor((max - min) / step) + 1 }, (_, i) => min + i * step);
  return series.length === values.length && series.every((v, i) => v === values[i]) ? `*/${step}` : undefined;
}

/** Values and ranges, never starting with `*` (a full field is `min-max`). */
function restrictedField(values: number[], min: number, max: number): string {
  return values.length === max - min + 1 ? `${min}-${max}` : cronList(values, min, max);
}
