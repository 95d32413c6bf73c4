/**
 * Cron schedule → `OnCalendar=` lines, exactly (systemd.time(7), "Calendar Events").
 *
 * systemd ANDs the components of one calendar event (weekday, year-month-day, h:m:s) and a
 * timer with several OnCalendar= lines fires at the union of their elapse times. So:
 * - the time of day is one cross product `H:M:S` shared by every line;
 * - the day rule becomes a small set of day lines: crontab(5)'s OR of day-of-month and
 *   day-of-week is a union of lines, its AND is a pairwise intersection;
 * - the Quartz extensions use systemd's weekday filter and its `~` (days counted back from the
 *   end of the month): L → `~01`, 5L → `Fri *-*~01..07`, 5#2 → `Fri *-*-08..14`, and W/LW a
 *   few lines whose weekday filter decides which of them fires.
 *
 * Limits of systemd 252's parser that this respects (measured with `systemd-analyze calendar`):
 * `~` takes 1..28 only; `a/step` needs a+step within the field; `~a..b` needs a ≤ b.
 * Anything that cannot be written exactly is refused with the reason, never approximated.
 */
import { type CronSchedule, MAX_MONTH_LENGTH } from '../../compiler/cron/schedule.ts';

export class InexpressibleSchedule extends Error {}

type Anchor = { kind: 'any' } | { kind: 'fwd'; days: number[] } | { kind: 'bwd'; days: number[] };

/** One calendar line's date part. weekdays: 0 = Sunday; null = every weekday. */
interface DayLine {
  weekdays: number[] | null;
  months: number[];
  anchor: Anchor;
}

const ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];
const MON_FRI = [1, 2, 3, 4, 5];
const FRI = [5];
const MON = [1];
const MONTHS_31 = [1, 3, 5, 7, 8, 10, 12];
const MONTHS_30 = [4, 6, 9, 11];
/** systemd accepts `~1` … `~28` only. */
const MAX_BACKWARD = 28;

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const intersect = (a: number[], b: number[]): number[] => a.filter((x) => b.includes(x));
const union = (a: number[], b: number[]): number[] => [...new Set([...a, ...b])].sort((x, y) => x - y);

// Fleets share schedules; the lines depend only on the expression (and zone), so each is computed once.
const cache = new Map<string, string[] | InexpressibleSchedule>();

/** The OnCalendar= values for a schedule, in a stable order. Throws InexpressibleSchedule. */
export function toOnCalendar(s: CronSchedule, timezone?: string): string[] {
  const key = `${s.expression}\u0000${timezone ?? ''}`;
  let lines = cache.get(key);
  if (lines === undefined) {
    try {
      lines = computeOnCalendar(s, timezone);
    } catch (e) {
      if (!(e instanceof InexpressibleSchedule)) throw e;
      lines = e;
    }
    cache.set(key, lines);
  }
  if (lines instanceof InexpressibleSchedule) throw lines;
  return [...lines];
}

function computeOnCalendar(s: CronSchedule, timezone?: string): string[] {
  const time = `${component(s.hours, 0, 23)}:${component(s.minutes, 0, 59)}:${component(s.seconds, 0, 59)}`;
  const suffix = timezone ? ` ${timezone}` : '';
  return dayLines(s)
    .flatMap(oneBackwardRun)
    .map((line) => `${renderDate(line)} ${time}${suffix}`);
}

/**
 * systemd 252 rejects some lists after `~` (`~11,28`, `~13,26`; `~02,05` passes) but takes any
 * single value or ascending range, so a line counting back from the month's end gets one run
 * each (found by test/fuzz.test.ts).
 */
function oneBackwardRun(line: DayLine): DayLine[] {
  if (line.anchor.kind !== 'bwd') return [line];
  return runs([...line.anchor.days].sort((a, b) => a - b)).map(([a, b]) => ({ ...line, anchor: { kind: 'bwd', days: range(a, b) } }));
}

function dayLines(s: CronSchedule): DayLine[] {
  const dom = domLines(s);
  const dow = dowLines(s);
  let lines: DayLine[];
  if (s.domStar || s.dowStar) {
    lines = [];
    for (const a of dom) for (const b of dow) lines.push(...intersectLines(a, b));
  } else {
    lines = [...dom, ...dow];
  }
  lines = lines.map(feasible).filter((l): l is DayLine => l !== undefined);
  return merge(lines);
}

function domLines(s: CronSchedule): DayLine[] {
  const months = s.months;
  const days = s.daysOfMonth.flatMap((i) => (i.kind === 'day' ? [i.day] : []));
  const lines: DayLine[] = [];
  if (days.length === 31) lines.push({ weekdays: null, months, anchor: { kind: 'any' } });
  else if (days.length > 0) lines.push({ weekdays: null, months, anchor: { kind: 'fwd', days } });

  for (const item of s.daysOfMonth) {
    if (item.kind === 'last') lines.push(...backward(null, months, [item.offset + 1]));
    if (item.kind === 'last-weekday') {
      // Last day Mon-Fri; last day Saturday → Friday before it; Sunday → Friday two days before.
      lines.push(
        { weekdays: MON_FRI, months, anchor: { kind: 'bwd', days: [1] } },
        { weekdays: FRI, months, anchor: { kind: 'bwd', days: [2] } },
        { weekdays: FRI, months, anchor: { kind: 'bwd', days: [3] } },
      );
    }
    if (item.kind === 'nearest-weekday') lines.push(...nearestWeekdayLines(item.day, months));
  }
  return lines;
}

function dowLines(s: CronSchedule): DayLine[] {
  const months = s.months;
  const lines: DayLine[] = [];
  const plain = s.daysOfWeek.flatMap((i) => (i.kind === 'weekday' ? [i.weekday] : []));
  if (plain.length === 7) lines.push({ weekdays: null, months, anchor: { kind: 'any' } });
  else if (plain.length > 0) lines.push({ weekdays: plain, months, anchor: { kind: 'any' } });
  for (let nth = 1; nth <= 5; nth++) {
    const wds = s.daysOfWeek.flatMap((i) => (i.kind === 'nth' && i.nth === nth ? [i.weekday] : []));
    // The k-th such weekday of a month is the one whose day is in 7k-6 … 7k.
    if (wds.length > 0) lines.push({ weekdays: wds, months, anchor: { kind: 'fwd', days: range(7 * nth - 6, Math.min(7 * nth, 31)) } });
  }
  const last = s.daysOfWeek.flatMap((i) => (i.kind === 'last' ? [i.weekday] : []));
  // The last such weekday of a month falls in its last seven days.
  if (last.length > 0) lines.push({ weekdays: last, months, anchor: { kind: 'bwd', days: range(1, 7) } });
  return lines;
}

/**
 * nW: the Mon-Fri nearest to day n, never leaving the month: n itself on a weekday; Saturday →
 * Friday n-1 (but Monday the 3rd when n is the 1st); Sunday → Monday n+1 (but Friday n-2 when n
 * is the last day). No fire in a month without day n.
 */
function nearestWeekdayLines(n: number, months: number[]): DayLine[] {
  const fwd = (weekdays: number[], ms: number[], d: number): DayLine => ({ weekdays, months: ms, anchor: { kind: 'fwd', days: [d] } });
  if (n <= 27) {
    // Day n+1 always exists, so "n is Sunday" never means "n is the last day".
    return [fwd(MON_FRI, months, n), n === 1 ? fwd(MON, months, 3) : fwd(FRI, months, n - 1), fwd(MON, months, n + 1)];
  }
  const lines: DayLine[] = [];
  for (const [len, group] of [
    [31, intersect(MONTHS_31, months)],
    [30, intersect(MONTHS_30, months)],
  ] as const) {
    if (group.length === 0 || n > len) continue;
    lines.push(fwd(MON_FRI, group, n), fwd(FRI, group, n - 1), n === len ? fwd(FRI, group, n - 2) : fwd(MON, group, n + 1));
  }
  if (months.includes(2) && n <= 29) {
    if (n === 29) {
      throw new InexpressibleSchedule(
        '29W in February depends on whether the year is a leap year, which systemd calendar events cannot express',
      );
    }
    // 28W in February: Sat 28 → Fri 27; Sun 28 → Mon 29 in leap years, else Fri 26 (the third
    // day from the end of a 28-day February; in a leap year that line is Fri 27 with 28 a
    // Saturday, which the Saturday line already fires).
    lines.push(fwd(MON_FRI, [2], 28), fwd(FRI, [2], 27), fwd(MON, [2], 29), {
      weekdays: FRI,
      months: [2],
      anchor: { kind: 'bwd', days: [3] },
    });
  }
  return lines;
}

/** Lines for "k-th day from the end" (k = 1 is the last day), keeping within systemd's `~1..28`. */
function backward(weekdays: number[] | null, months: number[], ks: number[]): DayLine[] {
  const near = ks.filter((k) => k <= MAX_BACKWARD);
  const far = ks.filter((k) => k > MAX_BACKWARD);
  const lines: DayLine[] = [];
  if (near.length > 0) lines.push({ weekdays, months, anchor: { kind: 'bwd', days: near } });
  if (far.length > 0) lines.push(...backwardAsForward(weekdays, months, far));
  return lines;
}

/**
 * Rewrites "k-th day from the end" as days from the start, optionally only those in `within`.
 * Exact for months of fixed length; for February only when the leap day changes nothing but
 * the 29th itself (which exists in leap years only), e.g. odd days among the last seven.
 */
function backwardAsForward(weekdays: number[] | null, months: number[], ks: number[], within?: number[]): DayLine[] {
  const lines: DayLine[] = [];
  const daysFor = (len: number) =>
    ks.map((k) => len - k + 1).filter((d) => d >= 1 && (within === undefined || within.includes(d)));
  for (const [len, group] of [
    [31, intersect(MONTHS_31, months)],
    [30, intersect(MONTHS_30, months)],
  ] as const) {
    const days = union(daysFor(len), []);
    if (group.length > 0 && days.length > 0) lines.push({ weekdays, months: group, anchor: { kind: 'fwd', days } });
  }
  if (months.includes(2)) {
    const common = union(daysFor(28), []);
    const leap = union(daysFor(29), []);
    if (common.join() !== leap.filter((d) => d <= 28).join()) {
      throw new InexpressibleSchedule(
        'counting days back from the end of February depends on the leap year here, which systemd calendar events cannot express',
      );
    }
    if (leap.length > 0) lines.push({ weekdays, months: [2], anchor: { kind: 'fwd', days: leap } });
  }
  return lines;
}

function intersectLines(a: DayLine, b: DayLine): DayLine[] {
  const weekdays = a.weekdays === null ? b.weekdays : b.weekdays === null ? a.weekdays : intersect(a.weekdays, b.weekdays);
  const months = intersect(a.months, b.months);
  if ((weekdays && weekdays.length === 0) || months.length === 0) return [];
  const x = a.anchor;
  const y = b.anchor;
  if (x.kind === 'any') return [{ weekdays, months, anchor: y }];
  if (y.kind === 'any') return [{ weekdays, months, anchor: x }];
  if (x.kind === y.kind) {
    const days = intersect(x.days, y.days);
    return days.length === 0 ? [] : [{ weekdays, months, anchor: { kind: x.kind, days } }];
  }
  // Days from the start AND days from the end: only exact where the month's length is fixed.
  const fwd = x.kind === 'fwd' ? x : (y as { kind: 'fwd'; days: number[] });
  const bwd = x.kind === 'bwd' ? x : (y as { kind: 'bwd'; days: number[] });
  return backwardAsForward(weekdays, months, bwd.days, fwd.days);
}

/** Drops days no month of the line has; undefined when the line can never fire. */
function feasible(line: DayLine): DayLine | undefined {
  if (line.months.length === 0 || (line.weekdays && line.weekdays.length === 0)) return undefined;
  const longest = Math.max(...line.months.map((m) => MAX_MONTH_LENGTH[m] ?? 31));
  const a = line.anchor;
  if (a.kind === 'any') return line;
  const days = a.days.filter((d) => d <= longest);
  return days.length === 0 ? undefined : { ...line, anchor: { kind: a.kind, days } };
}

const key = (xs: number[] | null): string => (xs === null ? '*' : xs.join(','));
const anchorKey = (a: Anchor): string => (a.kind === 'any' ? '*' : `${a.kind}:${a.days.join(',')}`);

/** Joins lines that differ in one component only, until nothing changes; order is stable. */
function merge(input: DayLine[]): DayLine[] {
  let lines = input.map((l) => ({ ...l, weekdays: l.weekdays && [...l.weekdays].sort((a, b) => a - b) }));
  for (let changed = true; changed; ) {
    changed = false;
    outer: for (let i = 0; i < lines.length; i++) {
      for (let j = i + 1; j < lines.length; j++) {
        const a = lines[i]!;
        const b = lines[j]!;
        const sameW = key(a.weekdays) === key(b.weekdays);
        const sameM = key(a.months) === key(b.months);
        const sameA = anchorKey(a.anchor) === anchorKey(b.anchor);
        let joined: DayLine | undefined;
        if (sameW && sameA) joined = { ...a, months: union(a.months, b.months) };
        else if (sameW && sameM && a.anchor.kind === b.anchor.kind && a.anchor.kind !== 'any' && b.anchor.kind !== 'any')
          joined = { ...a, anchor: { kind: a.anchor.kind, days: union(a.anchor.days, b.anchor.days) } };
        else if (sameM && sameA && a.weekdays && b.weekdays) joined = { ...a, weekdays: union(a.weekdays, b.weekdays) };
        if (joined) {
          if (joined.weekdays && joined.weekdays.length === 7) joined.weekdays = null;
          lines = [...lines.slice(0, i), joined, ...lines.slice(i + 1, j), ...lines.slice(j + 1)];
          changed = true;
          break outer;
        }
      }
    }
  }
  return lines;
}

const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function renderDate(line: DayLine): string {
  const months = component(line.months, 1, 12);
  const a = line.anchor;
  const day = a.kind === 'any' ? '-*' : a.kind === 'fwd' ? `-${component(a.days, 1, 31)}` : `~${backwardComponent(a.days)}`;
  const weekdays = line.weekdays === null ? '' : `${renderWeekdays(line.weekdays)} `;
  return `${weekdays}*-${months}${day}`;
}

/** Monday-first like systemd; runs of three or more as `Mon..Fri`. */
function renderWeekdays(weekdays: number[]): string {
  const mondayFirst = weekdays.map((d) => (d + 6) % 7).sort((a, b) => a - b);
  return runs(mondayFirst)
    .map(([a, b]) => {
      const name = (d: number) => WEEKDAY[(d + 1) % 7]!;
      if (a === b) return name(a);
      if (b === a + 1) return `${name(a)},${name(b)}`;
      return `${name(a)}..${name(b)}`;
    })
    .join(',');
}

const pad = (n: number): string => String(n).padStart(2, '0');

function runs(sorted: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/**
 * One component (hours, minutes, seconds, months or days) as systemd writes it: `*` for every
 * value, `00/step` for cron's `*`/step when the step divides the field's range, else a list of
 * values and `a..b` runs.
 *
 * Only that one repetition form is used: systemd 252 gets `a/step` wrong when the step does
 * not divide the range (e.g. `00/7` hours skips 00:00 on the first day of a month after a
 * month end; found by test/schedule-differential.test.ts), so other series are written out.
 */
export function component(values: number[], min: number, max: number): string {
  const size = max - min + 1;
  if (values.length === size) return '*';
  if (values.length >= 3 && values[0] === min) {
    const step = values[1]! - values[0]!;
    const isSeries = step > 1 && size % step === 0 && values.length === size / step && values.every((v, i) => v === min + i * step);
    if (isSeries) return `${pad(min)}/${step}`;
  }
  return runs(values)
    .map(([a, b]) => (a === b ? pad(a) : b === a + 1 ? `${pad(a)},${pad(b)}` : `${pad(a)}..${pad(b)}`))
    .join(',');
}

/** Days counted from the end, one run: `~a` or `~a..b` ascending (`~01..07`: the last seven days). */
function backwardComponent(ks: number[]): string {
  const sorted = [...ks].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  return first === last ? pad(first) : `${pad(first)}..${pad(last)}`;
}
