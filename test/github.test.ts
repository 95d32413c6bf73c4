/**
 * GitHub Actions target, checked with GitHub's own workflow parser (@actions/workflow-parser)
 * and expression evaluator (@actions/expressions, the parser's own dependency), by running the
 * generated steps under sh, and against golden files.
 *
 * Nothing here trusts the target's code for an expected value: expectations come from the
 * definitions (read with the `yaml` package), from the cron oracle in test/oracle/, and from a
 * hand-written evaluator that knows exactly one escape (`${{ '${{' }}` → `${{`) and acore's few
 * fixed expressions, and refuses any other `${{`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, relative } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from '@actions/workflow-parser';
import { isValidCron } from '@actions/workflow-parser/model/converter/cron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { compile } from '../src/compiler/compile.ts';
import { parseCron } from '../src/compiler/cron/parse.ts';
import type { Diagnostic } from '../src/compiler/diagnostics.ts';
import { cronLine, InexpressibleCron } from '../src/targets/github/cron.ts';
import { githubTarget } from '../src/targets/github/index.ts';
import { acore, listFiles, ROOT, tempDir } from './helpers.ts';
import { dayMatches, parseReference } from './oracle/cron-reference.ts';

const FEATURES = join(ROOT, 'test', 'fixtures', 'github-features');
const SEED = join(ROOT, 'definitions', 'the-custodian');

// ---------------------------------------------------------------------------------------------
// Helpers

type Source = { path: string; text: string; name: string };

function sourcesIn(dir: string): Source[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      // Named as the CLI names them (the definitions directory's own name first), so the golden
      // files are what `acore compile --target github --definitions <dir>` writes.
      const path = relative(ROOT, join(dir, f));
      return { path, name: `${basename(dir)}/${f}`, text: readFileSync(join(dir, f), 'utf8') };
    });
}

function compileGithub(files: Source[]) {
  return compile(files, [githubTarget], { scope: 'user' });
}

const errorsOf = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');

/** GitHub's parser: every problem it has with the file, and the converted template. */
async function parseGithub(name: string, content: string): Promise<{ problems: string[]; template: WorkflowTemplate }> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const problems = result.context.errors.getErrors().map((e) => e.message);
  expect(result.value, `${name} did not parse`).toBeDefined();
  const template = await convertWorkflowTemplate(result.context, result.value!);
  problems.push(...(template.errors ?? []).map((e) => e.Message));
  return { problems, template };
}

/** A definition as its author wrote it (the `yaml` package, not acore's loader). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Def = any;

function definitionsIn(files: Source[]): Def[] {
  return files.flatMap((f) => parseAllDocuments(f.text).map((d) => d.toJSON() as Def));
}

/** The one escape acore may write for a literal `${{`, spelled out here on purpose. */
const ESCAPE = "${{ '${{' }}";
const PAYLOAD_FIELD = /^\$\{\{ github\.event\.client_payload\.([A-Za-z_][A-Za-z0-9_]*) \}\}/;
const PAYLOAD_JSON = '${{ toJSON(github.event.client_payload) }}';

/**
 * What GitHub makes of a value, evaluated by hand: the escape becomes `${{`; with a payload,
 * acore's payload expressions become the payload's values (toJSON pretty-prints, as GitHub's
 * does). Any other `${{` is an un-escaped expression: an error.
 */
function evaluateByHand(raw: string, payload?: Record<string, unknown>): string {
  let out = '';
  let i = 0;
  for (;;) {
    const j = raw.indexOf('${{', i);
    if (j < 0) return out + raw.slice(i);
    out += raw.slice(i, j);
    const rest = raw.slice(j);
    const field = PAYLOAD_FIELD.exec(rest);
    if (rest.startsWith(ESCAPE)) {
      out += '${{';
      i = j + ESCAPE.length;
    } else if (payload && field) {
      const v = payload[field[1]!];
      out += v === undefined || v === null ? '' : String(v);
      i = j + field[0].length;
    } else if (payload && rest.startsWith(PAYLOAD_JSON)) {
      out += JSON.stringify(payload, null, 2);
      i = j + PAYLOAD_JSON.length;
    } else {
      throw new Error(`un-escaped \${{ at ${j}: ${JSON.stringify(rest.slice(0, 60))}`);
    }
  }
}

/** Every `${{` in the file's text (comments included) is the escape or one of acore's payload expressions. */
function expressionsOf(content: string): string[] {
  const found: string[] = [];
  for (let j = content.indexOf('${{'); j >= 0; j = content.indexOf('${{', j + 1)) {
    const rest = content.slice(j);
    const field = PAYLOAD_FIELD.exec(rest);
    if (rest.startsWith(ESCAPE)) {
      found.push(ESCAPE);
      j += ESCAPE.length - 1;
    } else if (field) found.push(field[0]);
    else if (rest.startsWith(PAYLOAD_JSON)) found.push(PAYLOAD_JSON);
    else throw new Error(`un-escaped \${{ at ${j}: ${JSON.stringify(rest.slice(0, 60))}`);
  }
  return found;
}

/**
 * GitHub's evaluator on a value token of the converted template (payload for
 * github.event.client_payload), as the runner coerces it into an environment variable.
 *
 * One fix to the JS library: its lexer unescapes only the FIRST `''` of a string literal
 * (`value.replace("''", "'")`), so `'it''s ''x'''` would come out as `it's ''x''`. GitHub's own
 * lexer (actions/runner, Expressions2/Tokens/LexicalAnalyzer.cs, ReadStringToken) unescapes
 * every `''`, and the parser's format() strings double every `'` of the literal text, so the
 * string tokens are re-read from their lexemes the way the runner reads them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function evaluateWithGithub(token: any, payload: Record<string, unknown> = {}): string {
  if (isString(token)) return token.value;
  expect(isBasicExpression(token)).toBe(true);
  const context = new data.Dictionary();
  context.add('github', JSON.parse(JSON.stringify({ event: { client_payload: payload } }), data.reviver));
  const lexed = new Lexer(token.expression).lex();
  for (const t of lexed.tokens as { lexeme: string; value: unknown }[]) {
    if (t.lexeme.startsWith("'")) t.value = t.lexeme.slice(1, -1).split("''").join("'");
  }
  const ast = new Parser(lexed.tokens, ['github'], []).parse();
  return new Evaluator(ast, context).evaluate().coerceString();
}

interface RawStep {
  id: string;
  if?: string;
  shell: string;
  env: Record<string, string>;
  run: string;
  'continue-on-error'?: boolean;
  'timeout-minutes'?: number;
  'working-directory'?: string;
}

/** The workflow as YAML data (the `yaml` package): the raw, unevaluated strings. */
function rawWorkflow(content: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parseYaml(content) as any;
  const steps = doc.jobs.run.steps as RawStep[];
  return { doc, guard: steps.find((s) => s.id === 'guard')!, run: steps.find((s) => s.id === 'run')!, steps };
}

/** The converted template's step env, evaluated by GitHub's evaluator. */
function githubEnv(template: WorkflowTemplate, stepId: string, payload?: Record<string, unknown>): Record<string, string> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const step = (template.jobs[0] as any).steps.find((s: { id: string }) => s.id === stepId);
  const out: Record<string, string> = {};
  for (const pair of step.env) out[pair.key.toString()] = evaluateWithGithub(pair.value, payload);
  return out;
}

const handEnv = (env: Record<string, string>, payload?: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, evaluateByHand(v, payload)]));

/** Fire-time equivalence of two 5-field crontab(5) lines by the oracle: same times, same days 2001-2028 (a full cycle). */
function sameSchedule(a: string, b: string): boolean {
  const x = parseReference(a);
  const y = parseReference(b);
  const same = (p: Iterable<number>, q: Iterable<number>) => JSON.stringify([...p].sort((m, n) => m - n)) === JSON.stringify([...q].sort((m, n) => m - n));
  if (!same(x.minutes, y.minutes) || !same(x.hours, y.hours) || !same(x.seconds, y.seconds)) return false;
  for (let yr = 2001; yr <= 2028; yr++) {
    for (let m = 1; m <= 12; m++) {
      for (let d = 1; d <= 31; d++) {
        const ok = (s: typeof x) => s.months.has(m) && dayMatches(s, yr, m, d);
        if (ok(x) !== ok(y)) return false;
      }
    }
  }
  return true;
}

/**
 * Checks one workflow against the definition it came from (parsed by `yaml`, not by acore),
 * with GitHub's parser for structure and evaluation.
 */
async function checkWorkflow(def: Def, path: string, content: string) {
  expect(content.startsWith('# Generated by acore from ')).toBe(true);
  const { problems, template } = await parseGithub(path, content);
  expect(problems).toEqual([]);
  expressionsOf(content);
  const { doc, guard, run, steps } = rawWorkflow(content);
  const ins = def.instruction;
  const trigger = def.trigger;

  // Triggers.
  expect(template.events.workflow_dispatch).toBeDefined();
  if (trigger.trigger_type === 'cron') {
    expect(template.events.repository_dispatch).toBeUndefined();
    expect(template.events.schedule).toHaveLength(1);
    const schedule = template.events.schedule![0]!;
    expect(isValidCron(schedule.cron)).toBe(true);
    expect(sameSchedule(schedule.cron, trigger.cron_expression)).toBe(true);
    expect(schedule.timezone).toBe(trigger.timezone);
  } else {
    expect(template.events.schedule).toBeUndefined();
    expect(template.events.repository_dispatch?.types).toEqual([trigger.event_type]);
  }
  expect(evaluateByHand(doc.name)).not.toContain('${{');
  if (def.targets?.github?.workflow_name) expect(doc.name).toBe(def.targets.github.workflow_name);

  // Concurrency, permissions, job.
  expect(doc.concurrency).toEqual({ group: `acore-${def.id}`, 'cancel-in-progress': false });
  expect(doc.permissions).toEqual({});
  expect(template.jobs.map((j) => j.id.value)).toEqual(['run']);
  const runsOn = def.targets?.github?.runs_on ?? 'self-hosted';
  const rawRunsOn = doc.jobs.run['runs-on'];
  expect(Array.isArray(rawRunsOn) ? rawRunsOn.map((l: string) => evaluateByHand(l)) : evaluateByHand(rawRunsOn)).toEqual(runsOn);

  // Steps: guard, then run only when the guard says so.
  expect(steps.map((s) => s.id)).toEqual(['guard', 'run']);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const converted = (template.jobs[0] as any).steps;
  expect(converted[1].if.expression).toContain("steps.guard.outputs.run == 'true'");
  for (const s of [guard, run]) {
    expect(s.shell).toBe('sh');
    expect(s.run).not.toContain('${{');
  }
  const logAndContinue = ins.on_failure === 'log_and_continue';
  expect(converted[1]['continue-on-error'] ?? false).toBe(logAndContinue);
  expect(run['continue-on-error'] ?? false).toBe(logAndContinue);
  expect(run['timeout-minutes']).toBe(ins.timeout_seconds === undefined ? undefined : Math.ceil(ins.timeout_seconds / 60) + 1);
  expect(run['working-directory'] === undefined ? undefined : evaluateByHand(run['working-directory'])).toBe(ins.working_directory);

  // env: the definition's values and the command arrive exactly (by hand and by GitHub's evaluator).
  const payload = { probe: 'value' };
  for (const [step, id] of [
    [run, 'run'],
    [guard, 'guard'],
  ] as const) {
    const byHand = handEnv(step.env, payload);
    expect(githubEnv(template, id, payload)).toEqual(byHand);
    for (const [k, v] of Object.entries(ins.env ?? {})) expect(byHand[k]).toBe(String(v));
  }
  expect(handEnv(run.env, payload).ACORE_CMD).toBe(ins.cmd);
  if (trigger.trigger_type === 'event') {
    for (const field of Object.keys(trigger.filters ?? {})) {
      expect(run.env[`ACORE_EVENT_${field.toUpperCase()}`]).toBe(`\${{ github.event.client_payload.${field} }}`);
    }
    expect(run.env.ACORE_EVENT_PAYLOAD).toBe(PAYLOAD_JSON);
  }
  return { template, doc, guard, run };
}

// ---------------------------------------------------------------------------------------------
// Running a step as GitHub's runner does: `sh -e <file>` with the step's env.

interface StepResult {
  status: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

function runStepScript(script: string, env: Record<string, string>, dir: string, cwd?: string): Promise<StepResult> {
  const file = join(dir, `step-${Math.random().toString(36).slice(2)}.sh`);
  const output = `${file}.output`;
  writeFileSync(file, script);
  writeFileSync(output, '');
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-e', file], {
      cwd: cwd ?? dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_RUNTIME_DIR: dir, GITHUB_OUTPUT: output, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, output: readFileSync(output, 'utf8') }));
  });
}

/**
 * The workflow commands in a step's stdout, as the runner reads them: one per line,
 * `::command::data`, data unescaped (%25 → %, %0D → CR, %0A → LF). Every line must be one.
 */
function workflowCommands(stdout: string): { command: string; message: string }[] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = /^::([a-z]+)::(.*)$/s.exec(line);
      expect(m, line).not.toBeNull();
      expect(m![2]).not.toMatch(/[\r\n]|%(?!25|0D|0A)/);
      const unescaped = m![2]!.replace(/%(25|0D|0A)/g, (_, c: string) => ({ '25': '%', '0D': '\r', '0A': '\n' })[c]!);
      return { command: m![1]!, message: unescaped };
    });
}

/** Guard, then (if it says run=true) the run step, with env evaluated by hand from the file. */
async function runWorkflow(content: string, dir: string, payload: Record<string, unknown> = {}) {
  const { guard, run } = rawWorkflow(content);
  expressionsOf(content);
  const g = await runStepScript(guard.run, handEnv(guard.env, payload), dir);
  if (g.status !== 0 || !/^run=true$/m.test(g.output)) return { guard: g, run: undefined };
  const wd = run['working-directory'] === undefined ? undefined : evaluateByHand(run['working-directory']);
  const r = await runStepScript(run.run, handEnv(run.env, payload), dir, wd);
  return { guard: g, run: r };
}

// ---------------------------------------------------------------------------------------------
// 1. The seed's definitions A, B, C and the feature fixtures, through GitHub's parser

describe('github: the seed definitions (A, B, C)', () => {
  const files = sourcesIn(SEED);
  const result = compileGithub(files);
  const defs = definitionsIn(files);

  it('compile without errors to one workflow per definition, <id>.yml', () => {
    expect(errorsOf(result.diagnostics)).toEqual([]);
    expect(result.artefacts.map((a) => [a.target, a.path, a.ids])).toEqual(
      defs.map((d) => ['github', `${d.id}.yml`, [d.id]] as const).sort((a, b) => (a[1] < b[1] ? -1 : 1)),
    );
  });

  for (const def of defs) {
    it(`${def.id}: GitHub's parser accepts it, and it means the definition`, async () => {
      const a = result.artefacts.find((x) => x.path === `${def.id}.yml`)!;
      await checkWorkflow(def, a.path, a.content);
    });
  }

  it('A (sweep): every 15 minutes in UTC, log_and_continue, probe and rule in the guard', async () => {
    const def = defs.find((d) => d.id.endsWith('consistency-sweep'));
    const a = result.artefacts.find((x) => x.path === `${def.id}.yml`)!;
    const { run, guard } = rawWorkflow(a.content);
    expect(run['continue-on-error']).toBe(true);
    const values = Object.values(guard.env);
    expect(values).toContain(def.context[0].url);
    expect(values).toContain(def.rule.when[0]);
  });

  it('C (commit sync): repository_dispatch, the command reads $ACORE_EVENT_REPO_SLUG, filter checked in the guard', async () => {
    const def = defs.find((d) => d.trigger.trigger_type === 'event');
    const a = result.artefacts.find((x) => x.path === `${def.id}.yml`)!;
    const { template } = await parseGithub(a.path, a.content);
    expect(template.events.repository_dispatch?.types).toEqual([def.trigger.event_type]);
    expect(def.instruction.cmd).toContain('$ACORE_EVENT_REPO_SLUG');
    const payload = { repo_slug: 'worsch/the-custodian' };
    expect(githubEnv(template, 'run', payload).ACORE_EVENT_REPO_SLUG).toBe(payload.repo_slug);
    expect(Object.values(githubEnv(template, 'guard', payload))).toContain(payload.repo_slug);
  });
});

describe('github: feature fixtures', () => {
  const files = sourcesIn(join(FEATURES, 'definitions'));
  const result = compileGithub(files);
  const defs = definitionsIn(files);

  it('compile without errors', () => {
    expect(errorsOf(result.diagnostics)).toEqual([]);
    expect(result.artefacts.map((a) => a.path)).toEqual(defs.map((d) => `${d.id}.yml`).sort());
  });

  for (const def of defs) {
    it(`${def.id}: GitHub's parser accepts it, and it means the definition`, async () => {
      const a = result.artefacts.find((x) => x.path === `${def.id}.yml`)!;
      await checkWorkflow(def, a.path, a.content);
    });
  }

  it('covers what it claims: timezone, filters, log_and_continue, timeout, env, working_directory, runs_on list', () => {
    const used = (f: (d: Def) => unknown) => defs.some((d) => Boolean(f(d)));
    expect(used((d) => d.trigger.timezone && d.trigger.timezone !== 'UTC')).toBe(true);
    expect(used((d) => Object.keys(d.trigger.filters ?? {}).length > 1)).toBe(true);
    expect(used((d) => d.instruction.on_failure === 'log_and_continue')).toBe(true);
    expect(used((d) => d.instruction.timeout_seconds)).toBe(true);
    expect(used((d) => Object.keys(d.instruction.env ?? {}).length > 0)).toBe(true);
    expect(used((d) => d.instruction.working_directory)).toBe(true);
    expect(used((d) => Array.isArray(d.targets?.github?.runs_on))).toBe(true);
  });

  it('the golden files (as `acore compile --target github` writes them): same set, same bytes', async () => {
    const out = tempDir();
    const r = await acore(['compile', '--target', 'github', '--definitions', join(FEATURES, 'definitions'), '--out', out]);
    expect(r.stderr).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    const files = listFiles(out);
    expect(files).toEqual(['.acore-manifest.json', ...result.artefacts.map((a) => a.path)]);
    for (const a of result.artefacts) expect(readFileSync(join(out, a.path), 'utf8')).toBe(a.content);
    const expectedDir = join(FEATURES, 'expected', 'github');
    const expected = existsSync(expectedDir) ? listFiles(expectedDir) : [];
    if (process.env.CI || expected.length > 0) expect(files).toEqual(expected);
    for (const f of files) await expect(readFileSync(join(out, f), 'utf8')).toMatchFileSnapshot(join(expectedDir, f));
  });

  it('is deterministic: the same bytes whatever the order of the files', () => {
    const again = compileGithub([...files].reverse());
    expect(again.artefacts).toEqual(result.artefacts);
  });
});

// ---------------------------------------------------------------------------------------------
// Diagnostics: codes and positions computed from the fixture text

/** 1-based line/column of the value of the first `key:` (exact key) at or after line `from`. */
function valueAt(text: string, key: string, from = 1): { line: number; col: number } {
  const lines = text.split('\n');
  for (let i = from - 1; i < lines.length; i++) {
    const m = new RegExp(`^(\\s*(?:- )?)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(?:\\s+|$)`).exec(lines[i]!);
    if (m) return { line: i + 1, col: m[0].length + 1 };
  }
  throw new Error(`no ${key}: in the fixture`);
}

const byPlace = (a: { line: number; col: number; code: string }, b: { line: number; col: number; code: string }) =>
  a.line - b.line || a.col - b.col || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

describe('github: diagnostics', () => {
  const dir = join(FEATURES, 'diagnostics');
  const one = (file: string) => {
    const src = sourcesIn(dir).find((s) => s.path.endsWith(`/${file}`))!;
    const r = compileGithub([src]);
    const got = r.diagnostics.map((d) => ({ code: d.code, severity: d.severity, ...d.range!.start })).sort(byPlace);
    return { text: src.text, r, got };
  };
  const expectAt = (text: string, entries: [code: string, severity: string, key: string, from?: number][]) =>
    entries.map(([code, severity, key, from]) => ({ code, severity, ...valueAt(text, key, from) })).sort(byPlace);

  it('a seconds field is refused at the expression', () => {
    const { text, r, got } = one('seconds.yaml');
    expect(got).toEqual(
      expectAt(text, [
        ['target-unsupported', 'error', 'cron_expression'],
        ['target-approximated', 'warning', 'cron_expression'], // and it fires every 30 s
        ['target-approximated', 'warning', 'misfire_policy'],
      ]),
    );
    expect(r.artefacts).toEqual([]);
  });

  it('L is refused at the expression', () => {
    const { text, r, got } = one('last-day.yaml');
    expect(got).toEqual(
      expectAt(text, [
        ['target-unsupported', 'error', 'cron_expression'],
        ['target-approximated', 'warning', 'misfire_policy'],
      ]),
    );
    expect(r.artefacts).toEqual([]);
  });

  it('catch_up is refused at misfire_policy', () => {
    const { text, r, got } = one('catch-up.yaml');
    expect(got).toEqual(expectAt(text, [['target-unsupported', 'error', 'misfire_policy']]));
    expect(r.artefacts).toEqual([]);
  });

  it('a schedule under 5 minutes is a warning and is still emitted (and skip is approximated)', async () => {
    const { text, r, got } = one('every-two-minutes.yaml');
    expect(got).toEqual(
      expectAt(text, [
        ['target-approximated', 'warning', 'cron_expression'],
        ['target-approximated', 'warning', 'misfire_policy'],
      ]),
    );
    expect(r.artefacts).toHaveLength(1);
    const def = definitionsIn([{ path: 'x', name: 'x', text }])[0];
    await checkWorkflow(def, r.artefacts[0]!.path, r.artefacts[0]!.content);
  });

  it('a star-started day field that is not */n, with the other day field restricted, is refused', () => {
    const { text, r, got } = one('day-rule-inexpressible.yaml');
    expect(got).toEqual(
      expectAt(text, [
        ['target-unsupported', 'error', 'cron_expression'],
        ['target-approximated', 'warning', 'misfire_policy'],
      ]),
    );
    expect(r.artefacts).toEqual([]);
  });

  it('names GitHub would read differently are refused where they are written', () => {
    const { text, r, got } = one('reserved-names.yaml');
    const filters = valueAt(text, 'filters').line;
    const env = valueAt(text, 'env').line;
    expect(got).toEqual(
      expectAt(text, [
        ['target-setting', 'error', 'repo', filters], // REPO and repo: one field for GitHub
        ['target-setting', 'error', 'payload', filters], // would be $ACORE_EVENT_PAYLOAD
        ['target-setting', 'error', 'ACORE_CMD', env],
        ['target-setting', 'error', 'path', env], // PATH and path: one env key for GitHub
        ['target-approximated', 'warning', 'GITHUB_OUTPUT', env],
        ['target-setting', 'error', 'workflow_name'],
      ]),
    );
    expect(r.artefacts).toEqual([]);
  });

  it('an empty runner label is a schema error', () => {
    const text = readFileSync(join(FEATURES, 'diagnostics', 'reserved-names.yaml'), 'utf8').replace('[self-hosted, linux]', '[self-hosted, ""]');
    const r = compile([{ path: 'd/x.yaml', text }], [githubTarget], { scope: 'user' });
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['schema-value']);
  });
});

// ---------------------------------------------------------------------------------------------
// The cron line: the same fire times as the definition (oracle), valid for GitHub

describe('github: cron lines (differential against the crontab(5) oracle)', () => {
  function rnd(seed: number) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const r = rnd(0x91f4b);
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const field = (lo: number, hi: number, star: number): string => {
    const x = r();
    if (x < star) return r() < 0.5 ? '*' : `*/${int(2, Math.ceil((hi - lo) / 2))}`;
    if (x < star + 0.1) return `*/${int(2, 4)},${int(lo, hi)}`;
    if (x < star + 0.2) return `${lo}-${hi}`;
    if (x < star + 0.4) return `${int(lo, hi)}-${hi}/${int(2, 5)}`;
    return Array.from({ length: int(1, 3) }, () => String(int(lo, hi))).join(',');
  };
  const HAND = ['*/15 * * * *', '0 3 * * *', '0 0 */2 * 1', '0 0 1-31 * 1', '0 0 * * 0-6', '0 0 */10,2 * *', '0 0 * * */3,1', '0 0 1 * */2', '0 12 ? * 5', '@weekly', '@monthly', '0 0 1-31/2 * 0-6', '0 0 */10,2 * 1'];
  const exprs = [...HAND, ...Array.from({ length: 150 }, () => `${field(0, 59, 0.3)} ${field(0, 23, 0.3)} ${field(1, 31, 0.45)} ${field(1, 12, 0.5)} ${field(0, 6, 0.45)}`)];

  it('every expression is written with the same fire times, or refused only for a star-started day list', () => {
    let written = 0;
    const refused: string[] = [];
    for (const expr of exprs) {
      const parsed = parseCron(expr);
      if (!parsed.ok) continue;
      let line: string;
      try {
        line = cronLine(parsed.schedule);
      } catch (e) {
        expect(e).toBeInstanceOf(InexpressibleCron);
        refused.push(expr);
        continue;
      }
      expect(isValidCron(line), `${expr} → ${line}`).toBe(true);
      expect(sameSchedule(line, expr), `${expr} → ${line}`).toBe(true);
      written++;
    }
    for (const expr of refused) {
      const days = expr.split(' ').slice(2, 5);
      const [dom, , dow] = days as [string, string, string];
      // A star-started field with more than a plain */n, and the other one restricted.
      const odd = (f: string) => /^[*?]/.test(f) && !/^(\*|\?|\*\/\d+)$/.test(f);
      expect(odd(dom) || odd(dow), expr).toBe(true);
    }
    expect(written).toBeGreaterThan(100);
    expect(refused).toContain('0 0 */10,2 * 1');
    expect(refused).not.toContain('0 0 */10,2 * *');
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Injection, by execution

/** Every character class the brief names, and a few more. */
const NASTY =
  `it's "quoted" 100% %0A %25 $HOME \${X} $(id) \`id\` \${{ secrets.X }} \${{ 'lit' }} }} \${{ open ::error::x\n` +
  `::warning::second line\r\nü😀 \u2028 \u0085 \u007f \t #c: d --- *a &b !c [x] {y} \\ back`;
const TEN_KB = (() => {
  const chunk = Array.from(`${NASTY} `);
  const out: string[] = [];
  while (out.length < 10_240) out.push(...chunk);
  return out.slice(0, 10_240).join('');
})();
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('github: injection, by running the generated steps under sh', () => {
  let dir: string;
  let hub: Server;
  let hubUrl: string;
  let hubBody = '{"status": "ok"}';

  beforeAll(async () => {
    hub = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(hubBody);
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/state/health?q=%25&x=$(id)`;
  });
  afterAll(async () => {
    await new Promise((resolve) => hub.close(resolve));
  });

  /** Compiles one definition (written with the `yaml` package) and returns its workflow. */
  function workflowFor(def: Def): string {
    const text = stringifyYaml(def);
    const r = compileGithub([{ path: 'definitions/t.yaml', name: 'definitions/t.yaml', text }]);
    expect(errorsOf(r.diagnostics)).toEqual([]);
    // acore read the definition as written (so the bytes below are the author's bytes).
    expect(r.definitions[0]!.instruction.command).toBe(def.instruction.cmd);
    expect(r.artefacts).toHaveLength(1);
    return r.artefacts[0]!.content;
  }

  it('cron: command, env values and working directory arrive byte for byte; nothing is evaluated', async () => {
    dir = tempDir('acore-gh-');
    const out = join(dir, 'out');
    mkdirSync(out);
    const wd = join(dir, `wd \${{ secrets.X }} $(id) 'q' "d" % \`t\` ü #c: d`);
    mkdirSync(wd);
    const vars = { V_NASTY: NASTY, V_BIG: TEN_KB, V_EXPR: '${{ secrets.X }}', V_EMPTY: '', V_ONLY_OPEN: '${{' };
    const cmd =
      `cat /proc/$$/cmdline > "$OUT_DIR/argv"; pwd > "$OUT_DIR/pwd"; ` +
      Object.keys(vars)
        .map((k) => `printf '%s' "$${k}" > "$OUT_DIR/${k}"`)
        .join('; ') +
      `; env | grep -c '^ACORE_' > "$OUT_DIR/acore-vars"; exit 0\n: ${sq(NASTY)} ${sq(TEN_KB)}`;
    const def = {
      id: 'inject.cron',
      description: `Injection ${NASTY}`,
      trigger: { trigger_type: 'cron', cron_expression: '*/30 * * * *', timezone: 'UTC' },
      instruction: {
        kind: 'shell',
        cmd,
        working_directory: wd,
        lock_file: join(dir, `lock \${{ x }} $(id) %.lock`),
        timeout_seconds: 30,
        env: { OUT_DIR: out, ...vars },
      },
      targets: { github: { runs_on: ['self-hosted', '${{ github.actor }}'] } },
    };
    const content = workflowFor(def);
    const { template } = await checkWorkflow(def, 't.yml', content);
    // GitHub's evaluator agrees with the hand evaluation for every env value (checked above);
    // here: what the runner would start.
    const { guard, run } = await runWorkflow(content, dir);
    expect(guard.status, guard.stdout + guard.stderr).toBe(0);
    expect(guard.output).toBe('run=true\n');
    expect(run?.status, `${run?.stdout}${run?.stderr}`).toBe(0);
    expect(readFileSync(join(out, 'argv'), 'utf8')).toBe(`/bin/sh\0-c\0${cmd}\0`);
    expect(readFileSync(join(out, 'pwd'), 'utf8')).toBe(`${wd}\n`);
    for (const [k, v] of Object.entries(vars)) expect(readFileSync(join(out, k), 'utf8'), k).toBe(v);
    // acore's arguments are not in the job's environment.
    expect(readFileSync(join(out, 'acore-vars'), 'utf8')).toBe('0\n');
    expect(existsSync(def.instruction.lock_file)).toBe(true);
    expect(template.events.schedule).toHaveLength(1);
  });

  it('event: payload values and filter patterns are data, not code; a non-matching payload skips without failing', async () => {
    dir = tempDir('acore-gh-');
    const out = join(dir, 'out');
    mkdirSync(out);
    const cmd = [
      `printf '%s' "$ACORE_EVENT_REPO_SLUG" > "$OUT_DIR/slug"`,
      `printf '%s' "$ACORE_EVENT_NOTE" > "$OUT_DIR/note"`,
      `printf '%s' "$ACORE_EVENT_TRICKY" > "$OUT_DIR/tricky"`,
      `printf '%s' "$ACORE_EVENT_PAYLOAD" > "$OUT_DIR/payload"`,
    ].join('\n');
    const def = {
      id: 'inject.event',
      trigger: {
        trigger_type: 'event',
        event_type: 'org.inject.test',
        filters: {
          repo_slug: 'acme/*',
          note: '*',
          tricky: `$(touch "$OUT_DIR/pwned")\${{ secrets.X }}'\`id\`*`,
          multi: 'line 1\nline 2 100%*',
        },
      },
      instruction: { kind: 'shell', cmd, env: { OUT_DIR: out } },
      targets: { github: null },
    };
    const content = workflowFor(def);
    await checkWorkflow(def, 't.yml', content);
    const payload = {
      repo_slug: 'acme/${{ secrets.X }}$(touch pwned)`id`',
      note: TEN_KB,
      tricky: `$(touch "$OUT_DIR/pwned")\${{ secrets.X }}'\`id\` and more`,
      multi: 'line 1\nline 2 100% yes',
      extra: { nested: ["$(id)", 1, true, null] },
    };
    const { template } = await parseGithub('t.yml', content);
    // What GitHub's evaluator makes of the env is what the hand evaluation says.
    const { guard: g, run: r } = rawWorkflow(content);
    expect(githubEnv(template, 'guard', payload)).toEqual(handEnv(g.env, payload));
    const githubRun = githubEnv(template, 'run', payload);
    const handRun = handEnv(r.env, payload);
    expect(JSON.parse(githubRun.ACORE_EVENT_PAYLOAD!)).toEqual(JSON.parse(handRun.ACORE_EVENT_PAYLOAD!));
    expect({ ...githubRun, ACORE_EVENT_PAYLOAD: '' }).toEqual({ ...handRun, ACORE_EVENT_PAYLOAD: '' });

    const { guard, run } = await runWorkflow(content, dir, payload);
    expect(guard.status, guard.stdout + guard.stderr).toBe(0);
    expect(guard.output).toBe('run=true\n');
    expect(run?.status, `${run?.stdout}${run?.stderr}`).toBe(0);
    expect(readFileSync(join(out, 'slug'), 'utf8')).toBe(payload.repo_slug);
    expect(readFileSync(join(out, 'note'), 'utf8')).toBe(payload.note);
    expect(readFileSync(join(out, 'tricky'), 'utf8')).toBe(payload.tricky);
    expect(JSON.parse(readFileSync(join(out, 'payload'), 'utf8'))).toEqual(payload);

    // No match: the run step is skipped, nothing fails, the notice is one escaped line.
    const skipped = await runWorkflow(content, dir, { ...payload, multi: 'line 1\nline 3' });
    expect(skipped.guard.status).toBe(0);
    expect(skipped.guard.output).toBe('run=false\n');
    expect(skipped.run).toBeUndefined();
    const notice = workflowCommands(skipped.guard.stdout);
    expect(notice.map((c) => c.command)).toEqual(['notice']);
    expect(notice[0]!.message).toContain('multi');
    expect(notice[0]!.message).toContain(def.trigger.filters.multi);
    const other = await runWorkflow(content, dir, { ...payload, repo_slug: 'other/$(id)' });
    expect(other.guard.output).toBe('run=false\n');

    for (const f of readdirSync(dir)) expect(f).not.toBe('pwned');
    expect(existsSync(join(out, 'pwned'))).toBe(false);
  });

  it('probes and rules: URL, timeout and jq program reach the guard through env', async () => {
    dir = tempDir('acore-gh-');
    const out = join(dir, 'out');
    mkdirSync(out);
    const def = {
      id: 'inject.probe',
      trigger: { trigger_type: 'cron', cron_expression: '0 * * * *' },
      context: [{ kind: 'http_get', url: hubUrl, bind: 'hub', timeout_seconds: 3 }],
      rule: { when: ["hub.status == 'ok' && hub['odd key \"$(id)\" ${{ x }}'] == null"] },
      instruction: { kind: 'shell', cmd: `echo ran > "${out}/ran"` },
      targets: { github: null },
    };
    const content = workflowFor(def);
    await checkWorkflow(def, 't.yml', content);
    hubBody = '{"status": "ok"}';
    const ok = await runWorkflow(content, dir);
    expect(ok.guard.output, ok.guard.stdout + ok.guard.stderr).toBe('run=true\n');
    expect(ok.run?.status).toBe(0);
    expect(readFileSync(join(out, 'ran'), 'utf8')).toBe('ran\n');
    hubBody = '{"status": "degraded"}';
    const no = await runWorkflow(content, dir);
    expect(no.guard.status).toBe(0);
    expect(no.guard.output).toBe('run=false\n');
    const notice = workflowCommands(no.guard.stdout);
    expect(notice.map((c) => c.command)).toEqual(['notice']);
    expect(notice[0]!.message).toContain(def.rule.when[0]);
    hubBody = 'not json';
    expect((await runWorkflow(content, dir)).guard.output).toBe('run=false\n');
  });

  it('failure policies and a broken lock: workflow commands with escaped data', async () => {
    dir = tempDir('acore-gh-');
    const base = (id: string, extra: object) => ({
      id,
      trigger: { trigger_type: 'cron', cron_expression: '0 * * * *' },
      targets: { github: null },
      ...extra,
    });
    const warn = workflowFor(base('t.warn', { instruction: { kind: 'shell', cmd: 'exit 3', on_failure: 'log_and_continue' } }));
    const w = await runWorkflow(warn, dir);
    expect(w.run?.status).toBe(0);
    const warning = workflowCommands(w.run!.stdout);
    expect(warning.map((c) => c.command)).toEqual(['warning']);
    expect(warning[0]!.message).toMatch(/\b3\b/);

    const fail = workflowFor(base('t.fail', { instruction: { kind: 'shell', cmd: 'exit 3' } }));
    const f = await runWorkflow(fail, dir);
    expect(f.run?.status).toBe(3);
    const error = workflowCommands(f.run!.stdout);
    expect(error.map((c) => c.command)).toEqual(['error']);
    expect(error[0]!.message).toMatch(/\b3\b/);

    const lock = join(dir, 'missing %0A dir', 'x.lock');
    const broken = workflowFor(base('t.broken', { instruction: { kind: 'shell', cmd: 'true', lock_file: lock } }));
    const b = await runWorkflow(broken, dir);
    expect(b.guard.status).toBe(255);
    expect(b.guard.output).toBe('');
    const lockError = workflowCommands(b.guard.stdout);
    expect(lockError.map((c) => c.command)).toEqual(['error']);
    expect(lockError[0]!.message).toContain(lock);
  });

  it('a run that holds the lock makes the guard skip (exit 1 → run=false), not fail', async () => {
    dir = tempDir('acore-gh-');
    const lock = join(dir, 'held.lock');
    const content = workflowFor({
      id: 't.locked',
      trigger: { trigger_type: 'cron', cron_expression: '0 * * * *' },
      instruction: { kind: 'shell', cmd: 'true', lock_file: lock },
      targets: { github: null },
    });
    // Another holder of the lock (a run, or a legacy job using `flock LOCKFILE cmd`).
    const holder = spawn('sh', ['-c', 'exec 8>>"$1" && flock 8 && echo locked && exec sleep 30', 'sh', lock]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', () => resolve());
        holder.on('error', reject);
      });
      const g = await runWorkflow(content, dir);
      expect(g.guard.status).toBe(0);
      expect(g.guard.output).toBe('run=false\n');
      const notice = workflowCommands(g.guard.stdout);
      expect(notice.map((c) => c.command)).toEqual(['notice']);
      expect(notice[0]!.message).toContain(lock);
    } finally {
      holder.kill();
    }
  });
});
