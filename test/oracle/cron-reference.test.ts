/**
 * Unit tests of the cron oracle against hand-computed calendar facts, so that the oracle itself
 * can fail (the differential test trusts it).
 */
import { describe, expect, it } from 'vitest';
import { nextFireTimes, parseReference, zoneOffsetMs } from './cron-reference.ts';

const at = (s: string): number => Date.parse(s);
const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const next = (expr: string, base: string, n: number, zone?: string): string[] =>
  nextFireTimes(expr, at(base), n, zone).map(iso);

describe('cron-reference: basic fields', () => {
  it('@weekly / dow 0 is Sunday: Thu 2026-01-01 → Sun 2026-01-04', () => {
    expect(next('0 0 * * 0', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z']);
    expect(next('@weekly', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T00:00:00Z']);
  });
  it('dow 7 is Sunday too, and 5-7 is Fri, Sat, Sun', () => {
    expect(next('0 0 * * 7', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T00:00:00Z']);
    expect(next('0 0 * * 5-7', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-02T00:00:00Z',
      '2026-01-03T00:00:00Z',
      '2026-01-04T00:00:00Z',
      '2026-01-09T00:00:00Z',
    ]);
  });
  it('fires strictly after the base', () => {
    expect(next('0 0 * * *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-02T00:00:00Z']);
    expect(next('0 0 * * *', '2025-12-31T23:59:59Z', 1)).toEqual(['2026-01-01T00:00:00Z']);
  });
  it('macros', () => {
    expect(next('@yearly', '2026-01-01T00:00:00Z', 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(next('@annually', '2026-03-01T00:00:00Z', 1)).toEqual(['2027-01-01T00:00:00Z']);
    expect(next('@monthly', '2026-01-15T00:00:00Z', 1)).toEqual(['2026-02-01T00:00:00Z']);
    expect(next('@daily', '2026-01-01T12:00:00Z', 1)).toEqual(['2026-01-02T00:00:00Z']);
    expect(next('@midnight', '2026-01-01T12:00:00Z', 1)).toEqual(['2026-01-02T00:00:00Z']);
    expect(next('@hourly', '2026-01-01T12:30:00Z', 1)).toEqual(['2026-01-01T13:00:00Z']);
  });
  it('steps: */7, 1-30/7, 5/15, 0-59/59', () => {
    expect(parseReference('*/7 * * * *').minutes).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 56]);
    expect(parseReference('1-30/7 * * * *').minutes).toEqual([1, 8, 15, 22, 29]);
    expect(parseReference('5/15 * * * *').minutes).toEqual([5, 20, 35, 50]);
    expect(parseReference('0-59/59 * * * *').minutes).toEqual([0, 59]);
    expect(parseReference('0 5/6 * * *').hours).toEqual([5, 11, 17, 23]);
    expect(parseReference('0 0 10/10 * *').domValues).toEqual(new Set([10, 20, 30]));
  });
  it('dow a/n runs to 6 (Saturday), not to 7', () => {
    expect(parseReference('0 0 * * 1/2').dowValues).toEqual(new Set([1, 3, 5]));
    expect(parseReference('0 0 * * 0/3').dowValues).toEqual(new Set([0, 3, 6]));
  });
  it('names are case-insensitive and ranges of names work', () => {
    expect(parseReference('0 0 1 JAN,jul *').months).toEqual(new Set([1, 7]));
    expect(parseReference('0 0 1 mar-May *').months).toEqual(new Set([3, 4, 5]));
    expect(parseReference('0 9 * * Mon-FRI').dowValues).toEqual(new Set([1, 2, 3, 4, 5]));
  });
  it('? is *', () => {
    expect(next('0 0 ? * 1', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z']);
  });
  it('six fields: leading seconds', () => {
    expect(next('*/10 * * * * *', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T00:00:10Z',
      '2026-01-01T00:00:20Z',
      '2026-01-01T00:00:30Z',
    ]);
    expect(next('30 0 0 1 1 *', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-01T00:00:30Z', '2027-01-01T00:00:30Z']);
  });
  it('rejects malformed expressions', () => {
    for (const bad of ['60 * * * *', '* * * *', '5-1 * * * *', '0 0 * * 1#6', '0 0 32 * *', '0 0 0 * *', '0 0 * 13 *', '*/0 * * * *', '0 0 * * 8', '@fortnightly']) {
      expect(() => parseReference(bad), bad).toThrow();
    }
  });
});

describe('cron-reference: day rule (crontab(5))', () => {
  it('both restricted → OR: Friday the 13th fires on every Friday and every 13th', () => {
    expect(next('0 0 13 * 5', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-02T00:00:00Z',
      '2026-01-09T00:00:00Z',
      '2026-01-13T00:00:00Z',
      '2026-01-16T00:00:00Z',
    ]);
  });
  it('dom starting with * → AND: */2 and Monday = odd-day Mondays', () => {
    // Mondays in Jan 2026: 5, 12, 19, 26.
    expect(next('0 0 */2 * 1', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-05T00:00:00Z', '2026-01-19T00:00:00Z']);
  });
  it('dow starting with * → AND: the 1st when it is Sun/Tue/Thu/Sat', () => {
    // 2026-01-01 Thu, 02-01 Sun, 03-01 Sun, 04-01 Wed (no), 05-01 Fri (no), 06-01 Mon (no), 07-01 Wed (no), 08-01 Sat.
    expect(next('0 0 1 * */2', '2025-12-31T00:00:00Z', 4)).toEqual([
      '2026-01-01T00:00:00Z',
      '2026-02-01T00:00:00Z',
      '2026-03-01T00:00:00Z',
      '2026-08-01T00:00:00Z',
    ]);
  });
  it('31 Feb OR Monday fires on Mondays in February', () => {
    expect(next('0 0 31 2 1', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-02-02T00:00:00Z', '2026-02-09T00:00:00Z']);
  });
});

describe('cron-reference: month lengths and leap years', () => {
  it('Feb 29 only in leap years (2100 is not one)', () => {
    expect(next('0 0 29 2 *', '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']);
    expect(next('0 0 29 2 *', '2097-01-01T00:00:00Z', 1)).toEqual(['2104-02-29T00:00:00Z']);
  });
  it('non-existent days never match', () => {
    expect(next('0 0 31 2 *', '2026-01-01T00:00:00Z', 1)).toEqual([]);
    expect(next('0 0 31 4,6,9,11 *', '2026-01-01T00:00:00Z', 1)).toEqual([]);
    expect(next('0 0 30 2,3 *', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-03-30T00:00:00Z', '2027-03-30T00:00:00Z']);
  });
});

describe('cron-reference: L / W / # extensions', () => {
  it('L in February 2028 → Feb 29; 2027 → Feb 28', () => {
    expect(next('0 0 L 2 *', '2028-01-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00Z']);
    expect(next('0 0 L 2 *', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-02-28T00:00:00Z']);
  });
  it('L-n counts back from the last day; no fire when it would fall before the 1st', () => {
    expect(next('0 0 L-3 * *', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-28T00:00:00Z', '2026-02-25T00:00:00Z']);
    // L-30: day 1 of 31-day months only.
    expect(next('0 0 L-30 * *', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-03-01T00:00:00Z', '2026-05-01T00:00:00Z']);
    // L-28 in Feb: day 1 in leap years only.
    expect(next('0 0 L-28 2 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2028-02-01T00:00:00Z']);
  });
  it('15W: 15th is a Saturday (Aug 2026) → Friday 14th; a Sunday (Nov 2026) → Monday 16th', () => {
    expect(next('0 0 15W 8 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-08-14T00:00:00Z']);
    expect(next('0 0 15W 11 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-11-16T00:00:00Z']);
    expect(next('0 0 15W 1 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-15T00:00:00Z']); // Thursday
  });
  it('1W on a Saturday → Monday the 3rd (does not leave the month)', () => {
    expect(next('0 0 1W 8 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-08-03T00:00:00Z']);
    // Feb 1 2026 is a Sunday → Monday 2nd.
    expect(next('0 0 1W 2 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-02-02T00:00:00Z']);
  });
  it('31W on a Sunday that is the last day → Friday 29th; no fire in months without a 31st', () => {
    expect(next('0 0 31W 5 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-05-29T00:00:00Z']);
    expect(next('0 0 31W 4,6 *', '2026-01-01T00:00:00Z', 1)).toEqual([]);
    expect(next('0 0 30W 4 *', '2028-01-01T00:00:00Z', 1)).toEqual(['2028-04-28T00:00:00Z']); // Apr 30 2028 is a Sunday
  });
  it('LW: last Monday–Friday of the month', () => {
    // Jan 31 2026 Saturday → 30; Feb 28 2026 Saturday → 27; May 31 2026 Sunday → 29.
    expect(next('0 0 LW * *', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-30T00:00:00Z',
      '2026-02-27T00:00:00Z',
      '2026-03-31T00:00:00Z',
    ]);
    expect(next('0 0 LW 5 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-05-29T00:00:00Z']);
  });
  it('5L: last Friday of January 2026 is the 30th', () => {
    expect(next('0 0 * * 5L', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-30T00:00:00Z', '2026-02-27T00:00:00Z']);
    expect(next('0 0 * * 7L', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-25T00:00:00Z']);
  });
  it('d#k: first Monday, fifth Friday, second Sunday', () => {
    expect(next('0 0 * * 1#1', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-05T00:00:00Z', '2026-02-02T00:00:00Z']);
    expect(next('0 0 * * 5#5', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-30T00:00:00Z']);
    expect(next('0 0 * * 0#2', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-11T00:00:00Z']);
    // Fifth Sunday of February: only when Feb 29 is a Sunday (2032).
    expect(next('0 0 * 2 0#5', '2026-01-01T00:00:00Z', 1)).toEqual(['2032-02-29T00:00:00Z']);
  });
  it('extensions are restrictions: L with a restricted dow is OR', () => {
    // last day of Jan 2026 (Sat 31) OR any Friday.
    expect(next('0 0 L 1 5', '2026-01-20T00:00:00Z', 3)).toEqual([
      '2026-01-23T00:00:00Z',
      '2026-01-30T00:00:00Z',
      '2026-01-31T00:00:00Z',
    ]);
  });
});

describe('cron-reference: time zones', () => {
  it('offsets via Intl', () => {
    expect(zoneOffsetMs('Europe/Berlin', at('2026-01-15T12:00:00Z'))).toBe(3_600_000);
    expect(zoneOffsetMs('Europe/Berlin', at('2026-07-15T12:00:00Z'))).toBe(7_200_000);
    expect(zoneOffsetMs('Australia/Lord_Howe', at('2026-01-15T12:00:00Z'))).toBe(11 * 3_600_000);
    expect(zoneOffsetMs('Australia/Lord_Howe', at('2026-07-15T12:00:00Z'))).toBe(10.5 * 3_600_000);
  });
  it('Berlin 02:30 does not exist on 2026-03-29 (spring forward) → skipped', () => {
    expect(next('30 2 * * *', '2026-03-27T00:00:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-03-27T01:30:00Z',
      '2026-03-28T01:30:00Z',
      '2026-03-30T00:30:00Z',
    ]);
  });
  it('Berlin 02:30 happens twice on 2026-10-25 → fires once, at the earlier (CEST) instant', () => {
    expect(next('30 2 * * *', '2026-10-24T00:00:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-10-24T00:30:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
  });
  it('Berlin: every 30 minutes from 01:00 through 03:30 on both transition days', () => {
    expect(next('0,30 1-3 29 3 *', '2026-03-28T00:00:00Z', 5, 'Europe/Berlin')).toEqual([
      '2026-03-29T00:00:00Z', // 01:00 CET
      '2026-03-29T00:30:00Z', // 01:30 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST (02:00 and 02:30 do not exist)
      '2026-03-29T01:30:00Z', // 03:30 CEST
      '2027-03-28T23:00:00Z', // 2027-03-29 01:00 CEST (DST began on 2027-03-28)
    ]);
    expect(next('0,30 1-3 25 10 *', '2026-10-24T12:00:00Z', 6, 'Europe/Berlin')).toEqual([
      '2026-10-24T23:00:00Z', // 01:00 CEST
      '2026-10-24T23:30:00Z', // 01:30 CEST
      '2026-10-25T00:00:00Z', // 02:00 CEST (first 02:00)
      '2026-10-25T00:30:00Z', // 02:30 CEST (first 02:30)
      '2026-10-25T02:00:00Z', // 03:00 CET
      '2026-10-25T02:30:00Z', // 03:30 CET
    ]);
  });
  it('New York 01:30 on 2026-11-01 (ambiguous) fires once at 05:30Z (EDT)', () => {
    expect(next('30 1 * * *', '2026-10-31T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-11-01T05:30:00Z',
      '2026-11-02T06:30:00Z',
    ]);
  });
  it('Lord Howe: 02:15 missing on 2026-10-04, 01:45 once on 2026-04-05 (+11 instant)', () => {
    expect(next('15 2 * * *', '2026-10-02T00:00:00Z', 2, 'Australia/Lord_Howe')).toEqual([
      '2026-10-02T15:45:00Z', // Oct 3 02:15 +10:30
      '2026-10-04T15:15:00Z', // Oct 5 02:15 +11 (Oct 4 skipped)
    ]);
    expect(next('45 1 * * *', '2026-04-03T00:00:00Z', 3, 'Australia/Lord_Howe')).toEqual([
      '2026-04-03T14:45:00Z', // Apr 4 01:45 +11
      '2026-04-04T14:45:00Z', // Apr 5 01:45 +11 (first of two)
      '2026-04-05T15:15:00Z', // Apr 6 01:45 +10:30
    ]);
  });
  it('UTC zone equals no zone', () => {
    expect(next('*/7 3 * * 1', '2026-01-01T00:00:00Z', 20, 'UTC')).toEqual(next('*/7 3 * * 1', '2026-01-01T00:00:00Z', 20));
  });
});
