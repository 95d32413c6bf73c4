/**
 * src/targets/dst-zones.ts: which zones change their UTC offset during the year, for the time
 * zone data of the Node.js that made it (a table, since asking Intl costs ~25 ms of a cold
 * start). Made by this test (`npm run golden`, reviewed); the answers are checked against Intl
 * for every zone, whatever the data.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DST_TABLE_DATA } from '../src/targets/dst-zones.ts';
import { daylightSavingFromIntl, hasDaylightSaving, tableZones, timeZoneData } from '../src/targets/zones.ts';
import { ROOT } from './helpers.ts';

describe('daylight saving time by zone', () => {
  // Another Node.js's data: the table is not used there (Intl is asked), so it is compared only
  // where it applies, and remade from this data by `npm run golden`.
  it.skipIf(timeZoneData() !== DST_TABLE_DATA && !process.env.ACORE_GOLDEN)('the table is what Intl says for this time zone data (regenerate with npm run golden)', async () => {
    const dst = tableZones().filter(daylightSavingFromIntl).sort();
    const text = [
      '// Made by test/zones.test.ts (`npm run golden`) from Node.js\'s time zone data; do not edit.',
      '',
      '/** The time zone data the table was made from (process.versions icu/tz); with other data, Intl is asked. */',
      `export const DST_TABLE_DATA = '${timeZoneData()}';`,
      '',
      "/** The zones of Intl.supportedValuesOf('timeZone') and UTC whose UTC offset changes during a year from 2020 to 2030. */",
      'export const DST_ZONES: readonly string[] = [',
      ...dst.map((z) => `  '${z}',`),
      '];',
      '',
    ].join('\n');
    await expect(text).toMatchFileSnapshot(join(ROOT, 'src', 'targets', 'dst-zones.ts'));
  });

  it('hasDaylightSaving answers as Intl does, for every zone, UTC and aliases', () => {
    const zones = [...tableZones(), 'US/Eastern', 'Etc/GMT+5', 'GMT', 'Asia/Calcutta'];
    const wrong = zones.filter((z) => hasDaylightSaving(z) !== daylightSavingFromIntl(z));
    expect(wrong).toEqual([]);
    // Both answers occur (the check can fail either way).
    expect(hasDaylightSaving('Europe/Berlin')).toBe(true);
    expect(hasDaylightSaving('Asia/Kolkata')).toBe(false);
  });
});
