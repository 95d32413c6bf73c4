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
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, parseAllDocuments, visit } from 'yaml';
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
}

const YAML_OPTIONS = { prettyErrors: false, uniqueKeys: true, strict: true, merge: false } as const;

/** Lazily built per-file state shared by its documents. */
class FileState {
  #lines: LineIndex | undefined;
  #docs: Document.Parsed[] | undefined;
  constructor(readonly file: SourceFile) {}
  get lines(): LineIndex {
    return (this.#lines ??= new LineIndex(this.file.text));
  }
  get docs(): Document.Parsed[] {
    return (this.#docs ??= parseAllDocuments(this.file.text, YAML_OPTIONS) as Document.Parsed[]);
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
    get doc() {
      const doc = state.docs[index];
      if (!doc) throw new Error(`internal: parsers disagree on the documents of ${state.file.path}`);
      return doc;
    },
  };
}

/** js-yaml's reading of a file, or undefined when the file needs the `yaml` path. */
function fastValues(text: string): unknown[] | undefined {
  const values: unknown[] = [];
  try {
    jsyaml.loadAll(text, (v) => values.push(v), { schema: jsyaml.CORE_SCHEMA });
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
    stack.push(...(Array.isArray(v) ? v : Object.values(v)));
  }
  return values;
}

/** More aliases than this in one document is refused (billion-laughs style expansion). */
const MAX_ALIASES = 50;

export function loadFile(file: SourceFile): { documents: LoadedDocument[]; diagnostics: Diagnostic[] } {
  const state = new FileState(file);
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
        message: duplicate ? 'duplicate key: each key may appear only once in a mapping' : tidy(e.message),
        file: file.path,
        range: at(e.pos),
      });
    }
    for (const w of doc.warnings) {
      diagnostics.push({ code: 'yaml-syntax', severity: 'warning', message: tidy(w.message), file: file.path, range: at(w.pos) });
    }
    if (failed) return;

    let aliases = 0;
    let aliasPos: [number, number] | undefined;
    visit(doc, {
      Alias(_, node) {
        aliases++;
        if (aliases === MAX_ALIASES + 1) aliasPos = node.range ? [node.range[0], node.range[1]] : undefined;
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
        range: at(aliasPos),
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
  return { documents, diagnostics };
}

function tidy(message: string): string {
  // yaml appends " at line X, column Y" (and a snippet); we print positions ourselves.
  return message.replace(/ at line \d+, column \d+.*$/s, '').replace(/\s+$/, '');
}

export type PathSegment = string | number;

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
      const items: unknown[] = node.items;
      const pair = items.find((p): p is { key: Node; value: unknown } => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
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
