/**
 * The pipeline, pure: source files in, `{ artefacts, diagnostics }` out.
 *
 *   load (YAML + positions) → validate (zod) → lower (IR) → targets (artefacts)
 *
 * Every problem in every file is reported; when there is any error, no artefact is returned,
 * so a caller cannot write half a result. A caller may hand back what definitions made in an
 * earlier compile (`reuse`, for files it vouches are unchanged): they are not compiled again,
 * and the result is the same as if they had been (or `fallback` says why it cannot be).
 */
import { type Artefact, ContentNotKept, joinParts, type Target, type TargetOptions, type TargetPart, type TargetProblem } from '../targets/target.ts';
import { compareDiagnostics, type Diagnostic, hasErrors, type Position, type Range } from './diagnostics.ts';
import type { ActivityIR, TargetName } from './ir.ts';
import { type LoadedDocument, loadFile, nodeAt, nodeRange } from './load.ts';
import { locate, lowerDefinition, makeReporter } from './lower.ts';
import type { SourceFile } from './source.ts';
import { validateDocument } from './validate.ts';

export interface LoadedDefinition {
  ir: ActivityIR;
  document: LoadedDocument;
  enabled: boolean;
}

export interface LoadResult {
  definitions: LoadedDefinition[];
  diagnostics: Diagnostic[];
  /** The id of every document that passed the schema (lowered or not): ids a duplicate clashes with. */
  claimed: Set<string>;
}

/**
 * Pipeline stages, for callers that time them (the CLI's ACORE_TIMINGS; compile itself has no
 * clock). `locate`: the targets' problems made diagnostics; their positions are found when first
 * needed (see targetDiagnostic), so that cost falls in whichever stage sorts or prints them.
 */
export type Stage = 'load' | 'validate' | 'lower' | 'emit' | 'locate';
export type Measure = <T>(stage: Stage, run: () => T) => T;
const untimed: Measure = (_stage, run) => run();

/** One document of a file, checked and lowered on its own (before it is set against the other files). */
interface CheckedDocument {
  document: LoadedDocument;
  /** What the schema found. */
  validation: Diagnostic[];
  /** Set when the document passed the schema. */
  id?: string;
  enabled: boolean;
  /** Set when it also lowered without error. */
  ir?: ActivityIR;
  /** What lowering found. */
  lowering: Diagnostic[];
}

/** A file loaded, each of its documents checked and lowered: all that depends on the file alone. */
interface CheckedFile {
  diagnostics: Diagnostic[];
  documents: CheckedDocument[];
}

function checkFile(file: SourceFile & { name?: string }, measure: Measure): CheckedFile {
  const loaded = measure('load', () => loadFile(file));
  const documents: CheckedDocument[] = [];
  for (const document of loaded.documents) {
    const validated = measure('validate', () => validateDocument(document));
    const checked: CheckedDocument = { document, validation: validated.diagnostics, enabled: false, lowering: [] };
    documents.push(checked);
    const value = validated.value;
    if (!value) continue;
    checked.id = value.id;
    checked.enabled = value.enabled;
    const source = file.name ?? file.path;
    const report = makeReporter(document, checked.lowering);
    const ir = measure('lower', () => lowerDefinition(value, document.index > 0 ? `${source} (document ${document.index + 1})` : source, report));
    if (ir) checked.ir = ir;
    // Checked and lowered: later messages take positions from the text, not from this tree,
    // and a fleet's worth of these trees is work for the garbage collector.
    document.value = undefined;
  }
  return { diagnostics: loaded.diagnostics, documents };
}

/**
 * Work shared by compiles of two versions of the same definitions with the same targets and
 * options (`acore diff`'s base and head): a file whose path, name and text are the same in both
 * is loaded, checked and lowered once, and each target makes its part of a definition once.
 * Everything cached depends only on those inputs, so a result is the same with or without it.
 */
export class SharedWork {
  readonly #files = new Map<string, { name: string | undefined; text: string; checked: CheckedFile }>();
  readonly #parts = new Map<TargetName, WeakMap<ActivityIR, TargetPart | undefined>>();
  /** The options the parts were made with: another compile's options get no parts from here. */
  #options: TargetOptions | undefined;

  checked(file: SourceFile & { name?: string }, measure: Measure): CheckedFile {
    const known = this.#files.get(file.path);
    if (known && known.name === file.name && known.text === file.text) return known.checked;
    const checked = checkFile(file, measure);
    this.#files.set(file.path, { name: file.name, text: file.text, checked });
    return checked;
  }

  /** Target `target`'s part of `ir`, made once per definition lowered here. */
  part(target: Target, ir: ActivityIR, options: TargetOptions): TargetPart | undefined {
    this.#options ??= options;
    if (options !== this.#options) return target.part(ir, options);
    let parts = this.#parts.get(target.name);
    if (!parts) this.#parts.set(target.name, (parts = new WeakMap()));
    if (parts.has(ir)) return parts.get(ir);
    const part = target.part(ir, options);
    parts.set(ir, part);
    return part;
  }
}

/** Load, validate and lower every definition. `name` of each file is its stable display name. */
export function loadDefinitions(files: readonly (SourceFile & { name?: string })[], measure: Measure = untimed, shared?: SharedWork): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const definitions: LoadedDefinition[] = [];
  const claimed = new Set<string>();
  // First definition of each id; its position is only looked up when a duplicate appears.
  const seen = new Map<string, LoadedDocument>();
  const idRange = (d: LoadedDocument) => {
    const r = nodeRange(nodeAt(d.doc, ['id']).node);
    return r ? d.lines.range(r[0], r[1]) : undefined;
  };

  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const checked = shared ? shared.checked(file, measure) : checkFile(file, measure);
    for (const d of checked.diagnostics) diagnostics.push(d);
    for (const { document, validation, id, enabled, ir, lowering } of checked.documents) {
      for (const d of validation) diagnostics.push(d);
      if (id === undefined) continue;
      claimed.add(id);
      const first = seen.get(id);
      if (first) {
        const there = idRange(first);
        const here = idRange(document);
        const related = { message: `'${id}' is first defined here`, file: first.file.path, ...(there ? { range: there } : {}) };
        diagnostics.push({
          code: 'id-duplicate',
          severity: 'error',
          message: `duplicate id '${id}' (also defined in ${first.file.path}${there ? `:${there.start.line}:${there.start.col}` : ''})`,
          file: file.path,
          ...(here ? { range: here } : {}),
          related: [related],
        });
      } else {
        seen.set(id, document);
      }
      for (const d of lowering) diagnostics.push(d);
      if (ir && !first) definitions.push({ ir, document, enabled });
    }
  }
  return { definitions, diagnostics, claimed };
}

/**
 * A definition compiled earlier, reused as it was: the caller vouches that its file, acore's
 * build and the options are the same as then, and that no error was reported then. Per target
 * of this compile: the files it made (path and sha256: their text is not kept, see
 * ContentNotKept), its share of the target's shared files and the problems (warnings) found.
 */
export interface ReusedDefinition {
  id: string;
  /** The caller's key for its file. */
  key: string;
  /** Its document's index in the file. */
  index: number;
  /** A disabled definition makes nothing, but holds its id. */
  enabled: boolean;
  parts: Partial<Record<TargetName, { files: [path: string, hash: string][]; share?: unknown; problems?: TargetProblem[] }>>;
}

/** What a reused file's diagnostic keeps: all but the file's display path, which is given again. */
export type KeptDiagnostic = Omit<Diagnostic, 'file'>;

/**
 * A reused file that had something to report (warnings, notes): it is given again in `files`,
 * for the positions and snippets of its targets' problems, and not compiled again; these are
 * the diagnostics loading it gave.
 */
export interface ReusedFile {
  key: string;
  diagnostics: KeptDiagnostic[];
}

/** A definition a later compile may reuse, for one target (the caller adds the files' hashes). */
export interface ReusableDefinition {
  id: string;
  /** Its file's key: the file's `name`, else its path (or the key it was reused under). */
  key: string;
  index: number;
  enabled: boolean;
  /** What it made for the target (none: the target is not among its targets, or it is disabled). */
  part?: { paths: string[]; share?: unknown; problems?: TargetProblem[] };
}

export interface Reusable {
  /** Those compiled (in path order), then those reused: the same order for every target. */
  definitions: ReusableDefinition[];
  /** Per file key: the diagnostics loading it gave (none for most). */
  files: Map<string, KeptDiagnostic[]>;
}

export interface CompileResult {
  artefacts: Artefact[];
  diagnostics: Diagnostic[];
  /** The definitions compiled (not those reused). */
  definitions: ActivityIR[];
  /** What a later compile may reuse, for one target: nothing after an error (worked out when asked). */
  reusable: (target: TargetName) => Reusable;
  /**
   * Why the reused definitions could not be honoured (a changed file now shares an id or a
   * generated file with an unchanged one, whose position only a full compile has): the caller
   * compiles again without reuse. Nothing else is set then.
   */
  fallback?: string;
}

const keyOf = (file: SourceFile & { name?: string }) => file.name ?? file.path;

function fallback(why: string): CompileResult {
  return { artefacts: [], diagnostics: [], definitions: [], reusable: () => ({ definitions: [], files: new Map() }), fallback: why };
}

export function compile(
  files: readonly (SourceFile & { name?: string })[],
  targets: readonly Target[],
  options: TargetOptions,
  measure: Measure = untimed,
  reuse: readonly ReusedDefinition[] = [],
  reusedFiles: readonly ReusedFile[] = [],
): CompileResult {
  const withText = new Map(reusedFiles.map((f) => [f.key, f]));
  const loaded = loadDefinitions(
    files.filter((f) => !withText.has(keyOf(f))),
    measure,
  );
  const ids = new Set<string>();
  for (const r of reuse) {
    if (loaded.claimed.has(r.id) || ids.has(r.id)) return fallback(`'${r.id}' is defined in more than one file`);
    ids.add(r.id);
  }
  // Reused files with something to report: read again (js-yaml only) for their positions.
  const documents = new Map<string, LoadedDocument>();
  const seen = new Set<string>();
  for (const file of files) {
    const r = withText.get(keyOf(file));
    if (!r) continue;
    seen.add(r.key);
    const again = measure('load', () => loadFile(file));
    if (again.diagnostics.length > 0) return fallback(`${file.path} reads differently`);
    for (const d of again.documents) {
      d.value = undefined;
      documents.set(`${r.key}\0${d.index}`, d);
    }
    for (const k of r.diagnostics) loaded.diagnostics.push({ ...k, file: file.path });
  }
  if (seen.size !== withText.size) return fallback('a reused file is missing');
  return emit(loaded, targets, options, measure, { reuse, reused: { documents, files } });
}

/** A reused file: its hash, not its text (`content`, own and enumerable like any artefact's, throws ContentNotKept). */
class NotKept implements Artefact {
  declare readonly content: string;
  constructor(
    readonly target: TargetName,
    readonly path: string,
    readonly ids: string[],
    readonly hash: string,
  ) {
    Object.defineProperty(this, 'content', NotKept.#CONTENT);
  }

  // One getter for all (see PlacedWhenAsked).
  static readonly #CONTENT: PropertyDescriptor = {
    enumerable: true,
    get(this: NotKept) {
      throw new ContentNotKept(`${this.target}/${this.path}: reused, its text was not kept`);
    },
  };
}

/** A reused definition's part for one target: its files by hash, and its problems again. */
function reusedPart(target: TargetName, r: ReusedDefinition): TargetPart | undefined {
  const cached = r.parts[target];
  if (!cached) return undefined;
  const artefacts = cached.files.map(([path, hash]): Artefact => new NotKept(target, path, [r.id], hash));
  const problems = cached.problems ?? [];
  return cached.share === undefined ? { artefacts, problems } : { artefacts, problems, share: cached.share };
}

/** Runs the targets over loaded (and reused) definitions and maps their problems back to source positions. */
export function emit(
  loaded: LoadResult,
  targets: readonly Target[],
  options: TargetOptions,
  measure: Measure = untimed,
  more: {
    reuse?: readonly ReusedDefinition[];
    reused?: { documents: ReadonlyMap<string, LoadedDocument>; files: readonly (SourceFile & { name?: string })[] };
    /** The same SharedWork the definitions were loaded with. */
    shared?: SharedWork;
  } = {},
): CompileResult {
  const { reuse = [], reused = { documents: new Map(), files: [] }, shared } = more;
  const diagnostics = [...loaded.diagnostics];
  const active = loaded.definitions.filter((d) => d.enabled);
  const byId = new Map(active.map((d) => [d.ir.id, d]));
  // Where each definition's problems are placed: its document (a reused one's read again).
  const documentOf = new Map(active.map((d) => [d.ir.id, d.document]));
  for (const r of reuse) {
    const d = reused.documents.get(`${r.key}\0${r.index}`);
    if (d) documentOf.set(r.id, d);
  }
  // Every definition in id order: compiled now, or reused.
  const entries: { id: string; def?: LoadedDefinition; reused?: ReusedDefinition }[] = [
    ...active.map((def) => ({ id: def.ir.id, def })),
    ...reuse.filter((r) => r.enabled).map((r) => ({ id: r.id, reused: r })),
  ];
  entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Each target's part of each entry (same order), for `reusable`.
  const partsOf: (TargetPart | undefined)[][] = [];
  const clashed = new Set<string>();
  let artefacts: Artefact[] = [];

  for (const target of targets) {
    const out = measure('emit', () => {
      const parts = entries.map((e) => (e.def ? (shared ? shared.part(target, e.def.ir, options) : target.part(e.def.ir, options)) : reusedPart(target.name, e.reused!)));
      partsOf.push(parts);
      return joinParts(target, parts, options);
    });
    const unplaced = measure('locate', () => {
      for (const p of out.problems) {
        const document = documentOf.get(p.id);
        if (!document) return p.id;
        diagnostics.push(targetDiagnostic(document, p));
      }
      return undefined;
    });
    if (unplaced !== undefined) return fallback(`a problem of '${unplaced}' has no document to place it in`);
    // Two definitions must never write the same file; each clash is reported once per definition.
    const owner = new Map<string, Artefact>();
    const clashes = new Map<string, Set<string>>();
    for (const a of out.artefacts) {
      const prev = owner.get(a.path);
      if (!prev) {
        owner.set(a.path, a);
        continue;
      }
      for (const [x, y] of [
        [prev, a],
        [a, prev],
      ] as const) {
        for (const id of x.ids) {
          const others = clashes.get(id) ?? new Set<string>();
          y.ids.forEach((o) => others.add(o));
          clashes.set(id, others);
        }
      }
    }
    for (const [id, others] of clashes) {
      clashed.add(id);
      const def = byId.get(id);
      if (!def) {
        // A reused definition: where its id is written, only its file (not read) can tell.
        if (reuse.length > 0) return fallback(`'${id}' and '${[...others].sort().join("', '")}' would generate the same files`);
        continue;
      }
      makeReporter(def.document, diagnostics).at(
        def.ir.targets.systemd?.unitName && target.name === 'systemd' ? ['targets', 'systemd', 'unit_name'] : ['id'],
        'name-collision',
        `${target.name}: '${id}' and '${[...others].sort().join("', '")}' would generate the same files`,
      );
    }
    // One at a time: spreading a fleet's artefacts into push() overflows the call stack.
    for (const a of out.artefacts) artefacts.push(a);
  }

  // Reusable next time: everything, after a compile without errors (a file with an error is
  // compiled again until it has none; warnings and notes are kept and given again).
  const reusable = (target: TargetName): Reusable => {
    const out: Reusable = { definitions: [], files: new Map() };
    const k = targets.findIndex((t) => t.name === target);
    if (hasErrors(diagnostics) || k < 0) return out;
    const keys = new Map<string, string>();
    for (const d of loaded.definitions) keys.set(d.document.file.path, keyOf(d.document.file as SourceFile & { name?: string }));
    for (const f of reused.files) keys.set(f.path, keyOf(f));
    // A file's own diagnostics (not its targets'): those loading it gave, or gave last time.
    for (const d of loaded.diagnostics) {
      const key = keys.get(d.file);
      if (key === undefined) continue;
      const { file: _, ...kept } = d;
      const list = out.files.get(key);
      if (list) list.push(kept);
      else out.files.set(key, [kept]);
    }
    const partOf = new Map<string, TargetPart | undefined>();
    entries.forEach((e, i) => partOf.set(e.id, partsOf[k]![i]));
    const add = (id: string, key: string, index: number, enabled: boolean) => {
      const part = partOf.get(id);
      const d: ReusableDefinition = { id, key, index, enabled };
      if (part) {
        d.part = { paths: part.artefacts.map((a) => a.path) };
        if (part.share !== undefined) d.part.share = part.share;
        if (part.problems.length > 0) d.part.problems = part.problems;
      }
      out.definitions.push(d);
    };
    for (const d of loaded.definitions) add(d.ir.id, keyOf(d.document.file as SourceFile & { name?: string }), d.document.index, d.enabled);
    for (const r of reuse) add(r.id, r.key, r.index, r.enabled);
    return out;
  };

  if (hasErrors(diagnostics)) artefacts = [];
  const shown = capPerFile(diagnostics);
  shown.sort(compareDiagnostics);
  artefacts.sort((a, b) => (a.target !== b.target ? (a.target < b.target ? -1 : 1) : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artefacts, diagnostics: shown, definitions: loaded.definitions.map((d) => d.ir), reusable };
}

/** Target problems not yet located, per document: its parses are dropped after the last one. */
const unlocated = new WeakMap<LoadedDocument, number>();

/**
 * A target's problem as a diagnostic whose position is found when first asked for. A fleet
 * compiled for a target that approximates something gets one warning per definition: sorting
 * them needs where each starts, which a second reading by js-yaml tells (~10× cheaper than
 * parsing the file again with `yaml`); where it ends — for printing — comes from `yaml`, and
 * printing shows only a few of many alike (see printDiagnostics).
 */
function targetDiagnostic(document: LoadedDocument, p: TargetProblem): Diagnostic {
  unlocated.set(document, (unlocated.get(document) ?? 0) + 1);
  return new PlacedWhenAsked(document, p);
}

/**
 * Its `range` (an own, enumerable property, as on every diagnostic) is found on first read.
 * Classes whose accessors are shared, not objects each with a getter of its own: V8 keeps those
 * as dictionaries, with a closure each (at fleet scale, megabytes and garbage-collector work).
 */
class PlacedWhenAsked implements Diagnostic {
  readonly code: Diagnostic['code'];
  readonly severity: Diagnostic['severity'];
  readonly message: string;
  readonly file: string;
  declare readonly range: Range;
  declare help?: string;
  readonly #document: LoadedDocument;
  readonly #field: TargetProblem['field'];
  #range: Range | undefined;
  #exact: Range | undefined;

  constructor(document: LoadedDocument, p: TargetProblem) {
    this.code = p.code;
    this.severity = p.severity;
    this.message = p.message;
    this.file = document.file.path;
    Object.defineProperty(this, 'range', PlacedWhenAsked.#RANGE);
    if (p.help) this.help = p.help;
    this.#document = document;
    this.#field = p.field;
  }

  static readonly #RANGE: PropertyDescriptor = {
    enumerable: true,
    get(this: PlacedWhenAsked) {
      return this.#place();
    },
  };

  /** Where the field is, start and end, from the `yaml` document. */
  exact(): Range {
    return (this.#exact ??= locate(this.#document, this.#field));
  }

  #place(): Range {
    if (this.#range === undefined) {
      const document = this.#document;
      const offset = document.startOf(this.#field);
      this.#range = offset === undefined ? this.exact() : new EndWhenAsked(document.lines.position(offset), this);
      const left = (unlocated.get(document) ?? 1) - 1;
      if (left > 0) unlocated.set(document, left);
      else {
        unlocated.delete(document);
        document.forget();
      }
    }
    return this.#range;
  }
}

/** A range whose start is known and whose `end` (own and enumerable) is found on first read. */
class EndWhenAsked implements Range {
  declare readonly end: Position;
  readonly #of: PlacedWhenAsked;
  constructor(
    readonly start: Position,
    of: PlacedWhenAsked,
  ) {
    this.#of = of;
    Object.defineProperty(this, 'end', EndWhenAsked.#END);
  }

  static readonly #END: PropertyDescriptor = {
    enumerable: true,
    get(this: EndWhenAsked) {
      return this.#of.exact().end;
    },
  };
}

/**
 * At most this many diagnostics per file: a hostile 1 MiB file can produce one per line, and
 * each is printed with its source line. Errors are kept before warnings; the rest is counted in
 * one more diagnostic (an error if any error was left out, so the verdict never changes).
 */
const MAX_DIAGNOSTICS_PER_FILE = 100;

function capPerFile(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const list = byFile.get(d.file);
    if (list) list.push(d);
    else byFile.set(d.file, [d]);
  }
  const out: Diagnostic[] = [];
  for (const [file, list] of byFile) {
    if (list.length <= MAX_DIAGNOSTICS_PER_FILE || file === '') {
      for (const d of list) out.push(d);
      continue;
    }
    const rank = (d: Diagnostic) => (d.severity === 'error' ? 0 : d.severity === 'warning' ? 1 : 2);
    const ordered = [...list].sort((a, b) => rank(a) - rank(b) || compareDiagnostics(a, b));
    const kept = ordered.slice(0, MAX_DIAGNOSTICS_PER_FILE);
    const rest = ordered.slice(MAX_DIAGNOSTICS_PER_FILE);
    for (const d of kept) out.push(d);
    const errors = rest.filter((d) => d.severity === 'error').length;
    const first = rest.filter((d) => errors === 0 || d.severity === 'error').sort(compareDiagnostics)[0]!;
    out.push({
      code: first.code,
      severity: errors > 0 ? 'error' : 'warning',
      message: `${rest.length} more problem${rest.length === 1 ? '' : 's'} in this file (${errors} error${errors === 1 ? '' : 's'}) not shown; fix the ones above first`,
      file,
      ...(first.range ? { range: first.range } : {}),
    });
  }
  return out;
}
