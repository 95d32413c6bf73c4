/**
 * The schedule part of the IR: a cron expression reduced to explicit value sets.
 *
 * Semantics follow crontab(5) (Vixie/Debian cron) with cron-parser's optional leading seconds
 * field and the Quartz day extensions (L, L-n, LW, nW, nL, n#k):
 *
 * - A time matches when its second, minute, hour and month are in their sets and its day
 *   matches the day rule.
 * - Day rule (crontab(5)): when both day-of-month and day-of-week are restricted, a day
 *   matches if EITHER matches. A field whose text starts with `*` (or `?`) counts as
 *   unrestricted, even `*`/2, as in Vixie cron; then BOTH must match.
 */

/** One element of the day-of-month field. */
export type DomItem =
  | { kind: 'day'; day: number } // 1..31; no fire in months without that day
  | { kind: 'last'; offset: number } // L (offset 0) or L-n: n days before the last day
  | { kind: 'nearest-weekday'; day: number } // nW: Mon-Fri nearest to day n, within the month
  | { kind: 'last-weekday' }; // LW: last Mon-Fri of the month

/** One element of the day-of-week field. 0 = Sunday … 6 = Saturday. */
export type DowItem =
  | { kind: 'weekday'; weekday: number }
  | { kind: 'nth'; weekday: number; nth: number } // d#k: k-th such weekday of the month (1..5)
  | { kind: 'last'; weekday: number }; // dL: last such weekday of the month

export interface CronSchedule {
  /** The expression as written (after trimming). */
  expression: string;
  /** The @-macro it was written as, if any (e.g. "@daily"). */
  macro?: string;
  /** True when written with the leading seconds field. */
  hasSeconds: boolean;
  /** Sorted, unique. [0] when there is no seconds field. */
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** 1..12 */
  months: number[];
  /** Sorted by kind then value; for `*` this is every day 1..31. */
  daysOfMonth: DomItem[];
  daysOfWeek: DowItem[];
  /** The field's text starts with `*` or `?` (crontab(5)'s "unrestricted"). */
  domStar: boolean;
  dowStar: boolean;
}

export const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
export const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Longest length of each month (Feb: 29 in leap years). Index 1..12. */
export const MAX_MONTH_LENGTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function monthLength(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return MAX_MONTH_LENGTH[month] ?? 31;
}
