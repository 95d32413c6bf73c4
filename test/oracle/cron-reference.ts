/**
 * Independent reference implementation of cron schedule semantics, used as a test oracle.
 *
 * Written from crontab(5) (Vixie cron) plus the Quartz-style extensions acore accepts. It shares
 * NO code with src/ on purpose: the differential test compares the systemd translation of
 * `src/` against this model, so a bug copied into both would go unnoticed.
 *
 * Semantics implemented:
 *  - 5 fields `min hour dom month dow`, or 6 fields with a leading seconds field (default 0).
 *  - Items: `*`, `?` (= `*`), `n`, `a-b`, `*` + `/n`, `a-b/n`, `a/n` (= a..field max, step n; for
 *    day-of-week the max is 6), comma lists. Names jan..dec / sun..sat (case-insensitive).
 *    Day-of-week 0 and 7 are both Sunday.
 *  - Macros @yearly @annually @monthly @weekly (Sunday 00:00) @daily @midnight @hourly.
 *  - Day rule (crontab(5) / Vixie cron): a day field is "unrestricted" iff its text starts with
 *    `*` or `?` (so `*\/2` is unrestricted). If dom or dow is unrestricted a day matches when both
 *    match; if both are restricted it matches when either matches.
 *  - dom extensions: `L`, `L-n`, `LW`, `nW`; dow extensions: `dL` (last weekday d of the month),
 *    `d#k` (k-th weekday d, k 1..5).
 *  - A day that does not exist in a month never matches.
 *  - Time zones: fields match local wall-clock time in the IANA zone. A wall time inside a
 *    spring-forward gap does not fire. An ambiguous wall time (fall-back overlap) fires once, at
 *    the EARLIER of the two instants (i.e. with the pre-transition / DST offset).
 *
 *    Empirical finding, systemd 252 (`systemd-analyze calendar`, Europe/Berlin, 2026-10-25, where
 *    02:00-02:59 local happens twice): for `*-*-* 02:30:00 Europe/Berlin` starting from any base
 *    before the overlap, systemd elapses at 2026-10-25T00:30:00Z (02:30 CEST, the first/earlier
 *    instant) and NOT again at 01:30:00Z (02:30 CET); the next elapse is 2026-10-26T01:30:00Z. So
 *    systemd picks the earlier (DST) instant, which is what this oracle does. Caveat: systemd
 *    resolves the local time relative to the *base* time, so when the base itself lies in the
 *    second half of the overlap (e.g. base 2026-10-25T01:00:00Z = 02:00 CET) systemd elapses at
 *    the second instant 01:30:00Z as well. The differential test records that as a known deviation.
 *    Gap: `*-*-* 02:30:00 Europe/Berlin` does not elapse on 2026-03-29 (02:00-02:59 does not exist).
 */

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Parsing

type DomItem =
  | { kind: 'last'; offset: number } // L (offset 0) or L-n
  | { kind: 'lastWeekday' } // LW
  | { kind: 'nearestWeekday'; day: number }; // nW

type DowItem =
  | { kind: 'lastOf'; weekday: number } // dL
  | { kind: 'nth'; weekday: number; nth: number }; // d#k

export interface ReferenceSchedule {
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** Plain day-of-month values (1..31). */
  domValues: Set<number>;
  domSpecial: DomItem[];
  months: Set<number>;
  /** Plain weekday values (0..6, Sunday = 0). */
  dowValues: Set<number>;
  dowSpecial: DowItem[];
  domRestricted: boolean;
  dowRestricted: boolean;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  /** Upper bound of `*` and of `a/n` (differs from max only for dow: 7 is accepted, 6 is the end). */
  openMax: number;
  names?: string[];
  namesBase?: number;
}

const SEC: FieldDef = { name: 'second', min: 0, max: 59, openMax: 59 };
const MIN: FieldDef = { name: 'minute', min: 0, max: 59, openMax: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23, openMax: 23 };
const DOM: FieldDef = { name: 'day-of-month', min: 1, max: 31, openMax: 31 };
const MON: FieldDef = { name: 'month', min: 1, max: 12, openMax: 12, names: MONTHS, namesBase: 1 };
const DOW: FieldDef = { name: 'day-of-week', min: 0, max: 7, openMax: 6, names: DAYS, namesBase: 0 };

function fail(msg: string): never {
  throw new Error(`cron-reference: ${msg}`);
}

function atom(text: string, f: FieldDef): number {
  if (/^\d+$/.test(text)) {
    const v = Number(text);
    if (v < f.min || v > f.max) fail(`${f.name} value ${v} out of range ${f.min}-${f.max}`);
    return v;
  }
  if (f.names) {
    const i = f.names.indexOf(text.toLowerCase());
    if (i >= 0) return i + (f.namesBase ?? 0);
  }
  return fail(`bad ${f.name} value '${text}'`);
}

function step(text: string, f: FieldDef): number {
  if (!/^\d+$/.test(text)) fail(`bad ${f.name} step '${text}'`);
  const n = Number(text);
  if (n < 1) fail(`${f.name} step must be >= 1`);
  return n;
}

/** Plain (non-extension) item → list of values. */
function plainItem(item: string, f: FieldDef): number[] {
  let body = item;
  let stride = 1;
  let hasStep = false;
  const slash = item.indexOf('/');
  if (slash >= 0) {
    body = item.slice(0, slash);
    stride = step(item.slice(slash + 1), f);
    hasStep = true;
  }
  let lo: number;
  let hi: number;
  if (body === '*' || body === '?') {
    lo = f.min;
    hi = f.openMax;
  } else if (body.includes('-')) {
    const parts = body.split('-');
    if (parts.length !== 2) fail(`bad ${f.name} range '${body}'`);
    lo = atom(parts[0]!, f);
    hi = atom(parts[1]!, f);
    if (lo > hi) fail(`${f.name} range ${body} is backwards`);
  } else {
    lo = atom(body, f);
    if (hasStep) {
      if (lo > f.openMax) fail(`${f.name} start ${lo} beyond ${f.openMax}`);
      hi = f.openMax;
    } else hi = lo;
  }
  const out: number[] = [];
  for (let v = lo; v <= hi; v += stride) out.push(v);
  return out;
}

function plainField(text: string, f: FieldDef): number[] {
  const set = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') fail(`empty item in ${f.name} field '${text}'`);
    for (const v of plainItem(item, f)) set.add(v);
  }
  return [...set].sort((a, b) => a - b);
}

function parseDom(text: string, s: ReferenceSchedule): void {
  for (const item of text.split(',')) {
    const up = item.toUpperCase();
    let m: RegExpMatchArray | null;
    if (up === 'L') s.domSpecial.push({ kind: 'last', offset: 0 });
    else if ((m = /^L-(\d+)$/.exec(up))) {
      const off = Number(m[1]);
      if (off > 30) fail(`L-${off} out of range`);
      s.domSpecial.push({ kind: 'last', offset: off });
    } else if (up === 'LW') s.domSpecial.push({ kind: 'lastWeekday' });
    else if ((m = /^(\d+)W$/.exec(up))) {
      const day = Number(m[1]);
      if (day < 1 || day > 31) fail(`${day}W out of range`);
      s.domSpecial.push({ kind: 'nearestWeekday', day });
    } else if (item === '') fail('empty day-of-month item');
    else for (const v of plainItem(item, DOM)) s.domValues.add(v);
  }
}

function parseDow(text: string, s: ReferenceSchedule): void {
  for (const item of text.split(',')) {
    let m: RegExpMatchArray | null;
    if ((m = /^([0-7]|[a-z]{3})L$/i.exec(item))) {
      s.dowSpecial.push({ kind: 'lastOf', weekday: atom(m[1]!, DOW) % 7 });
    } else if ((m = /^([0-7]|[a-z]{3})#(\d+)$/i.exec(item))) {
      const nth = Number(m[2]);
      if (nth < 1 || nth > 5) fail(`#${nth} out of range 1-5`);
      s.dowSpecial.push({ kind: 'nth', weekday: atom(m[1]!, DOW) % 7, nth });
    } else if (item === '') fail('empty day-of-week item');
    else for (const v of plainItem(item, DOW)) s.dowValues.add(v % 7);
  }
}

export function parseReference(expr: string): ReferenceSchedule {
  let text = expr.trim();
  if (text.startsWith('@')) {
    const m = MACROS[text.toLowerCase()];
    if (!m) fail(`unknown macro ${text}`);
    text = m;
  }
  const fields = text.split(/\s+/);
  if (fields.length === 5) fields.unshift('0');
  if (fields.length !== 6) fail(`expected 5 or 6 fields, got ${fields.length}`);
  const [sec, min, hour, dom, mon, dow] = fields as [string, string, string, string, string, string];
  const s: ReferenceSchedule = {
    seconds: plainField(sec, SEC),
    minutes: plainField(min, MIN),
    hours: plainField(hour, HOUR),
    domValues: new Set(),
    domSpecial: [],
    months: new Set(plainField(mon, MON)),
    dowValues: new Set(),
    dowSpecial: [],
    domRestricted: !(dom.startsWith('*') || dom.startsWith('?')),
    dowRestricted: !(dow.startsWith('*') || dow.startsWith('?')),
  };
  parseDom(dom, s);
  parseDow(dow, s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers (proleptic Gregorian, via Date.UTC only)

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysIn(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** Weekday (0 = Sunday) of y-m-d. */
function weekday(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

function domMatches(s: ReferenceSchedule, y: number, m: number, d: number, len: number): boolean {
  if (s.domValues.has(d)) return true;
  for (const it of s.domSpecial) {
    switch (it.kind) {
      case 'last':
        if (d === len - it.offset) return true;
        break;
      case 'lastWeekday': {
        const wdLast = weekday(y, m, len);
        const target = wdLast === 6 ? len - 1 : wdLast === 0 ? len - 2 : len;
        if (d === target) return true;
        break;
      }
      case 'nearestWeekday': {
        const n = it.day;
        if (n > len) break; // the month has no day n: no fire this month
        const wd = weekday(y, m, n);
        let target = n;
        if (wd === 6) target = n === 1 ? 3 : n - 1;
        else if (wd === 0) target = n === len ? n - 2 : n + 1;
        if (d === target) return true;
        break;
      }
    }
  }
  return false;
}

function dowMatches(s: ReferenceSchedule, d: number, wd: number, len: number): boolean {
  if (s.dowValues.has(wd)) return true;
  for (const it of s.dowSpecial) {
    if (it.weekday !== wd) continue;
    if (it.kind === 'lastOf' && d + 7 > len) return true;
    if (it.kind === 'nth' && Math.floor((d - 1) / 7) + 1 === it.nth) return true;
  }
  return false;
}

/** Does the schedule fire on local calendar date y-m-d? */
export function dayMatches(s: ReferenceSchedule, y: number, m: number, d: number): boolean {
  if (!s.months.has(m)) return false;
  const len = daysIn(y, m);
  if (d > len) return false;
  const dm = domMatches(s, y, m, d, len);
  const wm = dowMatches(s, d, weekday(y, m, d), len);
  return s.domRestricted && s.dowRestricted ? dm || wm : dm && wm;
}

// ---------------------------------------------------------------------------------------------
// Time zones (Intl only)

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset (local wall clock minus UTC, ms) of `zone` at instant `utcMs`. */
export function zoneOffsetMs(zone: string, utcMs: number): number {
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
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  const whole = Math.floor(utcMs / 1000) * 1000;
  return wall - whole;
}

/**
 * How wall-clock instants of one local day map to UTC. `before`/`after` are the zone offsets in
 * effect before/after `transition` (a UTC instant); without a transition nearby both are equal.
 */
interface DayMapping {
  before: number;
  after: number;
  transition: number;
}

const MAX_OFFSET = 14 * 3_600_000; // UTC+14
const MIN_OFFSET = -12 * 3_600_000; // UTC-12

function dayMapping(zone: string, wallMidnight: number): DayMapping {
  // All UTC instants a wall time of this day can map to lie in [lo, hi).
  const lo = wallMidnight - MAX_OFFSET;
  const hi = wallMidnight + DAY_MS - MIN_OFFSET;
  const before = zoneOffsetMs(zone, lo);
  const after = zoneOffsetMs(zone, hi);
  if (before === after) return { before, after, transition: Infinity };
  // Binary search for the first second with the `after` offset.
  let a = lo / 1000;
  let b = hi / 1000;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (zoneOffsetMs(zone, mid * 1000) === before) a = mid;
    else b = mid;
  }
  return { before, after, transition: b * 1000 };
}

/** UTC instant for a wall time, or undefined if it falls into a gap. Ambiguous → earlier instant. */
function wallToUtc(map: DayMapping, wall: number): number | undefined {
  const t1 = wall - map.before;
  if (t1 < map.transition) return t1; // valid with the pre-transition offset; earliest candidate
  const t2 = wall - map.after;
  if (t2 >= map.transition) return t2;
  return undefined; // gap
}

// ---------------------------------------------------------------------------------------------
// Enumeration

export interface NextOptions {
  /** Stop searching at this UTC instant (exclusive). Default: base + 400 years (a full Gregorian cycle). */
  untilMs?: number;
}

/**
 * The first `n` fire instants (epoch ms, ascending) strictly after `baseUtcMs`. Fewer are returned
 * when the schedule has fewer fires before `untilMs`.
 */
export function nextFireTimes(
  expr: string,
  baseUtcMs: number,
  n: number,
  timeZone?: string,
  options: NextOptions = {},
): number[] {
  return nextFireTimesOf(parseReference(expr), baseUtcMs, n, timeZone, options);
}

export function nextFireTimesOf(
  s: ReferenceSchedule,
  baseUtcMs: number,
  n: number,
  timeZone?: string,
  options: NextOptions = {},
): number[] {
  const until = options.untilMs ?? baseUtcMs + 400 * 366 * DAY_MS;
  const out: number[] = [];
  if (n <= 0) return out;
  // Start at the local day containing the base; with a zone, one day earlier to be safe.
  let day = Math.floor(baseUtcMs / DAY_MS) - (timeZone ? 1 : 0);
  const lastDay = Math.floor((until - (timeZone ? MIN_OFFSET : 0)) / DAY_MS) + 1;
  const fixed: DayMapping = { before: 0, after: 0, transition: Infinity };
  for (; day <= lastDay; day++) {
    const wallMidnight = day * DAY_MS;
    const date = new Date(wallMidnight);
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (!dayMatches(s, y, m, d)) continue;
    // Skip whole days that end before the base (cheap, offset-independent bound).
    if (wallMidnight + DAY_MS - MIN_OFFSET <= baseUtcMs) continue;
    const map = timeZone ? dayMapping(timeZone, wallMidnight) : fixed;
    for (const h of s.hours) {
      for (const mi of s.minutes) {
        const hm = wallMidnight + h * 3_600_000 + mi * 60_000;
        // Whole minute certainly at/before base?
        if (hm + 59_000 - Math.min(map.before, map.after) <= baseUtcMs) continue;
        for (const sec of s.seconds) {
          const t = wallToUtc(map, hm + sec * 1000);
          if (t === undefined || t <= baseUtcMs) continue;
          if (t >= until) return out;
          out.push(t);
          if (out.length >= n) return out;
        }
      }
    }
  }
  return out;
}
