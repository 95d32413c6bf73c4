/**
 * Runs the real `systemd-analyze calendar` (systemd 252) and returns the elapse instants it
 * computes for each calendar spec.
 *
 *   TZ=UTC systemd-analyze calendar --base-time=@<epoch seconds> --iterations=N SPEC...
 *
 * `--base-time` accepts any systemd timestamp; `@<seconds since the epoch>` is unambiguous.
 * With TZ=UTC every "Next elapse:" / "Iter. #k:" timestamp is printed in UTC (if a "(in UTC):"
 * line follows, it wins). A spec that never elapses prints "Next elapse: never". A spec that does
 * not parse prints nothing on stdout and "Failed to parse calendar specification '<spec>': ..."
 * on stderr (and the exit status becomes 1); those are reported in `failures`.
 *
 * Note: systemd only computes elapses up to local year 2199; later fires are silently dropped.
 */
import { execFile } from 'node:child_process';

export const SYSTEMD_MAX_EXCLUSIVE_MS = Date.UTC(2199, 0, 1); // compare only before this instant

export interface AnalyzeResult {
  /** Elapse instants (epoch ms, as printed, ascending) per successfully parsed spec. */
  elapses: Map<string, number[]>;
  /** Spec → systemd's error line, for specs it failed to parse. */
  failures: Map<string, string>;
}

const STAMP = /^\w{3} (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (\S+)$/;

function parseStamp(text: string, requireUtc: boolean): number {
  const m = STAMP.exec(text.trim());
  if (!m) throw new Error(`systemd-analyze: unparseable timestamp '${text}'`);
  if (requireUtc && m[7] !== 'UTC') throw new Error(`systemd-analyze: timestamp not in UTC: '${text}'`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

interface Block {
  elapses: number[];
  lastNeedsUtc: boolean;
}

/** Parse stdout into one block per successfully parsed spec, in argument order. */
export function parseCalendarOutput(stdout: string): number[][] {
  const blocks: Block[] = [];
  let cur: Block | undefined;
  let openedByOriginal = false;
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const key = colon >= 0 ? line.slice(0, colon) : line;
    const value = colon >= 0 ? line.slice(colon + 1).trim() : '';
    if (key === 'Original form') {
      cur = { elapses: [], lastNeedsUtc: false };
      blocks.push(cur);
      openedByOriginal = true;
    } else if (key === 'Normalized form') {
      if (!openedByOriginal) {
        cur = { elapses: [], lastNeedsUtc: false };
        blocks.push(cur);
      }
      openedByOriginal = false;
    } else if (key === 'Next elapse' || /^Iter\. #\d+$/.test(key)) {
      if (!cur) throw new Error(`systemd-analyze: elapse line outside a block: '${line}'`);
      if (value === 'never') continue;
      if (cur.lastNeedsUtc) throw new Error(`systemd-analyze: missing '(in UTC)' line before '${line}'`);
      const isUtc = / UTC$/.test(value);
      cur.elapses.push(isUtc ? parseStamp(value, true) : NaN);
      cur.lastNeedsUtc = !isUtc;
    } else if (key === '(in UTC)') {
      if (!cur || cur.elapses.length === 0) throw new Error(`systemd-analyze: stray '${line}'`);
      cur.elapses[cur.elapses.length - 1] = parseStamp(value, true);
      cur.lastNeedsUtc = false;
    } else if (key === 'From now' || key === 'Warning') {
      // ignored
    } else {
      throw new Error(`systemd-analyze: unexpected output line '${line}'`);
    }
  }
  for (const b of blocks) {
    if (b.lastNeedsUtc) throw new Error('systemd-analyze: last elapse had no UTC form');
  }
  return blocks.map((b) => b.elapses);
}

function runOnce(specs: string[], baseMs: number, iterations: number, tz = 'UTC'): Promise<{ stdout: string; stderr: string }> {
  const args = ['calendar', `--base-time=@${Math.floor(baseMs / 1000)}`, `--iterations=${iterations}`, '--', ...specs];
  return new Promise((resolve, reject) => {
    execFile(
      'systemd-analyze',
      args,
      { env: { ...process.env, TZ: tz, LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' }, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        // Exit status 1 just means some spec failed to parse; anything else is fatal.
        if (err && (err as { code?: unknown }).code !== 1) reject(err);
        else resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * Compute `iterations` elapses after `baseMs` for every spec (deduplicated, batched, several
 * processes in parallel).
 */
export async function systemdElapses(
  specs: readonly string[],
  baseMs: number,
  iterations: number,
  { batchSize = 250, parallel = 4, tz = 'UTC' }: { batchSize?: number; parallel?: number; tz?: string } = {},
): Promise<AnalyzeResult> {
  const unique = [...new Set(specs)];
  for (const s of unique) {
    if (s.startsWith('-')) throw new Error(`spec starts with '-': ${s}`);
  }
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += batchSize) batches.push(unique.slice(i, i + batchSize));
  const result: AnalyzeResult = { elapses: new Map(), failures: new Map() };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const { stdout, stderr } = await runOnce(batch, baseMs, iterations, tz);
      const failed = new Map<string, string>();
      for (const line of stderr.split('\n')) {
        if (line.trim() === '') continue;
        const m = /^Failed to parse calendar specification '(.*)': .*$/.exec(line);
        if (m) failed.set(m[1]!, line);
        else throw new Error(`systemd-analyze: unexpected stderr: ${line}`);
      }
      const ok = batch.filter((s) => !failed.has(s));
      const blocks = parseCalendarOutput(stdout);
      if (blocks.length !== ok.length) {
        throw new Error(`systemd-analyze: ${blocks.length} result blocks for ${ok.length} parsed specs (failures: ${[...failed.keys()].join(' | ')})`);
      }
      ok.forEach((s, i) => result.elapses.set(s, blocks[i]!));
      for (const [s, line] of failed) result.failures.set(s, line);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, batches.length) }, worker));
  return result;
}
