/**
 * Stage 1: YAML text → documents that keep their source positions (YAML 1.2 core schema).
 * Every YAML problem in every document becomes a diagnostic; alias bombs are cut off.
 *
 * Two parsers, one meaning. `yaml` keeps positions for every node, which diagnostics need,
 * but costs ~5× more than js-yaml; most files are valid and need no position at all. So a
 * file is first read with js-yaml (CORE_SCHEMA = YAML 1.2's core schema, duplicate keys are
 * errors) and, only when that succeeds without any alias, used as is; its position-keeping
 * `yaml` document is then built the first time a diagnostic needs a position. Anything else
 * (a syntax error, an alias, a parser disagreement) takes the `yaml` path, whose errors and
 * alias limits are the reference.
 */
import jsyaml from 'js-yaml';
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, parseAllDocuments, parseDocument, visit } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import { LineIndex, type SourceFile } from './source.ts';

export interface LoadedDocument {
  file: SourceFile;
  /** Line starts of the file (built on first use). */
  readonly lines: LineIndex;
  /** The document with positions (built on first use). */
  readonly doc: Document.Parsed;
  /** Plain JS value of the document. */
  value: unknown;
  /** 0-based index of the document in its file (files may hold several, separated by `---`). */
  index: number;
  /**
   * Drops the file's position-keeping parse and line index (built again if asked for again):
   * at fleet scale, thousands of them kept to the end are most of the memory and GC work.
   */
  forget(): void;
}

// uniqueKeys is checked by duplicateKeys() below: yaml's own check compares every key with every
// other key of its mapping, which takes minutes for a 1 MiB file of distinct keys.
const YAML_OPTIONS = { prettyErrors: false, uniqueKeys: false, strict: true, merge: false } as const;

/** Lazily built per-file state shared by its documents. */
class FileState {
  #lines: LineIndex | undefined;
  #docs: Document.Parsed[] | undefined;
  empty: Document.Parsed | undefined;
  constructor(readonly file: SourceFile) {}
  get lines(): LineIndex {
    return (this.#lines ??= new LineIndex(this.file.text));
  }
  get docs(): Document.Parsed[] {
    return (this.#docs ??= parseAllDocuments(this.file.text, YAML_OPTIONS) as Document.Parsed[]);
  }
  forget(): void {
    this.#lines = undefined;
    this.#docs = undefined;
  }
}

function loadedDocument(state: FileState, value: unknown, index: number): LoadedDocument {
  return {
    file: state.file,
    value,
    index,
    get lines() {
      return state.lines;
    },
    forget: () => state.forget(),
    get doc() {
      // js-yaml is more lenient than `yaml` in a few corners (e.g. a quoted scalar whose next
      // line is not indented), so `yaml` may see fewer documents. A diagnostic must never
      // crash the compile: it then points at the start of the file instead.
      return state.docs[index] ?? (state.empty ??= parseDocument('', YAML_OPTIONS) as Document.Parsed);
    },
  };
}

/**
 * js-yaml's own CORE_SCHEMA is wider than YAML 1.2's core schema that `yaml` implements
 * (it also reads `0b101`, `+0x10` and `-0x10` as numbers, `!!float 1` as 1, and `1e400` as a
 * string), so the fast path would give some plain scalars another value than the reference
 * path: `env: {X: 0b101}` would pass X=5. These are `yaml`'s core tags, regex for regex
 * (yaml/dist/schema/core, common/null.js); anything they do not resolve is a string, and an
 * explicit tag they cannot resolve makes js-yaml fail, i.e. takes the `yaml` path.
 */
const scalarType = (tag: string, test: RegExp, construct: (s: string) => unknown, nullable = false) =>
  new jsyaml.Type(tag, { kind: 'scalar', resolve: (s: string | null) => (s === null ? nullable : test.test(s)), construct: (s: string | null) => construct(s ?? '') });
const CORE_SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    scalarType('tag:yaml.org,2002:null', /^(?:~|[Nn]ull|NULL)?$/, () => null, true),
    scalarType('tag:yaml.org,2002:bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
    scalarType('tag:yaml.org,2002:int', /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/, (s) =>
      s.startsWith('0o') ? parseInt(s.slice(2), 8) : s.startsWith('0x') ? parseInt(s.slice(2), 16) : parseInt(s, 10),
    ),
    scalarType(
      'tag:yaml.org,2002:float',
      /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/,
      (s) => (/^[-+]?\.(?:inf|Inf|INF)$/.test(s) ? (s[0] === '-' ? -Infinity : Infinity) : /nan|NaN|NAN/.test(s) ? NaN : parseFloat(s)),
    ),
  ],
});

/**
 * Constructs where js-yaml and `yaml` read the same text differently (found by differential
 * fuzzing): a byte order mark after the start, directives and `...` document ends, explicit
 * `?` keys (js-yaml turns a collection key into its JS string, `[A]` into `A`). Such files take
 * the `yaml` path.
 */
const DIVERGENT = /.\ufeff|^(?:%|\.\.\.)|(?:^|[\s[{,])\?(?:[ \t\n]|$)/ms;

/** js-yaml's reading of a file, or undefined when the file needs the `yaml` path. */
function fastValues(text: string): unknown[] | undefined {
  if (DIVERGENT.test(text)) return undefined;
  const values: unknown[] = [];
  try {
    jsyaml.loadAll(text, (v) => values.push(v), { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  // An alias makes js-yaml share one object in several places; let `yaml` apply its limits.
  const seen = new Set<object>();
  const stack: unknown[] = [...values];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (seen.has(v)) return undefined;
    seen.add(v);
    // One push per item: spreading a long list into push() overflows the call stack.
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push(item);
  }
  return values;
}

/** More aliases than this in one document is refused (billion-laughs style expansion). */
const MAX_ALIASES = 50;

/**
 * At most this many YAML problems are reported per file (plus one line saying how many more):
 * a broken 1 MiB file can have hundreds of thousands, and each one is printed with its line.
 */
const MAX_YAML_DIAGNOSTICS = 50;

/**
 * Keys that appear twice in one mapping, in a single pass per mapping. Keys are compared as the
 * object keys they become (`1` and `"1"` are the same key), so no value is ever silently
 * overwritten. Keys that are collections are left to the schema (they never name a field).
 */
function duplicateKeys(doc: Document.Parsed): Node[] {
  const found: Node[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) continue;
        const name = String(key.value);
        if (seen.has(name)) found.push(key);
        else seen.add(name);
      }
    },
  });
  return found;
}

export function loadFile(file: SourceFile): { documents: LoadedDocument[]; diagnostics: Diagnostic[] } {
  const state = new FileState(file);
  // A carriage return that is not part of CRLF: YAML calls it a line break, js-yaml agrees and
  // `yaml` does not (it would read the rest of a comment line as comment), so the two parsers
  // would see different documents. Refused outright, with the place.
  const cr = file.text.search(/\r(?!\n)/);
  if (cr >= 0) {
    return {
      documents: [],
      diagnostics: [
        {
          code: 'yaml-syntax',
          severity: 'error',
          message: 'a carriage return (CR) that is not followed by a line feed: use LF or CRLF line breaks',
          file: file.path,
          range: state.lines.range(cr, cr + 1),
        },
      ],
    };
  }
  const fast = fastValues(file.text);
  if (fast && fast.some((v) => v !== null && v !== undefined)) {
    const documents = fast.flatMap((value, index) => (value === null || value === undefined ? [] : [loadedDocument(state, value, index)]));
    return { documents, diagnostics: [] };
  }

  const diagnostics: Diagnostic[] = [];
  const lines = state.lines;
  const at = (pos: readonly [number, number] | undefined) => (pos ? lines.range(pos[0], pos[1]) : undefined);
  const documents: LoadedDocument[] = [];

  const list = state.docs;
  list.forEach((doc, index) => {
    let failed = false;
    for (const e of doc.errors) {
      failed = true;
      const duplicate = e.code === 'DUPLICATE_KEY';
      diagnostics.push({
        code: duplicate ? 'yaml-duplicate-key' : 'yaml-syntax',
        severity: 'error',
        message: duplicate
          ? 'duplicate key: each key may appear only once in a mapping'
          : e.code === 'RESOURCE_EXHAUSTION'
            ? 'the document is nested too deeply to read (the YAML parser ran out of stack); a definition needs only a few levels'
            : tidy(e.message),
        file: file.path,
        range: at(e.pos),
      });
    }
    for (const key of duplicateKeys(doc)) {
      failed = true;
      diagnostics.push({
        code: 'yaml-duplicate-key',
        severity: 'error',
        message: 'duplicate key: each key may appear only once in a mapping',
        file: file.path,
        range: at(key.range ? [key.range[0], key.range[0]] : undefined),
      });
    }
    for (const w of doc.warnings) {
      diagnostics.push({ code: 'yaml-syntax', severity: 'warning', message: tidy(w.message), file: file.path, range: at(w.pos) });
    }
    if (failed) return;

    let aliases = 0;
    let aliasPos: [number, number] | undefined;
    let firstAlias: [number, number] | undefined;
    visit(doc, {
      Alias(_, node) {
        aliases++;
        firstAlias ??= nodeRange(node);
        if (aliases === MAX_ALIASES + 1) aliasPos = node.range ? [node.range[0], node.range[1]] : undefined;
        // An alias to an anchor that is not defined before it: the error below points here.
        else if (aliasPos === undefined && node.resolve(doc) === undefined) aliasPos = nodeRange(node);
      },
    });
    if (aliases > MAX_ALIASES) {
      diagnostics.push({
        code: 'yaml-alias',
        severity: 'error',
        message: `too many YAML aliases (${aliases}; at most ${MAX_ALIASES}): refusing a document that may expand exponentially`,
        file: file.path,
        range: at(aliasPos),
      });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      diagnostics.push({
        code: 'yaml-alias',
        severity: 'error',
        message: `cannot expand aliases: ${tidy(e instanceof Error ? e.message : String(e))}`,
        file: file.path,
        range: at(aliasPos ?? firstAlias),
      });
      return;
    }
    if (value === null || value === undefined) {
      // An empty document between `---` separators, or an empty file: only worth a word if it is alone.
      if (list.length === 1 && !file.text.trim().startsWith('#') && file.text.trim() !== '') {
        diagnostics.push({ code: 'yaml-empty', severity: 'error', message: 'the document is empty', file: file.path, range: at([0, 0]) });
      }
      return;
    }
    documents.push(loadedDocument(state, value, index));
  });
  if (list.length === 0 || (documents.length === 0 && diagnostics.length === 0)) {
    diagnostics.push({
      code: 'yaml-empty',
      severity: 'error',
      message: 'the file holds no definition',
      file: file.path,
      range: lines.range(0, 0),
    });
  }
  if (diagnostics.length > MAX_YAML_DIAGNOSTICS) {
    const rest = diagnostics.splice(MAX_YAML_DIAGNOSTICS);
    const errors = rest.filter((d) => d.severity === 'error').length;
    diagnostics.push({
      code: rest[0]!.code,
      severity: errors > 0 ? 'error' : 'warning',
      message: `${rest.length} more YAML problem${rest.length === 1 ? '' : 's'} in this file (${errors} error${errors === 1 ? '' : 's'}) not shown; fix the ones above first`,
      file: file.path,
      ...(rest[0]!.range ? { range: rest[0]!.range } : {}),
    });
  }
  return { documents, diagnostics };
}

function tidy(message: string): string {
  // yaml appends " at line X, column Y" (and a snippet); we print positions ourselves.
  return message.replace(/ at line \d+, column \d+.*$/s, '').replace(/\s+$/, '');
}

export type PathSegment = string | number;

type KeyedPair = { key: Node; value: unknown };
const pairIndex = new WeakMap<object, Map<string, KeyedPair>>();

/** A mapping's entries by key (the first of duplicates), built once: lookups stay O(1) however many keys a mapping has. */
function pairsOf(map: { items: unknown[] }): Map<string, KeyedPair> {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (isPair(p) && isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p as KeyedPair);
    }
    pairIndex.set(map, index);
  }
  return index;
}

/** The YAML node at a path, with the key node of the last step when it was a map entry. */
export function nodeAt(doc: Document.Parsed, path: readonly PathSegment[]): { node?: Node; key?: Node; parent?: Node } {
  let node: Node | null | undefined = doc.contents;
  let key: Node | undefined;
  let parent: Node | undefined;
  for (const seg of path) {
    while (node && isAlias(node)) node = node.resolve(doc) as Node | undefined;
    if (!node) return { parent, key };
    parent = node;
    key = undefined;
    if (isMap(node)) {
      const pair = pairsOf(node).get(String(seg));
      if (!pair) return { parent };
      key = pair.key;
      node = (pair.value as Node | null) ?? undefined;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = (node.items[seg] as Node | undefined) ?? undefined;
    } else {
      return { parent };
    }
  }
  return { node: node ?? undefined, key, parent };
}

export function nodeRange(node: Node | undefined): [number, number] | undefined {
  return node?.range ? [node.range[0], node.range[1]] : undefined;
}
