/** Facts about time zones the targets need, from Intl (the same tz data Node ships). */
import { knownZones } from '../compiler/zones.ts';
import { DST_TABLE_DATA, DST_ZONES } from './dst-zones.ts';

const cache = new Map<string, boolean>();

/**
 * Whether a zone's UTC offset changes during the year (checked over fixed years, so output is
 * stable). Asking Intl costs ~25 ms for the first zone of a process (ICU loads its date
 * formats), most of a one-definition `acore validate`: for the time zone data the table in
 * dst-zones.ts was made from (the same answers, test/zones.test.ts), the table answers.
 */
export function hasDaylightSaving(zone: string): boolean {
  let known = cache.get(zone);
  if (known === undefined) {
    known = fromTable(zone) ?? daylightSavingFromIntl(zone);
    cache.set(zone, known);
  }
  return known;
}

/** The rule itself, asked of Intl: the offsets of 15 January and 15 July, 2020 to 2030. */
export function daylightSavingFromIntl(zone: string): boolean {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offset = (t: number) => format.format(t).split(' ').pop();
  for (let year = 2020; year <= 2030; year++) if (offset(Date.UTC(year, 0, 15)) !== offset(Date.UTC(year, 6, 15))) return true;
  return false;
}

/** The zones the table covers: Intl's own list (canonical names) and UTC. */
export function tableZones(): string[] {
  return [...knownZones()];
}

/** This Node's time zone data, as the table names it. */
export function timeZoneData(): string {
  return `${process.versions.icu}/${process.versions.tz}`;
}

let table: Set<string> | null | undefined;

/** The table's answer, or undefined: another time zone data, or a zone it does not cover (an alias). */
function fromTable(zone: string): boolean | undefined {
  table ??= timeZoneData() === DST_TABLE_DATA ? new Set(DST_ZONES) : null;
  if (!table || !knownZones().has(zone)) return undefined;
  return table.has(zone);
}
