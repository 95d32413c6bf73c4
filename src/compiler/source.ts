/**
 * Source text and positions: offsets → 1-based line/column, and offsets inside a YAML scalar's
 * decoded value → offsets in the file, so errors inside a cron expression or a rule point at
 * the exact character even when the scalar is quoted or folded.
 */
import type { Position, Range } from './diagnostics.ts';

export interface SourceFile {
  /** Path as shown to the user, e.g. `definitions/the-custodian/sweep.yaml`. */
  path: string;
  text: string;
}

export class LineIndex {
  readonly #starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#starts.push(i + 1);
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - this.#starts[lo]! + 1 };
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.#starts[line - 1];
    if (start === undefined) return '';
    const next = this.#starts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/**
 * Maps an offset in a scalar's decoded value to an offset in the source, by aligning the value
 * with the raw text greedily: quoting, escapes, indentation and folded line breaks only ever
 * add source characters, so each value character is found at or after the previous one.
 * Falls back to the scalar's start where alignment is lost (e.g. after an escape sequence).
 */
export function scalarOffsetMapper(text: string, value: string, start: number, end: number): (offset: number) => number {
  const map: number[] = [];
  let j = start;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    let k = j;
    while (k < end && text[k] !== ch && !(ch === ' ' && (text[k] === '\n' || text[k] === '\r'))) k++;
    if (k >= end) {
      while (map.length < value.length) map.push(map.length === 0 ? start : map[map.length - 1]!);
      break;
    }
    map.push(k);
    j = k + 1;
  }
  return (offset: number) => {
    if (value.length === 0) return start;
    if (offset >= value.length) return (map[value.length - 1] ?? start) + 1;
    return map[Math.max(0, offset)] ?? start;
  };
}
