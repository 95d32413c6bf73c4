/**
 * Stage 2: a loaded document against the zod schema. Every zod issue becomes a diagnostic at
 * the YAML node it is about: the key for unknown keys, the enclosing mapping for missing ones,
 * the value otherwise.
 */
import type { z } from 'zod';
import type { ZodMiniType } from 'zod/mini';
import type { Diagnostic, DiagnosticCode } from './diagnostics.ts';
import { type LoadedDocument, nodeAt, nodeRange, type PathSegment } from './load.ts';
import { Definition, type DefinitionValue } from './schema.ts';

/**
 * Schema problems reported per document: a hostile 1 MiB file can hold 100 000 unknown keys,
 * and the caller spreads these into its own list (a call-stack limit) and prints each with its
 * line. The count of the rest is reported instead.
 */
const MAX_ISSUES = 50;

export function validateDocument(loaded: LoadedDocument): { value?: DefinitionValue; diagnostics: Diagnostic[] } {
  const result = Definition.safeParse(loaded.value);
  if (result.success) return { value: result.data, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  let more = 0;
  for (const issue of result.error.issues) {
    if (diagnostics.length >= MAX_ISSUES) {
      more += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
      continue;
    }
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
    const room = MAX_ISSUES - diagnostics.length;
    const shown = issue.code === 'unrecognized_keys' && keys > room ? { ...issue, keys: issue.keys.slice(0, room) } : issue;
    if (shown !== issue) more += keys - room;
    for (const d of toDiagnostics(loaded, shown)) diagnostics.push(d);
  }
  if (more > 0) {
    const last = diagnostics[diagnostics.length - 1]!;
    const message = `${more} more schema problem${more === 1 ? '' : 's'} in this definition not shown; fix the ones above first`;
    diagnostics.push({ code: last.code, severity: 'error', message, file: last.file, ...(last.range ? { range: last.range } : {}) });
  }
  return { diagnostics };
}

function toDiagnostics(loaded: LoadedDocument, issue: z.core.$ZodIssue): Diagnostic[] {
  const path = issue.path.filter((p): p is PathSegment => typeof p === 'string' || typeof p === 'number');
  const where = path.length > 0 ? path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') : 'the definition';
  const make = (code: DiagnosticCode, message: string, range: [number, number] | undefined, help?: string): Diagnostic => {
    const d: Diagnostic = {
      code,
      severity: 'error',
      message,
      file: loaded.file.path,
      range: loaded.lines.range(...(range ?? documentStart(loaded))),
    };
    if (help) d.help = help;
    return d;
  };

  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(loaded.value, path);
    return issue.keys.map((key) => {
      const { key: keyNode } = nodeAt(loaded.doc, [...path, key]);
      const suggestion = allowed ? closest(key, allowed) : undefined;
      const inWhat = path.length > 0 ? ` in ${where}` : '';
      const help = allowed ? `allowed keys${inWhat}: ${allowed.join(', ')}` : undefined;
      return make(
        'schema-unknown-key',
        `unknown key '${key}'${inWhat}${suggestion ? `; did you mean '${suggestion}'?` : ''}`,
        nodeRange(keyNode),
        help,
      );
    });
  }

  if (issue.code === 'invalid_key') {
    const { key } = nodeAt(loaded.doc, path);
    const inner = (issue as { issues?: { message: string }[] }).issues?.[0]?.message ?? issue.message;
    return [make('schema-value', `${where}: invalid key ${JSON.stringify(String(last0(path)))}: ${inner}`, nodeRange(key))];
  }

  const found = nodeAt(loaded.doc, path);
  const actual = valueAt(loaded.value, path);
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1];

  if (actual === undefined && issue.code === 'invalid_type') {
    // A required key that is absent: point at the mapping that should hold it.
    const parent = nodeAt(loaded.doc, parentPath);
    const range = nodeRange(parent.key) ?? nodeRange(parent.node) ?? nodeRange(found.parent);
    const inWhat = parentPath.length > 0 ? ` in ${parentPath.join('.')}` : '';
    return [make('schema-missing-key', `missing required key '${String(last)}'${inWhat}`, range)];
  }

  const range = nodeRange(found.node) ?? nodeRange(found.key) ?? nodeRange(found.parent);
  switch (issue.code) {
    case 'invalid_type':
      return [make('schema-type', `${where}: expected ${article(issue.expected)}, got ${describe(actual)}`, range)];
    case 'invalid_value':
      return [
        make(
          'schema-value',
          `${where}: expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describe(actual)}`,
          range,
        ),
      ];
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator && options) {
        const target = actual === undefined ? nodeRange(nodeAt(loaded.doc, parentPath).key) : range;
        const message =
          actual === undefined
            ? `missing required key '${String(last)}' in ${parentPath.join('.') || 'the definition'}; expected ${options.map((o) => JSON.stringify(o)).join(' or ')}`
            : `${where}: expected ${options.map((o) => JSON.stringify(o)).join(' or ')}, got ${describe(actual)}`;
        return [make(actual === undefined ? 'schema-missing-key' : 'schema-value', message, target)];
      }
      return [make('schema-type', `${where}: ${issue.message}`, range)];
    }
    default:
      return [make('schema-value', `${where}: ${issue.message}`, range)];
  }
}

function last0(path: readonly PathSegment[]): PathSegment | undefined {
  return path[path.length - 1];
}

function documentStart(loaded: LoadedDocument): [number, number] {
  const r = loaded.doc.contents?.range;
  return r ? [r[0], r[0]] : [0, 0];
}

function valueAt(value: unknown, path: readonly PathSegment[]): unknown {
  let v: unknown = value;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
}

/** Keys the schema allows at a path, following discriminated unions by the document's own values. */
function allowedKeys(root: unknown, path: readonly PathSegment[]): string[] | undefined {
  let schema: ZodMiniType | undefined = Definition;
  let value: unknown = root;
  for (let i = 0; i <= path.length; i++) {
    schema = resolve(schema, value);
    if (!schema) return undefined;
    if (i === path.length) break;
    const seg = path[i]!;
    const def = schema.def as { type: string; shape?: Record<string, ZodMiniType>; element?: ZodMiniType; valueType?: ZodMiniType };
    if (def.type === 'object' && typeof seg === 'string') schema = def.shape?.[seg];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return undefined;
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  const def = schema?.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function resolve(schema: ZodMiniType | undefined, value: unknown): ZodMiniType | undefined {
  let s = schema;
  for (let guard = 0; s && guard < 20; guard++) {
    const def = s.def as { type: string; innerType?: ZodMiniType; in?: ZodMiniType; options?: ZodMiniType[]; discriminator?: string };
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else if (def.type === 'union' && def.discriminator && def.options) {
      const tag = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
      s = def.options.find((o) => {
        const d = (o.def as { shape?: Record<string, ZodMiniType> }).shape?.[def.discriminator!];
        return (d?.def as { values?: unknown[] } | undefined)?.values?.includes(tag);
      });
    } else return s;
  }
  return s;
}

/** Closest allowed key by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
