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
 *
 * A target's warning for each of thousands of definitions needs only where each starts (to
 * sort them) until a few are printed: js-yaml reads such a file again with its parse events
 * (LoadedDocument.startOf), ~10× cheaper than the `yaml` document, and declines wherever the
 * two could disagree (checked node by node in test/locate.test.ts).
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
   * Where the node at `path` starts (the offset nodeAt() and locate() would give, falling back
   * to its key or parent the same way), from a cheap second reading by js-yaml; undefined when
   * that reading cannot tell exactly (then only the `yaml` document can). For ordering many
   * diagnostics without parsing each file again with `yaml`.
   */
  startOf(path: readonly PathSegment[]): number | undefined;
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
  #starts: (StartNode | undefined)[] | null | undefined;
  /** js-yaml's reading again, with where each node starts (null: it could not tell). */
  get starts(): (StartNode | undefined)[] | null {
    if (this.#starts === undefined) this.#starts = startTree(this.file.text);
    return this.#starts;
  }
  forget(): void {
    this.#lines = undefined;
    this.#docs = undefined;
    this.#starts = undefined;
  }
}

/**
 * `fast`: the file was read by js-yaml (no alias, nothing the two parsers read differently).
 * A class, not an object literal with getters: V8 keeps every such literal as a dictionary, with
 * closures of its own, which at fleet scale is megabytes and work for the garbage collector.
 */
class Loaded implements LoadedDocument {
  readonly file: SourceFile;
  constructor(
    readonly state: FileState,
    public value: unknown,
    readonly index: number,
    readonly fast: boolean,
  ) {
    this.file = state.file;
  }
  get lines(): LineIndex {
    return this.state.lines;
  }
  forget(): void {
    this.state.forget();
  }
  startOf(path: readonly PathSegment[]): number | undefined {
    // (js-yaml drops a leading byte order mark, which would shift every offset by one)
    const roots = this.fast && this.state.file.text.charCodeAt(0) !== 0xfeff ? this.state.starts : null;
    return roots ? startAt(roots[this.index], path) : undefined;
  }
  get doc(): Document.Parsed {
    // js-yaml is more lenient than `yaml` in a few corners (e.g. a quoted scalar whose next
    // line is not indented), so `yaml` may see fewer documents. A diagnostic must never
    // crash the compile: it then points at the start of the file instead.
    return this.state.docs[this.index] ?? (this.state.empty ??= parseDocument('', YAML_OPTIONS) as Document.Parsed);
  }
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
    const documents = fast.flatMap((value, index) => (value === null || value === undefined ? [] : [new Loaded(state, value, index, true)]));
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
    documents.push(new Loaded(state, value, index, false));
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

/**
 * A node as js-yaml reads it, with the offset its content starts at: what `yaml` gives as the
 * start of its range for block and flow collections, plain, quoted and block scalars (checked
 * against `yaml`, node by node, in test/locate.test.ts). `start` is undefined where the two
 * could differ: a node with a tag or an anchor, an empty node.
 */
interface StartNode {
  start: number | undefined;
  kind: string | null;
  value: unknown;
  children: StartNode[];
}

/**
 * Every document of `text` as StartNodes (from js-yaml's parse events), or null if js-yaml
 * cannot read it (such files took the `yaml` path when loading anyway).
 */
function startTree(text: string): (StartNode | undefined)[] | null {
  const roots: (StartNode | undefined)[] = [];
  const stack: { open: number; children: StartNode[] }[] = [];
  try {
    jsyaml.loadAll(text, () => {}, {
      schema: CORE_SCHEMA,
      listener(event, state) {
        if (event === 'open') {
          stack.push({ open: state.position, children: [] });
          return;
        }
        const frame = stack.pop()!;
        const kind = (state.kind as string | null) ?? null;
        let node: StartNode = { start: kind === null ? undefined : contentStart(text, frame.open, state.position), kind, value: state.result, children: frame.children };
        // js-yaml reads a block sequence entry (or a document) as a mapping key first: the node
        // it turns out to be then wraps that attempt, which is the same node.
        const only = frame.children.length === 1 ? frame.children[0]! : undefined;
        if (only && only.kind === kind && only.value === state.result && only.start === node.start) node = only;
        if (stack.length > 0) stack[stack.length - 1]!.children.push(node);
        else roots.push(node);
      },
    });
  } catch {
    return null;
  }
  return roots;
}

/** The first character of content at or after `from` (white space and comments skipped); undefined for properties, aliases or nothing. */
function contentStart(text: string, from: number, end: number): number | undefined {
  let i = from;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else if (c === 0x23) {
      while (i < end && text.charCodeAt(i) !== 0x0a) i++;
    } else break;
  }
  if (i >= end) return undefined;
  const c = text.charCodeAt(i);
  // ! tag, & anchor, * alias; a `---` document marker or a byte order mark before the content
  if (c === 0x21 || c === 0x26 || c === 0x2a || c === 0xfeff) return undefined;
  if (c === 0x2d && text.startsWith('---', i) && (i === 0 || text.charCodeAt(i - 1) === 0x0a)) return undefined;
  return i;
}

/** A mapping's entries by key, from its children (key, value, key, value …); undefined if they do not pair up exactly. */
function startPairs(node: StartNode): Map<string, { key: StartNode; value: StartNode }> | undefined {
  const { children, value } = node;
  if (children.length % 2 !== 0 || value === null || typeof value !== 'object') return undefined;
  const pairs = new Map<string, { key: StartNode; value: StartNode }>();
  for (let i = 0; i < children.length; i += 2) {
    const key = children[i]!;
    if (key.kind !== 'scalar') return undefined;
    pairs.set(String(key.value), { key, value: children[i + 1]! });
  }
  const keys = Object.keys(value);
  if (keys.length !== pairs.size || keys.some((k) => !pairs.has(k))) return undefined;
  return pairs;
}

/** nodeAt() and locate()'s fallback (the node, else its key, else its parent) on StartNodes. */
function startAt(root: StartNode | undefined, path: readonly PathSegment[]): number | undefined {
  let node: StartNode | undefined = root;
  let key: StartNode | undefined;
  let parent: StartNode | undefined;
  for (const seg of path) {
    if (!node) break;
    parent = node;
    key = undefined;
    if (node.kind === 'mapping') {
      const pairs = startPairs(node);
      if (!pairs) return undefined;
      const pair = pairs.get(String(seg));
      node = pair?.value;
      key = pair?.key;
      if (!pair) break;
    } else if (node.kind === 'sequence' && typeof seg === 'number') {
      if (node.children.length !== (node.value as unknown[]).length) return undefined;
      node = node.children[seg];
    } else {
      node = undefined;
      break;
    }
  }
  const at = node ?? key ?? parent;
  // An empty value (`key:`) is a node in `yaml` with a position of its own: not known here.
  if (!at || at.kind === null) return undefined;
  return at.start;
}
