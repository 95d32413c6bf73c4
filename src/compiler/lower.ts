/**
 * Stage 3: a schema-valid definition → IR. Checks what a schema cannot: ids that must become
 * file names, cron expressions (parsed, and refused when they can never fire), time zones,
 * URLs, and rules (parsed and type-checked against the probes' binds). Positions inside
 * expressions point at the exact character.
 */
import { neverFires } from './cron/match.ts';
import { parseCron } from './cron/parse.ts';
import type { Diagnostic, DiagnosticCode, Range, Severity } from './diagnostics.ts';
import type { ActivityIR, ProbeIR, RuleConditionIR, ShellInstructionIR, TargetSettings } from './ir.ts';
import { isAlias, isScalar, type Node } from 'yaml';
import { type LoadedDocument, nodeAt, nodeRange, type PathSegment } from './load.ts';
import { checkRule, parseRule } from './rule/parse.ts';
import { type DefinitionValue, ID_PATTERN } from './schema.ts';
import { scalarOffsetMapper } from './source.ts';
import { knownZones } from './zones.ts';

export interface Reporter {
  /** Reports at a YAML path; `span` (offset, length) is inside the scalar's value. */
  at(path: PathSegment[], code: DiagnosticCode, message: string, opts?: { span?: [number, number]; severity?: Severity; help?: string }): void;
  /** The source text of the scalar at a path, as written (aliases followed); undefined if there is none. */
  text?(path: PathSegment[]): string | undefined;
}

/**
 * Where a YAML path is in its file: the node, else its key, else the nearest parent that exists;
 * `span` (offset, length) narrows it to characters inside a string scalar's value.
 */
export function locate(loaded: LoadedDocument, path: readonly PathSegment[], span?: readonly [number, number]): Range {
  const { node, key, parent } = nodeAt(loaded.doc, path);
  let range = nodeRange(node) ?? nodeRange(key) ?? nodeRange(parent) ?? [0, 0];
  if (span && node && typeof (node as { value?: unknown }).value === 'string') {
    const map = scalarOffsetMapper(loaded.file.text, (node as { value: string }).value, range[0], range[1]);
    const [offset, length] = span;
    const start = map(offset);
    const end = length > 0 ? map(offset + length - 1) + 1 : start;
    range = [start, Math.max(start, end)];
  }
  return loaded.lines.range(range[0], range[1]);
}

export function makeReporter(loaded: LoadedDocument, out: Diagnostic[]): Reporter {
  return {
    at(path, code, message, opts = {}) {
      const d: Diagnostic = { code, severity: opts.severity ?? 'error', message, file: loaded.file.path, range: locate(loaded, path, opts.span) };
      if (opts.help) d.help = opts.help;
      out.push(d);
    },
    text(path) {
      let { node } = nodeAt(loaded.doc, path);
      for (let hops = 0; node && isAlias(node) && hops < 100; hops++) node = node.resolve(loaded.doc) as Node | undefined;
      const range = isScalar(node) ? nodeRange(node) : undefined;
      return range ? loaded.file.text.slice(range[0], range[1]) : undefined;
    },
  };
}

export function lowerDefinition(def: DefinitionValue, source: string, report: Reporter): ActivityIR | undefined {
  let ok = true;
  const error = (path: PathSegment[], code: DiagnosticCode, message: string, opts?: { span?: [number, number]; help?: string }) => {
    ok = false;
    report.at(path, code, message, opts);
  };

  checkId(def.id, error);
  checkCharacters(def, error);

  // Trigger
  let trigger: ActivityIR['trigger'] | undefined;
  if (def.trigger.trigger_type === 'cron') {
    const t = def.trigger;
    const parsed = parseCron(t.cron_expression);
    if (!parsed.ok) {
      for (const e of parsed.errors) error(['trigger', 'cron_expression'], e.code, e.message, { span: [e.offset, e.length] });
    } else {
      for (const w of parsed.warnings) {
        report.at(['trigger', 'cron_expression'], w.code, w.message, { span: [w.offset, w.length], severity: 'warning' });
      }
      if (neverFires(parsed.schedule)) {
        error(['trigger', 'cron_expression'], 'cron-never-fires', `'${t.cron_expression.trim()}' can never fire: no day matches it in any year`, {
          help: 'check the day-of-month against the months (e.g. there is no 31 February)',
        });
      }
    }
    const timezone = t.timezone === undefined ? undefined : checkTimezone(t.timezone, error);
    if (parsed.ok) {
      trigger = { kind: 'cron', schedule: parsed.schedule, misfire: t.misfire_policy };
      if (timezone) trigger.timezone = timezone;
    }
  } else {
    const t = def.trigger;
    trigger = { kind: 'event', eventType: t.event_type, filters: Object.entries(t.filters ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)) };
    for (const [field] of trigger.filters) {
      // Filter fields become environment variable names (ACORE_EVENT_<FIELD>).
      if (field.length > MAX_NAME) error(['trigger', 'filters', field], 'schema-value', `filter field names are limited to ${MAX_NAME} characters (this one has ${field.length})`);
    }
  }

  // Probes
  const probes: ProbeIR[] = [];
  const binds = new Map<string, number>();
  def.context.forEach((p, i) => {
    checkUrl(p.url, ['context', i, 'url'], error);
    const first = binds.get(p.bind);
    if (['and', 'or', 'not', 'true', 'false', 'null'].includes(p.bind)) {
      error(['context', i, 'bind'], 'schema-value', `'${p.bind}' is a word of the rule language and cannot be used as a name`);
    } else if (first !== undefined) error(['context', i, 'bind'], 'schema-value', `'${p.bind}' is already bound by context[${first}]`);
    else binds.set(p.bind, i);
    probes.push({ kind: 'http_get', url: p.url, bind: p.bind, timeoutSeconds: p.timeout_seconds });
  });

  // Rule
  const conditions: RuleConditionIR[] = [];
  const used = new Set<string>();
  (def.rule?.when ?? []).forEach((text, i) => {
    const path = ['rule', 'when', i];
    const parsed = parseRule(text);
    if (!parsed.ok) {
      error(path, parsed.problem.code, parsed.problem.message, { span: [parsed.problem.offset, parsed.problem.length] });
      return;
    }
    const problems = checkRule(parsed.rule, [...binds.keys()]);
    for (const p of problems) error(path, p.code, p.message, { span: [p.offset, p.length] });
    collectRoots(parsed.rule.expr, used);
    conditions.push({ text, expr: parsed.rule.expr });
  });
  def.context.forEach((p, i) => {
    if (conditions.length > 0 && !used.has(p.bind)) {
      report.at(['context', i, 'bind'], 'probe-unused', `'${p.bind}' is bound but no rule uses it; the probe still has to succeed for the run to start`, {
        severity: 'warning',
      });
    }
  });

  const instruction = lowerInstruction(def, error, report);
  const targets = lowerTargets(def, error);

  if (!def.enabled) {
    report.at(['enabled'], 'definition-disabled', `'${def.id}' is disabled: it is checked but nothing is generated for it`, { severity: 'info' });
  }
  if (!ok || !trigger || !instruction) return undefined;
  const description = def.description?.trim();
  const ir: ActivityIR = {
    id: def.id,
    source,
    title: titleOf(description, def.id),
    trigger,
    probes,
    conditions,
    instruction,
    targets,
  };
  if (description) ir.description = description;
  return ir;
}

type ErrorFn = (path: PathSegment[], code: DiagnosticCode, message: string, opts?: { span?: [number, number]; help?: string }) => void;

function checkId(id: string, error: ErrorFn): void {
  const problem = idProblem(id);
  if (problem) error(['id'], 'id-invalid', `invalid id ${JSON.stringify(id)}: ${problem}`, { help: 'ids become file and unit names: use letters, digits, and . _ - (e.g. team.job-name)' });
}

export function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'it is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'it contains control characters';
  if (id.includes('/') || id.includes('\\')) return 'it contains a path separator';
  if (id.startsWith('.')) return 'it starts with a dot';
  if (id.includes('..')) return "it contains '..'";
  if (/\s/.test(id)) return 'it contains white space';
  if (id.length > 200) return 'it is longer than 200 characters';
  if (!ID_PATTERN.test(id)) return 'only letters, digits and . _ - are allowed, starting with a letter or digit';
  return undefined;
}

/** Zone names found good; ICU lists only canonical names (Asia/Calcutta, not Asia/Kolkata), and asking it about an alias costs ~25 µs. */
const goodZones = new Set<string>();

function checkTimezone(tz: string, error: ErrorFn): string | undefined {
  const zones = knownZones();
  if (zones.has(tz) || goodZones.has(tz)) return tz;
  let resolved: string | undefined;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    resolved = undefined;
  }
  // Zone names are file names under /usr/share/zoneinfo: the case must be exact.
  const wellFormed = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/.test(tz);
  if (resolved && wellFormed) {
    goodZones.add(tz);
    return tz;
  }
  const suggestion = resolved ?? [...zones].find((z) => z.toLowerCase() === tz.toLowerCase());
  error(['trigger', 'timezone'], 'timezone-unknown', `unknown time zone ${JSON.stringify(tz)}${suggestion ? `; did you mean '${suggestion}'?` : ''}`, {
    help: 'use an IANA zone name such as UTC, Europe/Berlin or America/New_York',
  });
  return undefined;
}

function checkUrl(url: string, path: PathSegment[], error: ErrorFn): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (!parsed || !/^https?:$/.test(parsed.protocol) || /[\s\u0000-\u001f\u007f]/.test(url)) {
    error(path, 'schema-value', `${JSON.stringify(url)} is not an http:// or https:// URL`);
  }
}

/**
 * Every string of a definition ends up in a file, a command line, an argument or an environment
 * variable: NUL cannot be held by any of them (C strings), and an unpaired surrogate (from a
 * `\uD800` escape) is not a character and cannot be written as UTF-8 (it would become U+FFFD,
 * i.e. a different value). Refused wherever they appear, at the value.
 */
// eslint-disable-next-line no-control-regex
const BAD_CHARACTER = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkCharacters(def: DefinitionValue, error: ErrorFn): void {
  // Depth first with one shared path: a fleet's definitions hold hundreds of thousands of values.
  const path: PathSegment[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      // One scan for the common case (nothing wrong); the message is built only for a problem.
      if (!BAD_CHARACTER.test(value)) return;
      const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
      if (value.includes('\0')) {
        error([...path], 'schema-value', `${where} contains a NUL character, which no command, argument, environment variable or file can hold`);
      } else if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
        error([...path], 'schema-value', `${where} contains an unpaired surrogate (a \\uD800-\\uDFFF escape), which is not a character and cannot be written as UTF-8`);
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        visit(value[i]);
        path.pop();
      }
    } else if (value !== null && typeof value === 'object') {
      for (const k of Object.keys(value)) {
        path.push(k);
        visit((value as Record<string, unknown>)[k]);
        path.pop();
      }
    }
  };
  visit(def);
}

function lowerInstruction(def: DefinitionValue, error: ErrorFn, report: Reporter): ShellInstructionIR | undefined {
  const ins = def.instruction;
  let ok = true;
  const bad = (path: PathSegment[], message: string) => {
    ok = false;
    error(['instruction', ...path], 'schema-value', message);
  };
  if (ins.cmd.trim() === '') bad(['cmd'], 'cmd is empty: there is nothing to run');
  const absolute = (v: string | undefined, field: string) => {
    if (v === undefined) return;
    if (!v.startsWith('/')) bad([field], `${field} must be an absolute path, got ${JSON.stringify(v)}`);
    // eslint-disable-next-line no-control-regex
    else if (/[\u0001-\u001f\u007f]/.test(v)) bad([field], `${field} must not contain control characters`); // NUL: checkCharacters
  };
  absolute(ins.working_directory, 'working_directory');
  absolute(ins.lock_file, 'lock_file');
  // WorkingDirectory= in a unit file takes the path raw: systemd strips trailing white space, and
  // a trailing backslash joins the next line to it. Such a path cannot be written exactly.
  if (ins.working_directory !== undefined && /^\/.*[ \t\\]$/s.test(ins.working_directory)) {
    bad(['working_directory'], 'working_directory must not end with a space, a tab or a backslash: a systemd unit cannot hold such a path exactly');
  }
  const env: [string, string][] = [];
  for (const [k, v] of Object.entries(ins.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const value = String(v);
    // A YAML implicit key (GitHub's env:) may be at most 1024 characters; no real name comes close.
    if (k.length > MAX_NAME) bad(['env', k], `environment variable names are limited to ${MAX_NAME} characters (this one has ${k.length})`);
    // A number or boolean is passed as JavaScript writes it back; refuse one that was written
    // otherwise (0x10, 1.0, True, 1e3, -0), which would pass a value the author did not write.
    const written = typeof v === 'string' ? undefined : report.text?.(['instruction', 'env', k]);
    if (written !== undefined && written !== value) {
      bad(['env', k], `the value of ${k} is written ${written}, which YAML reads as the ${typeof v} ${value}: quote it ("${written}") to pass it as written`);
    }
    env.push([k, value]);
  }
  if (!ok) return undefined;
  const ir: ShellInstructionIR = { kind: 'shell', command: ins.cmd, onFailure: ins.on_failure, env };
  if (ins.timeout_seconds !== undefined) ir.timeoutSeconds = ins.timeout_seconds;
  if (ins.working_directory !== undefined) ir.workingDirectory = ins.working_directory;
  if (ins.lock_file !== undefined) ir.lockFile = ins.lock_file;
  return ir;
}

/** Names that become environment variable names or YAML keys. */
const MAX_NAME = 255;

function lowerTargets(def: DefinitionValue, error: ErrorFn): TargetSettings {
  const t = def.targets;
  if (t === undefined) return { systemd: { onFailure: [] }, crontab: {}, github: {} };
  const out: TargetSettings = {};
  if (t.systemd !== undefined) {
    const s = t.systemd ?? {};
    // unit_name becomes file names (<name>.timer, …) in the output directory, like an id.
    const unit = s.unit_name;
    const problem = unit === undefined ? undefined : unit.startsWith('.') ? 'it starts with a dot' : unit.includes('..') ? "it contains '..'" : unit.length > 200 ? 'it is longer than 200 characters' : undefined;
    if (problem) {
      error(['targets', 'systemd', 'unit_name'], 'schema-value', `invalid unit_name ${JSON.stringify(unit)}: ${problem}`, { help: 'unit names become file names: use letters, digits, and : _ . - \\ (e.g. custodian-sync)' });
    }
    out.systemd = { onFailure: s.on_failure ?? [] };
    if (s.unit_name) out.systemd.unitName = s.unit_name;
    if (s.user) out.systemd.user = s.user;
    if (s.group) out.systemd.group = s.group;
  }
  if (t.crontab !== undefined) {
    out.crontab = {};
    if (t.crontab?.user) out.crontab.user = t.crontab.user;
  }
  if (t.github !== undefined) {
    out.github = {};
    if (t.github?.runs_on !== undefined) out.github.runsOn = t.github.runs_on;
    if (t.github?.workflow_name !== undefined) out.github.workflowName = t.github.workflow_name;
  }
  return out;
}

/** The description's first sentence on one line (systemd's Description=, comments). */
function titleOf(description: string | undefined, id: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = (description ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (!flat) return id;
  const end = flat.search(/[.!?](\s|$)/);
  const first = end >= 0 ? flat.slice(0, end + 1) : flat;
  return first.length > 200 ? `${first.slice(0, 199)}…` : first;
}

function collectRoots(e: import('./rule/ast.ts').RuleExpr, into: Set<string>): void {
  switch (e.kind) {
    case 'path':
      into.add(e.root);
      return;
    case 'not':
      collectRoots(e.operand, into);
      return;
    case 'and':
    case 'or':
    case 'compare':
      collectRoots(e.left, into);
      collectRoots(e.right, into);
      return;
    case 'literal':
      return;
  }
}
