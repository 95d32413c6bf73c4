/**
 * Day-level meaning of a schedule, used to refuse expressions that can never fire and by the
 * previews. (The test suite checks the targets against its own reference, not against this.)
 */
import { type CronSchedule, type DomItem, type DowItem, monthLength } from './schedule.ts';

/** 0 = Sunday. */
export function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

function nearestWeekday(year: number, month: number, n: number, len: number): number | undefined {
  if (n > len) return undefined;
  const wd = weekdayOf(year, month, n);
  if (wd === 6) return n === 1 ? 3 : n - 1;
  if (wd === 0) return n === len ? n - 2 : n + 1;
  return n;
}

function domItemMatches(item: DomItem, year: number, month: number, day: number, len: number): boolean {
  switch (item.kind) {
    case 'day':
      return day === item.day;
    case 'last':
      return day === len - item.offset;
    case 'nearest-weekday':
      return day === nearestWeekday(year, month, item.day, len);
    case 'last-weekday': {
      const wd = weekdayOf(year, month, len);
      return day === (wd === 6 ? len - 1 : wd === 0 ? len - 2 : len);
    }
  }
}

function dowItemMatches(item: DowItem, weekday: number, day: number, len: number): boolean {
  if (weekday !== item.weekday) return false;
  switch (item.kind) {
    case 'weekday':
      return true;
    case 'nth':
      return Math.ceil(day / 7) === item.nth;
    case 'last':
      return day + 7 > len;
  }
}

export function matchesDay(s: CronSchedule, year: number, month: number, day: number): boolean {
  if (!s.months.includes(month)) return false;
  const len = monthLength(year, month);
  if (day > len) return false;
  const weekday = weekdayOf(year, month, day);
  const dom = s.daysOfMonth.some((i) => domItemMatches(i, year, month, day, len));
  const dow = s.daysOfWeek.some((i) => dowItemMatches(i, weekday, day, len));
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

const never = new WeakMap<CronSchedule, boolean>();

/** The Gregorian calendar, weekdays included, repeats every 400 years. */
export function neverFires(s: CronSchedule): boolean {
  let known = never.get(s);
  if (known === undefined) {
    known = scanNeverFires(s);
    never.set(s, known);
  }
  return known;
}

function scanNeverFires(s: CronSchedule): boolean {
  for (let year = 2000; year < 2400; year++) {
    for (const month of s.months) {
      const len = monthLength(year, month);
      for (let day = 1; day <= len; day++) if (matchesDay(s, year, month, day)) return false;
    }
  }
  return true;
}
