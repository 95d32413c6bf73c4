/**
 * `acore diff`: what changed between two versions of the definitions, in words (per definition:
 * added, removed, renamed, or which fields changed, with schedules described, rates counted and
 * the next fire times listed) and in bytes (a unified diff of every generated file).
 *
 * Both versions are read straight from git (`git ls-tree`, `git cat-file`), or from disk for the
 * working tree, and compiled with the same pure pipeline and options. Nothing is written.
 *
 * Exit codes: 0 nothing changed, 1 something changed or a side has invalid definitions,
 * 2 usage (not a repository, an unknown ref, a bad ACORE_NOW).
 */
import { createTwoFilesPatch } from 'diff';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { emit, loadDefinitions, type LoadedDefinition, SharedWork } from '../compiler/compile.ts';
import { compareDiagnostics, type Diagnostic, hasErrors } from '../compiler/diagnostics.ts';
import type { ActivityIR, TargetName } from '../compiler/ir.ts';
import { TARGET_NAMES } from '../compiler/schema.ts';
import type { SourceFile } from '../compiler/source.ts';
import type { Artefact } from '../targets/target.ts';
import { loadTarget, targetOptions } from './compile-shared.ts';
import {
  compareFacts,
  type FactChange,
  type FactValue,
  factsOf,
  RATE_WINDOW_DAYS,
  sameApartFromId,
  sameSchedule,
  type ScheduleFacts,
  scheduleFacts,
} from './describe.ts';
import {
  commit,
  type CommitInfo,
  defaultBranch,
  GitError,
  listTree,
  mergeBase,
  readBlobs,
  repositoryRoot,
  type TreeFile,
} from './git.ts';
import { EXIT, type Io } from './main.ts';
import { formatDiagnostic, summary } from './report.ts';
import { MAX_DEFINITION_BYTES, readDefinitions } from './sources.ts';
import { type Timings, withTimings } from './timings.ts';

export interface DiffOptions {
  base?: string;
  head?: string;
  definitions: string;
  target?: TargetName[];
  format: 'text' | 'markdown';
}

class UsageError extends Error {}

export function diffCommand(opts: DiffOptions, io: Io): Promise<number> {
  return withTimings(io.env, async (timings) => {
    try {
      return await runDiff(opts, io, timings);
    } catch (e) {
      if (e instanceof GitError || e instanceof UsageError) {
        io.stderr(`acore: ${e.message}\n`);
        return EXIT.usage;
      }
      throw e;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Reading the two sides

type SideName = 'base' | 'head';

interface Side {
  name: SideName;
  /** How the user named it, e.g. `HEAD~1 (1a2b3c4)` or `the working tree`. */
  label: string;
  /** The same in Markdown (refs and commits as code). */
  mdLabel: string;
  /** The commit, or undefined for the working tree / an empty base (no commits yet). */
  commit?: string;
  workingTree: boolean;
  /** False when the definitions directory is not there on this side (everything added/removed). */
  exists: boolean;
  files: (SourceFile & { name: string })[];
  diagnostics: Diagnostic[];
  loaded: LoadedDefinition[];
  artefacts: Artefact[];
}

interface Location {
  root: string;
  /** The definitions directory relative to the repository root ('' = the root), '/'-separated. */
  dirInRepo: string;
  /** Its last component, the first component of every definition's name. */
  rootName: string;
  /** As shown to the user. */
  display: string;
}

function locate(root: string, dir: string, cwd: string): Location {
  let realCwd = cwd;
  try {
    realCwd = realpathSync(cwd);
  } catch {
    // keep cwd as given
  }
  const abs = resolve(realCwd, dir);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    // not on disk (e.g. deleted in the working tree): the lexical path is what git knows
  }
  const inRepo = relative(root, real);
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) {
    throw new UsageError(`the definitions directory ${dir} is outside the git repository ${root}`);
  }
  return { root, dirInRepo: inRepo.split(sep).join('/'), rootName: basename(resolve(cwd, dir)), display: dir };
}

/** A commit's definition files as listed (not yet read), and those refused for their size. */
interface ListedSide {
  exists: boolean;
  files: TreeFile[];
  diagnostics: Diagnostic[];
}

async function listCommitSide(loc: Location, cwd: string, commit: string): Promise<ListedSide> {
  const tree = await listTree(loc.root, commit, loc.dirInRepo);
  const diagnostics: Diagnostic[] = [];
  const candidates = tree.files.filter((f) => {
    const below = loc.dirInRepo ? f.path.slice(loc.dirInRepo.length + 1) : f.path;
    const parts = below.split('/');
    return /\.ya?ml$/i.test(parts[parts.length - 1] ?? '') && !parts.some((p) => p.startsWith('.'));
  });
  const files = candidates.filter((f) => {
    if (f.size <= MAX_DEFINITION_BYTES) return true;
    diagnostics.push({ code: 'io-read', severity: 'error', message: `file is ${f.size} bytes; definitions are limited to ${MAX_DEFINITION_BYTES} bytes`, file: displayPath(loc, cwd, f.path) });
    return false;
  });
  return { exists: tree.exists, files, diagnostics };
}

function displayPath(loc: Location, cwd: string, path: string): string {
  const r = relative(cwd, join(loc.root, ...path.split('/')));
  return (r.startsWith('..') ? join(loc.root, path) : r).split(sep).join('/');
}

/**
 * A listed side with its files' texts, from blobs read for both sides at once. A blob both sides
 * hold is decoded once (`texts`, by object name; undefined: not UTF-8), so their files share one string.
 */
function readCommitSide(loc: Location, cwd: string, listed: ListedSide, blobs: ReadonlyMap<string, Buffer>, texts: Map<string, string | undefined>): Pick<Side, 'exists' | 'files' | 'diagnostics'> {
  const diagnostics = [...listed.diagnostics];
  const files: Side['files'] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  for (const f of listed.files) {
    const path = displayPath(loc, cwd, f.path);
    const below = loc.dirInRepo ? f.path.slice(loc.dirInRepo.length + 1) : f.path;
    if (!texts.has(f.object)) {
      let text: string | undefined;
      try {
        text = decoder.decode(blobs.get(f.object) ?? Buffer.alloc(0));
      } catch {
        text = undefined;
      }
      texts.set(f.object, text);
    }
    const text = texts.get(f.object);
    if (text === undefined) {
      diagnostics.push({ code: 'io-encoding', severity: 'error', message: 'not valid UTF-8', file: path });
      continue;
    }
    files.push({ path, name: `${loc.rootName}/${below}`, text });
  }
  return { exists: listed.exists, files, diagnostics };
}

function readWorkingTree(loc: Location, dir: string, cwd: string): Pick<Side, 'exists' | 'files' | 'diagnostics'> {
  const abs = resolve(cwd, dir);
  if (!existsSync(abs)) return { exists: false, files: [], diagnostics: [] };
  const read = readDefinitions(dir, cwd);
  // An empty directory is no definitions, not an error, when comparing versions.
  const diagnostics = read.diagnostics.filter((d) => d.code !== 'no-definitions');
  return { exists: statSync(abs).isDirectory(), files: read.files, diagnostics };
}

// ---------------------------------------------------------------------------------------------
// Comparing

type Status = 'added' | 'removed' | 'changed' | 'renamed';

interface Entry {
  status: Status;
  id: string;
  /** For an id rename: the old id. */
  previousId?: string;
  fileBefore?: string;
  fileAfter?: string;
  /** Field changes (changed), or every field (added / removed, on `after` / `before`). */
  changes: FactChange[];
  schedule?: { before?: ScheduleFacts; after?: ScheduleFacts; sameTimes: boolean };
  /** Why an added/removed definition may only look so: its file is invalid on the other side. */
  note?: string;
}

interface FileDiff {
  target: TargetName;
  path: string;
  kind: 'added' | 'removed' | 'modified';
  patch: string;
}

interface Report {
  base: Side;
  head: Side;
  definitions: string;
  targets: TargetName[];
  now: number;
  nowSource: string;
  entries: Entry[];
  unchanged: number;
  files: FileDiff[];
  /** False when a side has errors (no artefacts to compare). */
  filesCompared: boolean;
  newWarnings: Diagnostic[];
}

function fileOf(ir: ActivityIR): string {
  return ir.source;
}

function erroredNames(side: Side): Set<string> {
  const byPath = new Map(side.files.map((f) => [f.path, f.name]));
  const out = new Set<string>();
  for (const d of side.diagnostics) if (d.severity === 'error') out.add(byPath.get(d.file) ?? d.file);
  return out;
}

function wholeSchedule(ir: ActivityIR, now: number): ScheduleFacts | undefined {
  return ir.trigger.kind === 'cron' ? scheduleFacts(ir.trigger, now) : undefined;
}

function compareSides(base: Side, head: Side, now: number): { entries: Entry[]; unchanged: number } {
  const before = new Map(base.loaded.map((d) => [d.ir.id, d]));
  const after = new Map(head.loaded.map((d) => [d.ir.id, d]));
  const entries: Entry[] = [];
  let unchanged = 0;

  for (const [id, a] of before) {
    const b = after.get(id);
    if (!b) continue;
    const changes = compareFacts(factsOf(a.ir, a.enabled), factsOf(b.ir, b.enabled));
    const moved = fileOf(a.ir) !== fileOf(b.ir);
    if (changes.length === 0 && !moved) {
      unchanged++;
      continue;
    }
    const entry: Entry = { status: changes.length ? 'changed' : 'renamed', id, fileBefore: fileOf(a.ir), fileAfter: fileOf(b.ir), changes };
    const ta = a.ir.trigger;
    const tb = b.ir.trigger;
    if (changes.some((c) => c.key === 'schedule' || c.key === 'timezone' || c.key === 'trigger')) {
      const sameTimes = ta.kind === 'cron' && tb.kind === 'cron' && ta.timezone === tb.timezone && sameSchedule(ta.schedule, tb.schedule);
      const sa = wholeSchedule(a.ir, now);
      const sb = wholeSchedule(b.ir, now);
      entry.schedule = { sameTimes, ...(sa ? { before: sa } : {}), ...(sb ? { after: sb } : {}) };
    }
    entries.push(entry);
  }

  const removed = [...before.values()].filter((d) => !after.has(d.ir.id));
  const added = [...after.values()].filter((d) => !before.has(d.ir.id));
  // Same content under a new id: a rename of the id, paired greedily in id order.
  const pairedAdded = new Set<string>();
  const pairedRemoved = new Set<string>();
  for (const r of removed) {
    const match = added.find((a) => !pairedAdded.has(a.ir.id) && sameApartFromId(r.ir, r.enabled, a.ir, a.enabled));
    if (!match) continue;
    pairedAdded.add(match.ir.id);
    pairedRemoved.add(r.ir.id);
    entries.push({ status: 'renamed', id: match.ir.id, previousId: r.ir.id, fileBefore: fileOf(r.ir), fileAfter: fileOf(match.ir), changes: [] });
  }
  const baseBroken = erroredNames(base);
  const headBroken = erroredNames(head);
  const brokenOn = (broken: Set<string>, ir: ActivityIR) => [...broken].some((n) => ir.source === n || ir.source.startsWith(`${n} (`));
  for (const d of added) {
    if (pairedAdded.has(d.ir.id)) continue;
    const facts = factsOf(d.ir, d.enabled).filter((f) => !f.implied);
    const sched = wholeSchedule(d.ir, now);
    entries.push({
      status: 'added',
      id: d.ir.id,
      fileAfter: fileOf(d.ir),
      changes: facts.map((f) => ({ key: f.key, label: f.label, ...(f.subject !== undefined ? { subject: f.subject } : {}), after: f.value })),
      ...(sched ? { schedule: { after: sched, sameTimes: false } } : {}),
      ...(brokenOn(baseBroken, d.ir) ? { note: 'its file is invalid at the base, so it may only look added' } : {}),
    });
  }
  for (const d of removed) {
    if (pairedRemoved.has(d.ir.id)) continue;
    const facts = factsOf(d.ir, d.enabled).filter((f) => !f.implied);
    const sched = wholeSchedule(d.ir, now);
    entries.push({
      status: 'removed',
      id: d.ir.id,
      fileBefore: fileOf(d.ir),
      changes: facts.map((f) => ({ key: f.key, label: f.label, ...(f.subject !== undefined ? { subject: f.subject } : {}), before: f.value })),
      ...(sched ? { schedule: { before: sched, sameTimes: false } } : {}),
      ...(brokenOn(headBroken, d.ir) ? { note: 'its file is invalid at the head, so it may only look removed' } : {}),
    });
  }
  entries.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return { entries, unchanged };
}

function compareArtefacts(base: Side, head: Side, targets: readonly TargetName[]): FileDiff[] {
  const out: FileDiff[] = [];
  for (const target of targets) {
    const a = new Map(base.artefacts.filter((x) => x.target === target).map((x) => [x.path, x.content]));
    const b = new Map(head.artefacts.filter((x) => x.target === target).map((x) => [x.path, x.content]));
    const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
    for (const path of paths) {
      const old = a.get(path);
      const now = b.get(path);
      if (old === now) continue;
      const kind = old === undefined ? 'added' : now === undefined ? 'removed' : 'modified';
      const patch = createTwoFilesPatch(
        old === undefined ? '/dev/null' : `a/${target}/${path}`,
        now === undefined ? '/dev/null' : `b/${target}/${path}`,
        old ?? '',
        now ?? '',
        undefined,
        undefined,
        { context: 3 },
      ).replace(/^=+\n/, '');
      out.push({ target, path, kind, patch });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The command

function parseNow(io: Io): number | undefined {
  const raw = io.env.ACORE_NOW;
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(raw.trim()) || !Number.isFinite(ms)) {
    throw new UsageError(`ACORE_NOW='${raw}' is not an ISO 8601 instant with a zone (e.g. 2026-05-04T10:07:00Z)`);
  }
  return ms;
}

async function runDiff(opts: DiffOptions, io: Io, timings: Timings | undefined): Promise<number> {
  const fixedNow = parseNow(io);
  const resolveOrFail = async (ref: string, what: string): Promise<CommitInfo> => {
    const found = await commit(io.cwd, ref);
    if (!found) throw new UsageError(`--${what} '${ref}' is not a commit in this repository (try a branch, a tag, a commit or HEAD~1)`);
    return found;
  };

  // Head: a commit, or the working tree. Base: as given, or where the head left the default
  // branch. Independent git calls run side by side (git is slow to start).
  const [root, headInfo, givenBase, defaults] = await Promise.all([
    repositoryRoot(io.cwd),
    opts.head !== undefined ? resolveOrFail(opts.head, 'head') : undefined,
    opts.base !== undefined ? resolveOrFail(opts.base, 'base') : undefined,
    opts.base === undefined ? Promise.all([opts.head === undefined ? commit(io.cwd, 'HEAD') : undefined, defaultBranch(io.cwd)]) : undefined,
  ]);
  const loc = locate(root, opts.definitions, io.cwd);
  const headCommit = headInfo?.sha;
  let baseInfo = givenBase;
  let branch: string | undefined;
  let mb: CommitInfo | undefined;
  const fromName = opts.head ?? 'HEAD';
  if (defaults) {
    const from = headInfo ?? defaults[0];
    branch = defaults[1];
    const mbSha = from && branch ? await mergeBase(root, branch, from.sha) : undefined;
    mb = mbSha ? await commit(root, mbSha) : undefined;
    baseInfo = mb ?? from;
  }
  const baseCommit = baseInfo?.sha;

  const headLabel = headInfo ? `${opts.head} (${headInfo.short})` : 'the working tree';
  const headMd = headInfo ? `${code(opts.head ?? '')} (${code(headInfo.short)})` : 'the working tree';
  let baseLabel: string;
  let baseMd: string;
  if (opts.base !== undefined) {
    baseLabel = `${opts.base} (${baseInfo!.short})`;
    baseMd = `${code(opts.base)} (${code(baseInfo!.short)})`;
  } else if (!baseInfo) {
    baseLabel = 'nothing (no commits yet)';
    baseMd = baseLabel;
  } else if (mb) {
    baseLabel = `the merge base of ${fromName} with ${branch} (${mb.short})`;
    baseMd = `the merge base of ${code(fromName)} with ${code(branch ?? '')} (${code(mb.short)})`;
  } else {
    baseLabel = `${fromName} (${baseInfo.short}; no default branch found)`;
    baseMd = `${code(fromName)} (${code(baseInfo.short)}; no default branch found)`;
  }

  let now: number;
  let nowSource: string;
  if (fixedNow !== undefined) {
    now = fixedNow;
    nowSource = 'ACORE_NOW';
  } else if (headInfo) {
    now = headInfo.date;
    nowSource = "the head commit's date";
  } else {
    now = Date.now();
    nowSource = 'now';
  }

  // Both commits listed, then every blob they hold read in one `git cat-file` (a blob both
  // hold, most of them in a pull request, is read once).
  const [baseListed, headListed] = await Promise.all([baseCommit ? listCommitSide(loc, io.cwd, baseCommit) : undefined, headCommit ? listCommitSide(loc, io.cwd, headCommit) : undefined]);
  const blobs = await readBlobs(loc.root, [...(baseListed?.files ?? []), ...(headListed?.files ?? [])].map((f) => f.object));
  const texts = new Map<string, string | undefined>();
  const fromCommit = (listed: ListedSide | undefined) => (listed ? readCommitSide(loc, io.cwd, listed, blobs, texts) : { exists: false, files: [], diagnostics: [] });
  const baseRead = fromCommit(baseListed);
  const headRead = headCommit === undefined ? readWorkingTree(loc, opts.definitions, io.cwd) : fromCommit(headListed);
  if (!baseRead.exists && !headRead.exists) {
    throw new UsageError(`definitions directory ${opts.definitions} exists neither in ${baseLabel} nor in ${headLabel}`);
  }

  const targetNames = opts.target?.length ? opts.target : [...TARGET_NAMES];
  const targets = await Promise.all(targetNames.map(loadTarget));
  const options = targetOptions({ scope: 'user' });
  // A file the two sides have alike is compiled once (most of them, in a fleet's pull request).
  const shared = new SharedWork();
  const build = (name: SideName, label: string, mdLabel: string, commit: string | undefined, r: typeof baseRead): Side => {
    const loaded = loadDefinitions(r.files, timings?.measure, shared);
    const result = emit(loaded, targets, options, timings?.measure, { shared });
    return {
      name,
      label,
      mdLabel,
      ...(commit ? { commit } : {}),
      workingTree: name === 'head' && headCommit === undefined,
      exists: r.exists,
      files: r.files,
      diagnostics: [...r.diagnostics, ...result.diagnostics].sort(compareDiagnostics),
      loaded: loaded.definitions,
      artefacts: result.artefacts,
    };
  };
  const base = build('base', baseLabel, baseMd, baseCommit, baseRead);
  const head = build('head', headLabel, headMd, headCommit, headRead);

  const { entries, unchanged } = compareSides(base, head, now);
  const filesCompared = !hasErrors(base.diagnostics) && !hasErrors(head.diagnostics);
  const files = filesCompared ? compareArtefacts(base, head, targetNames) : [];
  const known = new Set(base.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.code}\0${d.message}`));
  const newWarnings = head.diagnostics.filter((d) => d.severity === 'warning' && !known.has(`${d.code}\0${d.message}`));

  const report: Report = { base, head, definitions: opts.definitions, targets: targetNames, now, nowSource, entries, unchanged, files, filesCompared, newWarnings };

  // Invalid definitions: on stderr, each side named, whatever the format.
  for (const side of [base, head]) {
    const errors = side.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length === 0) continue;
    const texts = new Map(side.files.map((f) => [f.path, f.text]));
    io.stderr(`acore: ${side.name} (${side.label}) has invalid definitions: ${summary(errors)}\n\n`);
    for (const d of errors) io.stderr(`${formatDiagnostic(d, (f) => texts.get(f), io.color)}\n\n`);
  }

  io.stdout(opts.format === 'markdown' ? renderMarkdown(report) : renderText(report, io.color));
  const changed = entries.length > 0 || files.length > 0;
  return changed || !filesCompared ? EXIT.failed : EXIT.ok;
}

// ---------------------------------------------------------------------------------------------
// Shared wording

const STATUS_WORD: Record<Status, string> = { added: 'added', removed: 'removed', changed: 'changed', renamed: 'renamed' };

function counts(r: Report): string {
  const n = (s: Status) => r.entries.filter((e) => e.status === s).length;
  const parts = (['changed', 'added', 'removed', 'renamed'] as const).filter((s) => n(s) > 0).map((s) => `${n(s)} ${STATUS_WORD[s]}`);
  parts.push(`${r.unchanged} unchanged`);
  return parts.join(', ');
}

function renameWords(e: Entry): string {
  const parts: string[] = [];
  if (e.previousId !== undefined) parts.push(`id ${e.previousId} → ${e.id}`);
  if (e.fileBefore !== e.fileAfter) parts.push(`file ${e.fileBefore} → ${e.fileAfter}`);
  return parts.join('; ');
}

function nowWords(r: Report): string {
  return `${new Date(Math.floor(r.now / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z')} (${r.nowSource})`;
}

/** How runs were counted and fire times chosen, said once below the numbers. */
function countedWords(r: Report, facts: readonly (ScheduleFacts | undefined)[]): string {
  const f = facts.filter((x): x is ScheduleFacts => x !== undefined);
  const starts = [...new Set(f.map((x) => x.windowStart))].join(' / ');
  const zones = [...new Set(f.map((x) => x.zone ?? 'UTC'))].join(' / ');
  const noZone = f.some((x) => x.zone === undefined);
  return (
    `Runs are counted over ${RATE_WINDOW_DAYS / 7} weeks (${RATE_WINDOW_DAYS} days) from ${starts}, local time in ${zones}, ` +
    `nonexistent local times skipped and repeated ones counted once; fire times are the first five after ${nowWords(r)}, in ${zones}` +
    (noZone ? " (no time zone in the definition: it runs in the host's local time, shown here in UTC)" : '') +
    '.'
  );
}

/** Literal values that would be misread bare (edge spaces, control characters) are quoted. */
function plain(v: FactValue | undefined): string {
  if (!v) return '(not set)';
  // eslint-disable-next-line no-control-regex
  if (v.literal && (/^\s|\s$/.test(v.text) || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(v.text) || v.text === '')) return JSON.stringify(v.text);
  return v.text;
}

function multiLine(v: FactValue | undefined): boolean {
  return Boolean(v && v.text.replace(/\n$/, '').includes('\n'));
}

/** A value as lines to show (one trailing line break is not a line of its own). */
function valueLines(v: FactValue | undefined): string[] {
  if (v === undefined) return ['(not set)'];
  return multiLine(v) ? v.text.replace(/\n$/, '').split('\n') : [plain(v)];
}

const TRIGGER_KEYS = new Set(['trigger', 'schedule', 'timezone', 'misfire', 'event']);

/** Index of the change after which the schedule's meaning is shown: the last trigger field listed. */
function scheduleAnchor(e: Entry): number {
  if (!e.schedule) return -1;
  let at = -1;
  e.changes.forEach((c, i) => {
    if (TRIGGER_KEYS.has(c.key) || c.key.startsWith('filter:')) at = i;
  });
  return at >= 0 ? at : e.changes.length - 1;
}

// ---------------------------------------------------------------------------------------------
// Text

function renderText(r: Report, color: boolean): string {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const bold = (s: string) => paint('1', s);
  const out: string[] = [];
  out.push(`${bold('acore diff')}: ${r.base.label} → ${r.head.label} (${r.definitions})`);
  out.push(`fire times from ${nowWords(r)}`);
  out.push('');

  const mark: Record<Status, string> = { added: paint('32', '+'), removed: paint('31', '-'), changed: paint('33', '~'), renamed: paint('36', '>') };
  for (const e of r.entries) {
    const file = e.status === 'removed' ? e.fileBefore : e.fileAfter;
    out.push(`${mark[e.status]} ${bold(e.id)} (${STATUS_WORD[e.status]})  ${file ?? ''}`);
    if (e.note) out.push(`    note: ${e.note}`);
    if (e.status === 'renamed') {
      out.push(`    renamed: ${renameWords(e)}; nothing else changed`);
      continue;
    }
    if (e.status === 'changed' && e.fileBefore !== e.fileAfter) out.push(`    file moved: ${e.fileBefore} → ${e.fileAfter}`);
    const anchor = scheduleAnchor(e);
    e.changes.forEach((c, i) => {
      const label = c.label.replace('{}', c.subject ?? '');
      if (e.status === 'changed') {
        if (multiLine(c.before) || multiLine(c.after) || plain(c.before).length + plain(c.after).length > 70) {
          out.push(`    ${label}:`);
          for (const l of valueLines(c.before)) out.push(paint('31', `      - ${l}`));
          for (const l of valueLines(c.after)) out.push(paint('32', `      + ${l}`));
        } else {
          out.push(`    ${label}: ${plain(c.before)} → ${plain(c.after)}`);
        }
      } else {
        const v = e.status === 'added' ? c.after : c.before;
        if (multiLine(v)) {
          out.push(`    ${label}:`);
          for (const l of valueLines(v)) out.push(`      ${l}`);
        } else out.push(`    ${label}: ${plain(v)}`);
      }
      if (i === anchor) out.push(...textSchedule(r, e));
    });
  }
  if (r.entries.length === 0) out.push('no definition changed');
  out.push('');

  for (const side of [r.base, r.head]) {
    const errors = side.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) out.push(paint('31;1', `${side.name} (${side.label}) has invalid definitions: ${summary(errors)} (shown on stderr)`));
  }
  for (const w of r.newWarnings) out.push(`${paint('33;1', 'new warning')}: ${w.file ? `${w.file}: ` : ''}${w.message}`);
  if (r.newWarnings.length) out.push('');

  if (!r.filesCompared) {
    out.push('generated files: not compared (a side has invalid definitions)');
  } else if (r.files.length === 0) {
    out.push(`generated files (${r.targets.join(', ')}): no change`);
  } else {
    out.push(bold(`generated files (${r.targets.join(', ')}): ${r.files.length} differ`));
    for (const f of r.files) {
      for (const line of f.patch.replace(/\n$/, '').split('\n')) {
        if (line.startsWith('+++') || line.startsWith('---')) out.push(bold(line));
        else if (line.startsWith('@@')) out.push(paint('36', line));
        else if (line.startsWith('+')) out.push(paint('32', line));
        else if (line.startsWith('-')) out.push(paint('31', line));
        else out.push(line);
      }
    }
  }
  out.push('');
  out.push(`summary: ${counts(r)}; ${r.filesCompared ? `${r.files.length} generated file${r.files.length === 1 ? '' : 's'} differ` : 'generated files not compared'}`);
  return `${out.join('\n')}\n`;
}

function textSchedule(r: Report, e: Entry): string[] {
  const s = e.schedule;
  if (!s) return [];
  const out: string[] = [];
  const { before: a, after: b } = s;
  const zones = (xs: (ScheduleFacts | undefined)[]) => [...new Set(xs.filter((x) => x).map((x) => x!.zone ?? 'UTC'))].join(' / ');
  if (a && b) {
    if (s.sameTimes) return ['      same fire times as before'];
    out.push(`      meaning:     ${a.description}`);
    out.push(`                →  ${b.description}`);
    out.push(`      runs a day:  ${a.perDay} → ${b.perDay}`);
    out.push(`      runs a week: ${a.perWeek} → ${b.perWeek}`);
    out.push(`      next five fire times (${zones([a, b])}):`);
    const width = Math.max(6, ...a.next.map((x) => x.length));
    out.push(`        ${'before'.padEnd(width)}   after`);
    for (let i = 0; i < Math.max(a.next.length, b.next.length); i++) out.push(`        ${(a.next[i] ?? '-').padEnd(width)}   ${b.next[i] ?? '-'}`);
  } else {
    const f = (a ?? b)!;
    out.push(`      meaning:     ${f.description}`);
    out.push(`      runs a day:  ${f.perDay}`);
    out.push(`      runs a week: ${f.perWeek}`);
    out.push(`      next five fire times (${zones([f])}):${f.next.length ? '' : ' none within 400 years'}`);
    for (const t of f.next) out.push(`        ${t}`);
  }
  out.push(`      (${countedWords(r, [a, b])})`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown (a pull-request comment)

/** GitHub refuses comments over 65 536 characters; the generated-file diffs give way first. */
const MARKDOWN_BUDGET = 60_000;

/** Inline code that survives any backticks in the value. */
function code(s: string): string {
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') || (s.startsWith(' ') && s.endsWith(' ') && s.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** Prose from outside (descriptions, file names): no markup, no HTML. */
function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([\\`*_[\]~#|])/g, '\\$1');
}

/** A table cell: one line, `|` escaped (GitHub needs that even inside code spans). */
function cell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function fenceFor(content: string): string {
  const longest = Math.max(0, ...(content.match(/`{3,}/g) ?? []).map((m) => m.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

function mdValue(v: FactValue | undefined): string {
  if (!v) return '*not set*';
  if (v.text.includes('\n')) return '*(multi-line, below)*';
  return v.literal ? code(v.text) : text(v.text);
}

/** A label in Markdown: acore's words as text, the subject (env name, probe bind) as code. */
function mdLabel(c: FactChange): string {
  return c.label
    .split('{}')
    .map((part) => text(part))
    .join(code(c.subject ?? ''));
}

function mdMultiLine(label: string, before: FactValue | undefined, after: FactValue | undefined): string[] {
  const lines = [...(before ? valueLines(before).map((l) => `- ${l}`) : []), ...(after ? valueLines(after).map((l) => `+ ${l}`) : [])];
  const body = lines.join('\n');
  const fence = fenceFor(body);
  return [`**${label}**`, '', `${fence}diff`, body, fence, ''];
}

function renderMarkdown(r: Report): string {
  const out: string[] = [];
  out.push('## acore diff');
  out.push('');
  out.push(`${r.base.mdLabel} → ${r.head.mdLabel}, definitions in ${code(r.definitions)}: **${counts(r)}**.`);
  out.push(`Fire times are listed from ${text(nowWords(r))}.`);
  out.push('');

  for (const side of [r.base, r.head]) {
    const errors = side.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length === 0) continue;
    const texts = new Map(side.files.map((f) => [f.path, f.text]));
    const body = errors.map((d) => formatDiagnostic(d, (f) => texts.get(f), false)).join('\n\n');
    const fence = fenceFor(body);
    out.push(`### ❌ Invalid definitions at the ${side.name}: ${side.mdLabel}`, '', `${fence}text`, body, fence, '');
  }

  const icon: Record<Status, string> = { added: '➕', removed: '➖', changed: '✏️', renamed: '🔀' };
  for (const e of r.entries) {
    const file = e.status === 'removed' ? e.fileBefore : e.fileAfter;
    out.push(`### ${icon[e.status]} ${code(e.id)}: ${STATUS_WORD[e.status]}`);
    out.push('');
    if (e.note) out.push(`> ${text(e.note)}`, '');
    if (e.status === 'renamed') {
      out.push(`Renamed: ${e.previousId !== undefined ? `id ${code(e.previousId)} → ${code(e.id)}` : ''}${e.previousId !== undefined && e.fileBefore !== e.fileAfter ? '; ' : ''}${e.fileBefore !== e.fileAfter ? `file ${code(e.fileBefore ?? '')} → ${code(e.fileAfter ?? '')}` : ''}. Nothing else changed.`);
      out.push('');
      continue;
    }
    if (e.status === 'changed' && e.fileBefore !== e.fileAfter) out.push(`File moved: ${code(e.fileBefore ?? '')} → ${code(e.fileAfter ?? '')}`);
    else out.push(`File: ${code(file ?? '')}`);
    out.push('');
    const blocks: string[] = [];
    const anchor = scheduleAnchor(e);
    if (e.status === 'changed') out.push('| | before | after |', '| --- | --- | --- |');
    else out.push('| | value |', '| --- | --- |');
    e.changes.forEach((c, i) => {
      const label = mdLabel(c);
      if (e.status === 'changed') {
        out.push(`| ${cell(label)} | ${cell(mdValue(c.before))} | ${cell(mdValue(c.after))} |`);
        if (multiLine(c.before) || multiLine(c.after)) blocks.push(...mdMultiLine(label, c.before, c.after));
      } else {
        const v = e.status === 'added' ? c.after : c.before;
        out.push(`| ${cell(label)} | ${cell(mdValue(v))} |`);
        if (multiLine(v)) blocks.push(...mdMultiLine(label, e.status === 'removed' ? v : undefined, e.status === 'added' ? v : undefined));
      }
      if (i === anchor) out.push(...mdScheduleRows(e));
    });
    out.push('');
    if (e.schedule && !e.schedule.sameTimes) out.push(`<sub>${text(countedWords(r, [e.schedule.before, e.schedule.after]))}</sub>`, '');
    out.push(...blocks);
  }
  if (r.entries.length === 0) out.push('No definition changed.', '');

  if (r.newWarnings.length) {
    out.push('### ⚠️ New warnings', '');
    for (const w of r.newWarnings) out.push(`- ${w.file ? `${code(w.file)}: ` : ''}${text(w.message)}`);
    out.push('');
  }

  out.push('### Generated files', '');
  if (!r.filesCompared) out.push('Not compared: a side has invalid definitions.', '');
  else if (r.files.length === 0) out.push(`No generated file changed (${r.targets.join(', ')}).`, '');
  else {
    let used = out.join('\n').length;
    const omitted: FileDiff[] = [];
    for (const target of r.targets) {
      const mine = r.files.filter((f) => f.target === target);
      if (mine.length === 0) continue;
      const kept = mine.filter((f) => {
        if (used + f.patch.length > MARKDOWN_BUDGET) {
          omitted.push(f);
          return false;
        }
        used += f.patch.length + 40;
        return true;
      });
      const summaryLine = mine.map((f) => `${f.kind === 'modified' ? '' : `${f.kind} `}${f.path}`).join(', ');
      out.push(`<details><summary><b>${target}</b>: ${mine.length} file${mine.length === 1 ? '' : 's'} (${text(summaryLine).replace(/\\([\\`*_[\]~#|])/g, '$1')})</summary>`, '');
      if (kept.length) {
        const body = kept.map((f) => f.patch.replace(/\n$/, '')).join('\n');
        const fence = fenceFor(body);
        out.push(`${fence}diff`, body, fence, '');
      }
      out.push('</details>', '');
    }
    if (omitted.length) out.push(`${omitted.length} diff${omitted.length === 1 ? '' : 's'} left out to keep this comment short (${omitted.map((f) => code(`${f.target}/${f.path}`)).join(', ')}); run \`acore diff\` locally.`, '');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

function mdScheduleRows(e: Entry): string[] {
  const s = e.schedule;
  if (!s) return [];
  const br = (xs: string[]) => (xs.length ? xs.join('<br>') : 'none within 400 years');
  const { before: a, after: b } = s;
  if (a && b) {
    if (s.sameTimes) return ['| ↳ fire times | same | same |'];
    return [
      `| ↳ meaning | ${cell(text(a.description))} | ${cell(text(b.description))} |`,
      `| ↳ runs a day | ${a.perDay} | ${b.perDay} |`,
      `| ↳ runs a week | ${a.perWeek} | ${b.perWeek} |`,
      `| ↳ next five fire times | ${br(a.next)} | ${br(b.next)} |`,
    ];
  }
  const f = (a ?? b)!;
  if (e.status === 'changed') {
    // cron ↔ event: only one side has a schedule.
    const row = (label: string, v: string) => (a ? `| ↳ ${label} | ${v} | |` : `| ↳ ${label} | | ${v} |`);
    return [row('meaning', cell(text(f.description))), row('runs a day', f.perDay), row('runs a week', f.perWeek), row('next five fire times', br(f.next))];
  }
  return [
    `| ↳ meaning | ${cell(text(f.description))} |`,
    `| ↳ runs a day | ${f.perDay} |`,
    `| ↳ runs a week | ${f.perWeek} |`,
    `| ↳ next five fire times | ${br(f.next)} |`,
  ];
}
