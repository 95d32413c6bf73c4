/**
 * Cron expression parser: crontab(5) five-field syntax, cron-parser's six-field form with a
 * leading seconds field, @-macros, and the Quartz day extensions (L, L-n, LW, nW, nL, n#k).
 *
 * Errors carry offsets into the expression so the caller can point at the exact field.
 */
import {
  type CronSchedule,
  type DomItem,
  type DowItem,
  MONTH_NAMES,
  WEEKDAY_NAMES,
} from './schedule.ts';

export interface CronError {
  code: 'cron-syntax' | 'cron-range' | 'cron-step';
  /** Absent means error. */
  severity?: 'warning';
  message: string;
  /** Offset into the expression string and length of the offending text. */
  offset: number;
  length: number;
}

export type CronParseResult =
  | { ok: true; schedule: CronSchedule; warnings: CronError[] }
  | { ok: false; errors: CronError[] };

/** crontab(5) macros. @weekly is Sunday midnight (systemd's own `weekly` is Monday). */
export const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

type FieldName = 'second' | 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week';

interface FieldSpec {
  name: FieldName;
  min: number;
  max: number;
  names?: readonly string[];
  /** Value of names[0]. */
  namesBase?: number;
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DOM: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesBase: 1 };
const DOW: FieldSpec = { name: 'day-of-week', min: 0, max: 7, names: WEEKDAY_NAMES, namesBase: 0 };

interface Token {
  text: string;
  offset: number;
}

function splitFields(expr: string): Token[] {
  const out: Token[] = [];
  const re = /[^ \t]+/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) out.push({ text: m[0], offset: m.index });
  return out;
}

// Fleets repeat a few expressions thousands of times; results are immutable, so each text is parsed once.
const parsed = new Map<string, CronParseResult>();

export function parseCron(input: string): CronParseResult {
  let result = parsed.get(input);
  if (result === undefined) {
    result = parseUncached(input);
    if (parsed.size < 10_000) parsed.set(input, result);
  }
  return result;
}

function parseUncached(input: string): CronParseResult {
  const errors: CronError[] = [];
  const expression = input.trim();
  const lead = input.length - input.trimStart().length;

  if (/[\r\n]/.test(expression)) {
    const at = expression.search(/[\r\n]/);
    return fail({ code: 'cron-syntax', message: 'a cron expression must be on one line', offset: lead + at, length: 1 });
  }
  if (expression === '') {
    return fail({ code: 'cron-syntax', message: 'the cron expression is empty', offset: 0, length: input.length });
  }

  let macro: string | undefined;
  let body = expression;
  let bodyOffset = lead;
  if (expression.startsWith('@')) {
    const expansion = MACROS[expression.toLowerCase()];
    if (!expansion) {
      const hint =
        expression.toLowerCase() === '@reboot'
          ? '@reboot is not a schedule; it cannot be compiled to a calendar timer'
          : `unknown macro '${expression}'; expected one of ${Object.keys(MACROS).join(', ')}`;
      return fail({ code: 'cron-syntax', message: hint, offset: lead, length: expression.length });
    }
    macro = expression.toLowerCase();
    body = expansion;
    bodyOffset = -1; // positions inside an expansion point at the macro itself
  }

  const fields = splitFields(body);
  if (fields.length !== 5 && fields.length !== 6) {
    const message =
      fields.length === 7
        ? 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds field; a year field is not supported'
        : `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds field, found ${fields.length}`;
    return fail({ code: 'cron-syntax', message, offset: lead, length: expression.length });
  }
  const hasSeconds = fields.length === 6;
  const specs = hasSeconds ? [SECOND, MINUTE, HOUR, DOM, MONTH, DOW] : [MINUTE, HOUR, DOM, MONTH, DOW];
  const at = (t: Token): Token =>
    bodyOffset < 0 ? { text: t.text, offset: lead } : { text: t.text, offset: bodyOffset + t.offset };
  const tok = (i: number): Token => at(fields[i]!);

  const base = hasSeconds ? 1 : 0;
  const seconds = hasSeconds ? parseNumericField(tok(0), SECOND, errors) : [0];
  const minutes = parseNumericField(tok(base), specs[base]!, errors);
  const hours = parseNumericField(tok(base + 1), HOUR, errors);
  const dom = parseDomField(tok(base + 2), errors);
  const months = parseNumericField(tok(base + 3), MONTH, errors);
  const dow = parseDowField(tok(base + 4), errors);

  if (macro && errors.some((e) => e.severity !== 'warning')) {
    // Cannot happen for the built-in expansions; guard anyway so a bad table is visible.
    return fail({ code: 'cron-syntax', message: `internal: macro ${macro} did not parse`, offset: lead, length: expression.length });
  }
  const warnings = errors.filter((e) => e.severity === 'warning');
  if (warnings.length !== errors.length) return { ok: false, errors: errors.filter((e) => e.severity !== 'warning') };

  const schedule: CronSchedule = {
    expression,
    hasSeconds,
    seconds,
    minutes,
    hours,
    months,
    daysOfMonth: dom.items,
    daysOfWeek: dow.items,
    domStar: dom.star,
    dowStar: dow.star,
  };
  if (macro) schedule.macro = macro;
  return { ok: true, schedule, warnings };
}

function fail(error: CronError): CronParseResult {
  return { ok: false, errors: [error] };
}

interface Element {
  text: string;
  offset: number;
}

function splitList(field: Token, errors: CronError[], spec: FieldSpec): Element[] | undefined {
  const parts = field.text.split(',');
  const out: Element[] = [];
  let offset = field.offset;
  for (const text of parts) {
    if (text === '') {
      errors.push({
        code: 'cron-syntax',
        message: `empty list element in the ${spec.name} field`,
        offset: Math.max(field.offset, offset - 1),
        length: 1,
      });
      return undefined;
    }
    out.push({ text, offset });
    offset += text.length + 1;
  }
  return out;
}

/** Parses a number or (for month/day-of-week) a three-letter name. */
function parseValue(text: string, offset: number, spec: FieldSpec, errors: CronError[]): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const n = Number.parseInt(text, 10);
    if (n < spec.min || n > spec.max) {
      errors.push({
        code: 'cron-range',
        message: `${n} is out of range for the ${spec.name} field (${spec.min}-${spec.max})`,
        offset,
        length: text.length,
      });
      return undefined;
    }
    return n;
  }
  if (spec.names && /^[a-z]+$/i.test(text)) {
    const idx = spec.names.indexOf(text.toLowerCase() as never);
    if (idx >= 0) return idx + (spec.namesBase ?? 0);
    errors.push({
      code: 'cron-syntax',
      message: `unknown ${spec.name} name '${text}'; expected one of ${spec.names.join(', ')}`,
      offset,
      length: text.length,
    });
    return undefined;
  }
  errors.push({
    code: 'cron-syntax',
    message: describeBadValue(text, spec),
    offset,
    length: Math.max(1, text.length),
  });
  return undefined;
}

function describeBadValue(text: string, spec: FieldSpec): string {
  if (text === '') return `missing value in the ${spec.name} field`;
  if (/^h/i.test(text)) return `'H' (hashed values) is not supported: it does not give a deterministic schedule`;
  if (/[lw#]/i.test(text) && spec.name !== 'day-of-month' && spec.name !== 'day-of-week')
    return `'${text}' is not valid in the ${spec.name} field (L, W and # are only allowed in the day fields)`;
  return spec.names
    ? `'${text}' is not a valid ${spec.name} value; expected a number ${spec.min}-${spec.max} or a name`
    : `'${text}' is not a valid ${spec.name} value; expected a number ${spec.min}-${spec.max}`;
}

/**
 * `*`, `?`, `a`, `a-b`, each optionally followed by `/step`; `a/step` means `a-max/step`
 * (cron-parser and cronie; Vixie cron rejects it).
 */
function parseRangeElement(el: Element, spec: FieldSpec, errors: CronError[]): number[] | undefined {
  const slash = el.text.indexOf('/');
  const rangeText = slash >= 0 ? el.text.slice(0, slash) : el.text;
  const stepText = slash >= 0 ? el.text.slice(slash + 1) : undefined;
  let step = 1;
  if (stepText !== undefined) {
    const stepOffset = el.offset + slash + 1;
    if (!/^[0-9]+$/.test(stepText)) {
      errors.push({
        code: 'cron-step',
        message: stepText === '' ? 'missing step after /' : `step '${stepText}' is not a positive number`,
        offset: stepText === '' ? el.offset + slash : stepOffset,
        length: Math.max(1, stepText.length),
      });
      return undefined;
    }
    step = Number.parseInt(stepText, 10);
    if (step === 0) {
      errors.push({ code: 'cron-step', message: 'step must be at least 1', offset: stepOffset, length: stepText.length });
      return undefined;
    }
    const span = spec.max - spec.min + 1;
    if (step >= span) {
      // crontab(5) accepts it; it is almost always a mistake (`*/90` is not "every 90 minutes").
      errors.push({
        code: 'cron-step',
        severity: 'warning',
        message: `step ${step} is not smaller than the ${spec.name} field's range (${spec.min}-${spec.max}), so this element matches only its first value`,
        offset: stepOffset,
        length: stepText.length,
      });
    }
  }

  let lo: number;
  let hi: number;
  if (rangeText === '*' || rangeText === '?') {
    lo = spec.min;
    hi = spec.max;
    // Day-of-week `*` is 0-6; 7 is only an alias of 0.
    if (spec.name === 'day-of-week') hi = 6;
  } else {
    const dash = rangeText.indexOf('-', 1);
    if (dash >= 0) {
      const loV = parseValue(rangeText.slice(0, dash), el.offset, spec, errors);
      const hiV = parseValue(rangeText.slice(dash + 1), el.offset + dash + 1, spec, errors);
      if (loV === undefined || hiV === undefined) return undefined;
      if (loV > hiV) {
        errors.push({
          code: 'cron-range',
          message: `reversed range ${rangeText} in the ${spec.name} field: the start must not be after the end`,
          offset: el.offset,
          length: rangeText.length,
        });
        return undefined;
      }
      lo = loV;
      hi = hiV;
    } else {
      let v = parseValue(rangeText, el.offset, spec, errors);
      if (v === undefined) return undefined;
      // Day-of-week 7 is Sunday; `7/2` reads as `0/2`.
      if (stepText !== undefined && spec.name === 'day-of-week' && v === 7) v = 0;
      lo = v;
      hi = stepText !== undefined ? spec.max : v;
      if (stepText !== undefined && spec.name === 'day-of-week') hi = 6;
    }
  }
  const values: number[] = [];
  for (let v = lo; v <= hi; v += step) values.push(v);
  return values;
}

function sortedUnique(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function parseNumericField(field: Token, spec: FieldSpec, errors: CronError[]): number[] {
  const elements = splitList(field, errors, spec);
  if (!elements) return [];
  const values: number[] = [];
  for (const el of elements) {
    const v = parseRangeElement(el, spec, errors);
    if (v) values.push(...v);
  }
  return sortedUnique(values);
}

function isStar(field: Token): boolean {
  return field.text.startsWith('*') || field.text.startsWith('?');
}

function parseDomField(field: Token, errors: CronError[]): { items: DomItem[]; star: boolean } {
  const elements = splitList(field, errors, DOM);
  if (!elements) return { items: [], star: false };
  const days: number[] = [];
  const ext: DomItem[] = [];
  for (const el of elements) {
    const t = el.text.toUpperCase();
    if (t === 'L') {
      ext.push({ kind: 'last', offset: 0 });
    } else if (t === 'LW' || t === 'WL') {
      ext.push({ kind: 'last-weekday' });
    } else if (/^L-/.test(t)) {
      const n = t.slice(2);
      if (!/^[0-9]+$/.test(n) || Number(n) > 30) {
        errors.push({
          code: 'cron-range',
          message: `'${el.text}': L-n needs a number of days 0-30 before the last day of the month`,
          offset: el.offset,
          length: el.text.length,
        });
        continue;
      }
      ext.push({ kind: 'last', offset: Number(n) });
    } else if (/^[0-9]+W$/.test(t)) {
      const n = Number.parseInt(t, 10);
      if (n < 1 || n > 31) {
        errors.push({
          code: 'cron-range',
          message: `${n} is out of range for the day-of-month field (1-31)`,
          offset: el.offset,
          length: el.text.length - 1,
        });
        continue;
      }
      ext.push({ kind: 'nearest-weekday', day: n });
    } else if (/[LW]/.test(t) && !/^[*?]/.test(t)) {
      errors.push({
        code: 'cron-syntax',
        message: `'${el.text}' is not a valid day-of-month value; expected 1-31, L, L-n, LW or nW`,
        offset: el.offset,
        length: el.text.length,
      });
    } else {
      const v = parseRangeElement(el, DOM, errors);
      if (v) days.push(...v);
    }
  }
  const items: DomItem[] = sortedUnique(days).map((day) => ({ kind: 'day', day }));
  return { items: [...items, ...dedupe(ext)], star: isStar(field) };
}

function parseDowField(field: Token, errors: CronError[]): { items: DowItem[]; star: boolean } {
  const elements = splitList(field, errors, DOW);
  if (!elements) return { items: [], star: false };
  const weekdays: number[] = [];
  const ext: DowItem[] = [];
  for (const el of elements) {
    const hash = el.text.indexOf('#');
    if (hash >= 0) {
      const wd = parseValue(el.text.slice(0, hash), el.offset, DOW, errors);
      const nthText = el.text.slice(hash + 1);
      if (!/^[1-5]$/.test(nthText)) {
        errors.push({
          code: 'cron-range',
          message: `'#${nthText}': the occurrence after # must be 1-5`,
          offset: el.offset + hash,
          length: nthText.length + 1,
        });
        continue;
      }
      if (wd !== undefined) ext.push({ kind: 'nth', weekday: wd % 7, nth: Number(nthText) });
      continue;
    }
    if (/^[0-9a-z]+L$/i.test(el.text) && el.text.length > 1) {
      const wd = parseValue(el.text.slice(0, -1), el.offset, DOW, errors);
      if (wd !== undefined) ext.push({ kind: 'last', weekday: wd % 7 });
      continue;
    }
    if (/^L$/i.test(el.text)) {
      errors.push({
        code: 'cron-syntax',
        message: "'L' in the day-of-week field needs a weekday, e.g. 5L for the last Friday of the month",
        offset: el.offset,
        length: 1,
      });
      continue;
    }
    const v = parseRangeElement(el, DOW, errors);
    if (v) weekdays.push(...v.map((d) => d % 7));
  }
  const items: DowItem[] = sortedUnique(weekdays).map((weekday) => ({ kind: 'weekday', weekday }));
  return { items: [...items, ...dedupe(ext)], star: isStar(field) };
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
