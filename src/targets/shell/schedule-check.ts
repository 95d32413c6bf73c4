/**
 * A POSIX sh function `acore_fires` that says whether the current minute is a fire time of a
 * schedule, for schedulers that cannot express it themselves (Debian's cron has no CRON_TZ and
 * no L/W/#): the crontab line runs on a superset of the fire times and this check keeps exactly
 * the right ones. Meaning as in src/compiler/cron/schedule.ts; in a time zone, a local time
 * that does not exist never matches and an ambiguous one matches only its first occurrence
 * (as systemd does). Needs GNU date (coreutils) for TZ= and -d.
 */
import type { CronSchedule } from '../../compiler/ir.ts';

const list = (values: number[]) => ` ${values.join(' ')} `;

/** The sh statements defining `acore_fires` (returns 0 = fire, 1 = not now, 2 = date failed). */
export function scheduleCheck(s: CronSchedule, timezone?: string): string[] {
  const tz = timezone ? `TZ='${timezone}' ` : '';
  const body: string[] = [
    `acore_now=$(${tz}date '+%Y %m %d %H %M %w') || return 2`,
    // Two-digit fields: drop one leading zero so sh arithmetic does not read them as octal.
    'set -- $acore_now; y=$1; mo=${2#0}; d=${3#0}; h=${4#0}; mi=${5#0}; wd=$6',
  ];
  const member = (values: number[], full: number, v: string) => {
    if (values.length !== full) body.push(`case "${list(values)}" in *" ${v} "*) ;; *) return 1 ;; esac`);
  };
  member(s.minutes, 60, '$mi');
  member(s.hours, 24, '$h');
  member(s.months, 12, '$mo');
  body.push(...dayRule(s));
  if (timezone) {
    // The second occurrence of an ambiguous local time: clocks go back 1 h, 30 min (Lord
    // Howe) or 2 h (Troll), so the same wall time 30 min, 1 h or 2 h ago means "seen it".
    body.push(
      `for acore_back in '30 minutes' '1 hour' '2 hours'; do [ "$(${tz}date -d "-$acore_back" '+%Y %m %d %H %M')" = "$y $2 $3 $4 $5" ] && return 1; done`,
    );
  }
  body.push('return 0');
  return ['acore_fires() {', ...body.map((l) => `  ${l}`), '}'];
}

function dayRule(s: CronSchedule): string[] {
  const days = s.daysOfMonth.flatMap((i) => (i.kind === 'day' ? [i.day] : []));
  const weekdays = s.daysOfWeek.flatMap((i) => (i.kind === 'weekday' ? [i.weekday] : []));
  const domAll = days.length === 31;
  const dowAll = weekdays.length === 7;
  const extensions = s.daysOfMonth.some((i) => i.kind !== 'day') || s.daysOfWeek.some((i) => i.kind !== 'weekday');
  if (domAll && dowAll && !extensions) return [];
  const out: string[] = [];
  const needsLength = s.daysOfMonth.some((i) => i.kind !== 'day') || s.daysOfWeek.some((i) => i.kind === 'last');
  if (needsLength) {
    out.push(
      'case $mo in 2) if [ $((y % 4)) -eq 0 ] && { [ $((y % 100)) -ne 0 ] || [ $((y % 400)) -eq 0 ]; }; then len=29; else len=28; fi ;; 4|6|9|11) len=30 ;; *) len=31 ;; esac',
    );
  }
  // dom / dow: 1 when the day matches that field.
  out.push(`dom=${domAll ? 1 : 0}; dow=${dowAll ? 1 : 0}`);
  if (!domAll && days.length > 0) out.push(`case "${list(days)}" in *" $d "*) dom=1 ;; esac`);
  // Weekday of day n of this month, from today's: (wd + n - d) mod 7, kept non-negative.
  const weekdayOf = (n: string) => `$(( (wd + ${n} - d + 35) % 7 ))`;
  for (const item of s.daysOfMonth) {
    if (item.kind === 'last') out.push(`[ "$d" -eq $((len - ${item.offset})) ] && dom=1`);
    if (item.kind === 'last-weekday') {
      out.push(`t=$len; w=${weekdayOf('len')}; [ $w -eq 6 ] && t=$((len - 1)); [ $w -eq 0 ] && t=$((len - 2)); [ "$d" -eq $t ] && dom=1`);
    }
    if (item.kind === 'nearest-weekday') {
      const n = item.day;
      out.push(
        `if [ ${n} -le $len ]; then t=${n}; w=${weekdayOf(String(n))}; ` +
          `[ $w -eq 6 ] && { if [ ${n} -eq 1 ]; then t=3; else t=${n - 1}; fi; }; ` +
          `[ $w -eq 0 ] && { if [ ${n} -eq $len ]; then t=${n - 2}; else t=${n + 1}; fi; }; ` +
          `[ "$d" -eq $t ] && dom=1; fi`,
      );
    }
  }
  if (!dowAll && weekdays.length > 0) out.push(`case "${list(weekdays)}" in *" $wd "*) dow=1 ;; esac`);
  for (const item of s.daysOfWeek) {
    if (item.kind === 'nth') out.push(`[ "$wd" -eq ${item.weekday} ] && [ $(( (d + 6) / 7 )) -eq ${item.nth} ] && dow=1`);
    if (item.kind === 'last') out.push(`[ "$wd" -eq ${item.weekday} ] && [ $((d + 7)) -gt $len ] && dow=1`);
  }
  // crontab(5): both restricted → either; a field starting with * → both.
  out.push(s.domStar || s.dowStar ? '[ $dom -eq 1 ] && [ $dow -eq 1 ] || return 1' : '[ $dom -eq 1 ] || [ $dow -eq 1 ] || return 1');
  return out;
}

/**
 * The crontab fields that run often enough for `acore_fires` to see every fire time: with a
 * zone, every quarter hour that could be one of the minutes in any UTC offset (offsets are
 * multiples of 15 minutes); without, the schedule's own minutes, hours and months.
 */
export function supersetFields(s: CronSchedule, timezone?: string): string {
  if (timezone) {
    const minutes = [...new Set(s.minutes.flatMap((m) => [0, 15, 30, 45].map((k) => (m + k) % 60)))].sort((a, b) => a - b);
    return `${cronList(minutes, 0, 59)} * * * *`;
  }
  return `${cronList(s.minutes, 0, 59)} ${cronList(s.hours, 0, 23)} * ${cronList(s.months, 1, 12)} *`;
}

/** A crontab(5) field: `*`, or values and a-b ranges. */
export function cronList(values: number[], min: number, max: number): string {
  if (values.length === max - min + 1) return '*';
  const runs: [number, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else runs.push([v, v]);
  }
  return runs.map(([a, b]) => (a === b ? `${a}` : b === a + 1 ? `${a},${b}` : `${a}-${b}`)).join(',');
}
