/**
 * ACORE_TIMINGS=<file>: where a compile (or install, or diff) spends its time, for the benchmark (bench/run.mjs).
 * Stages: read (definitions from disk), load/validate/lower (the compiler), emit (targets),
 * locate (the targets' problems as diagnostics; a position is only found when a sort or the
 * report needs it, and that cost falls in emit or report), report (printing diagnostics), plan
 * (compare with the output directory), write; plus peak RSS. Written as JSON at exit.
 */
import { writeFileSync } from 'node:fs';
import type { Measure, Stage } from '../compiler/compile.ts';

export type CliStage = Stage | 'read' | 'report' | 'plan' | 'write';

export class Timings {
  readonly ms: Partial<Record<CliStage, number>> = {};
  readonly #started = performance.now();
  constructor(readonly file: string) {}

  readonly counts: Record<string, number> = {};
  /** A number worth knowing besides the times (e.g. how many definitions were reused). */
  count(name: string, n: number): void {
    this.counts[name] = n;
  }

  measure: Measure & (<T>(stage: CliStage, run: () => T) => T) = <T>(stage: CliStage, run: () => T): T => {
    const t = performance.now();
    try {
      return run();
    } finally {
      this.ms[stage] = (this.ms[stage] ?? 0) + performance.now() - t;
    }
  };

  save(): void {
    const total = performance.now() - this.#started;
    const round = (n: number) => Math.round(n * 100) / 100;
    const stages = Object.fromEntries(Object.entries(this.ms).map(([k, v]) => [k, round(v)]));
    writeFileSync(this.file, `${JSON.stringify({ stages, counts: this.counts, commandMs: round(total), maxRssKb: process.resourceUsage().maxRSS })}\n`);
  }
}

/** `timings.measure`, or a plain call of the stage when nothing is being timed. */
export function measureWith(timings: Timings | undefined): <T>(stage: CliStage, run: () => T) => T {
  return timings?.measure ?? ((_stage, run) => run());
}

/** Runs a command with its timings when ACORE_TIMINGS asks for them, saved however it ends. */
export async function withTimings<T>(env: Record<string, string | undefined>, run: (timings: Timings | undefined) => Promise<T>): Promise<T> {
  const timings = env.ACORE_TIMINGS ? new Timings(env.ACORE_TIMINGS) : undefined;
  try {
    return await run(timings);
  } finally {
    timings?.save();
  }
}
