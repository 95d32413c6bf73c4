/** Sanity checks of the systemd-analyze wrapper used by the differential test. */
import { describe, expect, it } from 'vitest';
import { parseCalendarOutput, systemdElapses } from './systemd-analyze.ts';

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

describe('systemd-analyze wrapper', () => {
  it('maps results to specs, reports parse failures by spec, handles "never"', async () => {
    const base = Date.parse('2026-01-01T00:00:00Z');
    const r = await systemdElapses(['*-*-* 00:00', 'garbage spec', 'Mon *-02-31', '*-*-* 02:30:00 Europe/Berlin'], base, 3);
    expect(r.elapses.get('*-*-* 00:00')!.map(iso)).toEqual(['2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z']);
    expect(r.elapses.get('Mon *-02-31')).toEqual([]);
    expect(r.elapses.get('*-*-* 02:30:00 Europe/Berlin')!.map(iso)).toEqual([
      '2026-01-01T01:30:00Z',
      '2026-01-02T01:30:00Z',
      '2026-01-03T01:30:00Z',
    ]);
    expect(r.elapses.has('garbage spec')).toBe(false);
    expect(r.failures.get('garbage spec')).toMatch(/^Failed to parse calendar specification 'garbage spec'/);
  });

  it('batches across processes without mixing up results', async () => {
    const base = Date.parse('2026-01-01T00:00:00Z');
    const specs = Array.from({ length: 60 }, (_, i) => `*-*-* ${String(i % 24).padStart(2, '0')}:${String(i).padStart(2, '0')}:00`);
    const r = await systemdElapses(specs, base, 1, { batchSize: 7, parallel: 3 });
    specs.forEach((s, i) => {
      const want = Date.UTC(2026, 0, 1, i % 24, i);
      expect(r.elapses.get(s), s).toEqual([want > base ? want : want + 86_400_000]);
    });
  });

  it('prefers "(in UTC)" lines when present', () => {
    const out = [
      '  Original form: *-*-* 00:00',
      'Normalized form: *-*-* 00:00:00',
      '    Next elapse: Fri 2026-01-02 00:00:00 CET',
      '       (in UTC): Thu 2026-01-01 23:00:00 UTC',
      '       From now: 10 months 25 days ago',
      '',
    ].join('\n');
    expect(parseCalendarOutput(out).map((b) => b.map(iso))).toEqual([['2026-01-01T23:00:00Z']]);
  });
});
