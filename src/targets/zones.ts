/** Facts about time zones the targets need, from Intl (the same tz data Node ships). */

const cache = new Map<string, boolean>();

/** Whether a zone's UTC offset changes during the year (checked over fixed years, so output is stable). */
export function hasDaylightSaving(zone: string): boolean {
  let known = cache.get(zone);
  if (known === undefined) {
    const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    const offset = (t: number) => format.format(t).split(' ').pop();
    known = false;
    for (let year = 2020; year <= 2030 && !known; year++) known = offset(Date.UTC(year, 0, 15)) !== offset(Date.UTC(year, 6, 15));
    cache.set(zone, known);
  }
  return known;
}
