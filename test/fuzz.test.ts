/**
 * Property-based fuzzing of the whole pure pipeline (`compile()`: load → validate → lower → the
 * three targets) with fast-check, from a FIXED seed so every run of `npm test` checks the same
 * cases. `npm run fuzz` (scripts/fuzz.mjs) runs the same properties with a larger budget and a
 * fresh seed; a failure prints the seed and the shrunk input to replay.
 *
 *   ACORE_FUZZ_RUNS=<multiplier>  (default 1)    ACORE_FUZZ_SEED=<int>  (default: the fixed seed)
 *
 * For every input, whatever it is:
 *   - compile() returns (no exception escapes) within MAX_MS;
 *   - it returns artefacts with no error diagnostic, or error diagnostics and no artefact;
 *   - every diagnostic names one of the input files and carries a range inside that file's text;
 *   - every artefact has a plain relative path (no `..`, no absolute path, no hidden or empty
 *     segment, no control character), starts with acore's generated marker, and holds only
 *     characters a file can hold (no NUL, no unpaired surrogate).
 * Plus, per generator: valid schedules give OnCalendar= lines that pass a syntax sanity check
 * (and, in one batch at the end, `systemd-analyze calendar` and `crontab -n` accept them all),
 * valid rules give jq programs that jq compiles, and valid field values reach the GitHub
 * workflow's env exactly as written.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compile, type CompileResult } from '../src/compiler/compile.ts';
import type { Diagnostic } from '../src/compiler/diagnostics.ts';
import type { SourceFile } from '../src/compiler/source.ts';
import { crontabTarget } from '../src/targets/crontab/index.ts';
import { githubTarget } from '../src/targets/github/index.ts';
import { jqProgram } from '../src/targets/shell/jq.ts';
import { systemdTarget } from '../src/targets/systemd/index.ts';
import { hasGeneratedMarker, type TargetOptions } from '../src/targets/target.ts';
import { ROOT, tempDir } from './helpers.ts';

const SEED = Number(process.env.ACORE_FUZZ_SEED ?? 20261127);
const SCALE = Number(process.env.ACORE_FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** A compile of one small input taking longer than this is a hang. */
const MAX_MS = 2000;
const TARGETS = [systemdTarget, crontabTarget, githubTarget];

// ---------------------------------------------------------------------------------------------
// The invariants every compile must keep.

type Files = (SourceFile & { name: string })[];

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex
const PATH_SEGMENT = /^[^./\u0000-\u001f\u007f][^/\u0000-\u001f\u007f]*$/;

let slowest = { ms: 0, what: '' };

function run(files: Files, options: TargetOptions): CompileResult {
  const t0 = performance.now();
  const r = compile(files, TARGETS, options);
  const ms = performance.now() - t0;
  if (ms > slowest.ms) slowest = { ms, what: files.map((f) => f.text.slice(0, 200)).join('\n---\n') };
  expect(ms, 'one compile took too long (a hang?)').toBeLessThan(MAX_MS);
  checkInvariants(files, r);
  return r;
}

function checkRange(d: Diagnostic, text: string): void {
  const lines = text.split('\n');
  const inside = (p: { line: number; col: number }) => p.line >= 1 && p.line <= lines.length && p.col >= 1 && p.col <= lines[p.line - 1]!.length + 1;
  expect(d.range, `${d.code} has no position: ${d.message}`).toBeDefined();
  const { start, end } = d.range!;
  expect(inside(start), `${d.code} starts outside the text: ${JSON.stringify(d.range)}`).toBe(true);
  expect(inside(end), `${d.code} ends outside the text: ${JSON.stringify(d.range)}`).toBe(true);
  expect(end.line > start.line || (end.line === start.line && end.col >= start.col), `${d.code}: range ends before it starts`).toBe(true);
}

function checkInvariants(files: Files, r: CompileResult): void {
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) expect(r.artefacts, 'artefacts despite errors').toEqual([]);
  const texts = new Map(files.map((f) => [f.path, f.text]));
  for (const d of r.diagnostics) {
    expect(texts.has(d.file), `diagnostic for an unknown file ${JSON.stringify(d.file)}: ${d.code} ${d.message}`).toBe(true);
    expect(d.message.length).toBeGreaterThan(0);
    checkRange(d, texts.get(d.file)!);
  }
  const seen = new Set<string>();
  for (const a of r.artefacts) {
    const key = `${a.target}:${a.path}`;
    expect(seen.has(key), `two artefacts at ${key}`).toBe(false);
    seen.add(key);
    for (const segment of a.path.split('/')) expect(segment, `unsafe artefact path ${JSON.stringify(a.path)}`).toMatch(PATH_SEGMENT);
    expect(hasGeneratedMarker(a.content), `${a.path} lacks the generated marker`).toBe(true);
    expect(a.content.includes('\0'), `${a.path} holds a NUL`).toBe(false);
    expect(LONE_SURROGATE.test(a.content), `${a.path} holds an unpaired surrogate`).toBe(false);
  }
}

const optionsArb: fc.Arbitrary<TargetOptions> = fc.record({
  scope: fc.constantFrom('user' as const, 'system' as const),
  crontab: fc.record({
    form: fc.constantFrom('user' as const, 'cron.d' as const),
    scriptDir: fc.constantFrom('$HOME/.local/lib/acore', '/usr/local/lib/acore', '/opt/100% sure/$x "q" `t`'),
  }),
});
const USER: TargetOptions = { scope: 'user', crontab: { form: 'user', scriptDir: '$HOME/.local/lib/acore' } };

const one = (text: string): Files => [{ path: 'definitions/fuzz.yaml', name: 'definitions/fuzz.yaml', text }];

const assertProperty = <T>(arb: fc.Arbitrary<T>, numRuns: number, check: (v: T) => void) =>
  fc.assert(
    fc.property(arb, (v) => {
      check(v);
    }),
    { seed: SEED, numRuns: runs(numRuns), endOnFailure: true },
  );

// Batches for the real consumers, checked once at the end.
const calendars = new Set<string>();
const cronLines = new Set<string>();
const jqPrograms = new Map<string, string>();

afterAll(() => {
  if (SCALE > 1) console.log(`slowest compile: ${slowest.ms.toFixed(0)} ms`);
});

// ---------------------------------------------------------------------------------------------
// Seeds: the real definitions of the project and of every fixture.

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out;
}

const FIXTURES = join(ROOT, 'test', 'fixtures');
const SEEDS = [
  ...yamlFiles(join(ROOT, 'definitions')),
  ...readdirSync(FIXTURES)
    .map((c) => join(FIXTURES, c, 'definitions'))
    .filter((d) => {
      try {
        return statSync(d).isDirectory();
      } catch {
        return false;
      }
    })
    .flatMap(yamlFiles),
  // and the hostile corpus (test/hostile.test.ts), mutated further
  ...yamlFiles(join(FIXTURES, 'hostile')),
].map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

// ---------------------------------------------------------------------------------------------
// (a) Mutated YAML.

const WEIRD = [
  '\t', '\r\n', '\r', '\ufeff', '\0', '\u0085', '\u2028', '\u00a0', '\x1b', '\x7f', '\ud800', '\udfff', '😀', 'ü',
  '"', "'", '%', '$', '`', '${{', '}}', '&a ', '*a', '&b [1, 2]', '*b', '<<: ', '? ', '- ', ': ', ':', ' #', '|', '>-', '!!binary ', '!foo ',
  '!!str ', '!!int ', '---\n', '...\n', '[', ']', '{', '}', ',', '\\', '@', '%YAML 1.1\n', '\n', ' ', '  ', 'id: x\n', 'id: ', '0x10', '.inf', '~',
];
const SCALARS: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '~', 'null', 'true', 'True', 'no', '0', '-0', '0x10', '0o17', '0b101', '1e400', '.nan', '1.0', '12345678901234567890', '*a', '&a x', '[]', '{}', '[a, b]', '{a: 1}', '|', '>', '"', "'", '!!binary aGk=', '*/0 * * * *', '61 * * * *', '@reboot', 'a/b', '..', '.hidden', 'a b'),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.nat(3000).map((n) => 'x'.repeat(n)),
);
const INSERT: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...WEIRD), fc.string({ unit: 'binary', maxLength: 4 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)));

type Mutation =
  | { op: 'delete' | 'dup'; i: number }
  | { op: 'swap'; i: number; j: number }
  | { op: 'insert'; i: number; at: number; s: string }
  | { op: 'indent'; i: number; d: number }
  | { op: 'scalar'; i: number; v: string }
  | { op: 'truncate'; at: number }
  | { op: 'bom' | 'crlf' | 'tabs' | 'alias-bomb' };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'dup' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), i: fc.nat(), at: fc.nat(), s: INSERT }),
  fc.record({ op: fc.constant('indent' as const), i: fc.nat(), d: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ op: fc.constant('scalar' as const), i: fc.nat(), v: SCALARS }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constantFrom('bom' as const, 'crlf' as const, 'tabs' as const, 'alias-bomb' as const) }),
);

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const at = (i: number) => i % lines.length;
  switch (m.op) {
    case 'delete':
      lines.splice(at(m.i), 1);
      break;
    case 'dup':
      lines.splice(at(m.i), 0, lines[at(m.i)]!);
      break;
    case 'swap': {
      const [a, b] = [at(m.i), at(m.j)];
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      break;
    }
    case 'insert': {
      const l = lines[at(m.i)]!;
      const p = m.at % (l.length + 1);
      lines[at(m.i)] = l.slice(0, p) + m.s + l.slice(p);
      break;
    }
    case 'indent': {
      const l = lines[at(m.i)]!;
      lines[at(m.i)] = m.d >= 0 ? ' '.repeat(m.d) + l : l.replace(new RegExp(`^ {0,${-m.d}}`), '');
      break;
    }
    case 'scalar': {
      const i = at(m.i);
      lines[i] = lines[i]!.replace(/^(\s*(?:-\s+)?[^:#'"]*:\s+).*$|^(\s*-\s+).*$/, (_, k?: string, d?: string) => `${k ?? d}${m.v}`);
      break;
    }
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'bom':
      return `\ufeff${text}`;
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'tabs':
      return text.replace(/^( +)/gm, (s) => '\t'.repeat(Math.ceil(s.length / 2)));
    case 'alias-bomb':
      return `${text}\nbomb: &l0 [x, x]\n${Array.from({ length: 30 }, (_, i) => `l${i + 1}: &l${i + 1} [*l${i}, *l${i}]`).join('\n')}\n`;
  }
  return lines.join('\n');
}

describe('fuzz: mutated YAML', () => {
  it('real definitions, mutated: no exception, no hang, artefacts xor errors, every error positioned', () => {
    expect(SEEDS.length).toBeGreaterThan(10);
    const arb = fc.record({
      seed: fc.constantFrom(...SEEDS),
      mutations: fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
      options: optionsArb,
      extra: fc.option(fc.constantFrom(...SEEDS), { nil: undefined }),
    });
    assertProperty(arb, 400, ({ seed, mutations, options, extra }) => {
      const text = mutations.reduce(mutate, seed.text);
      const files: Files = [{ path: seed.path, name: seed.path, text }];
      // A second, unmutated file: duplicates across files and multi-file positions.
      if (extra && extra.path !== seed.path) files.push({ path: extra.path, name: extra.path, text: extra.text });
      run(files, options);
    });
  });

  it('arbitrary text: no exception, no hang, and the same invariants', () => {
    const arb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.array(fc.constantFrom(...WEIRD, 'id', 'trigger', 'instruction', 'cmd', 'cron', ' ', '\n'), { maxLength: 120 }).map((a) => a.join('')),
    );
    assertProperty(arb, 200, (text) => {
      run(one(text), USER);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (b) Cron expressions from a grammar that also produces invalid tokens.

/** A field that is valid for a range (numbers, names, ranges, steps, lists, the day extensions). */
function validField(min: number, max: number, names: readonly string[] = [], day?: 'dom' | 'dow'): fc.Arbitrary<string> {
  const n = fc.integer({ min, max });
  const value = names.length > 0 ? fc.oneof({ weight: 3, arbitrary: n.map(String) }, { weight: 1, arbitrary: fc.constantFrom(...names) }) : n.map(String);
  const element = fc.oneof(
    { weight: 4, arbitrary: value },
    { weight: 2, arbitrary: fc.tuple(n, n).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('*', `${min}`, `${min}-${max}`), fc.integer({ min: 1, max: max - min + 2 })).map(([b, st]) => `${b}/${st}`) },
    ...(day === 'dom' ? [{ weight: 1, arbitrary: fc.oneof(fc.constantFrom('L', 'LW'), fc.integer({ min: 0, max: 30 }).map((k) => `L-${k}`), fc.integer({ min: 1, max: 31 }).map((d) => `${d}W`)) }] : []),
    ...(day === 'dow' ? [{ weight: 1, arbitrary: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 5 })).map(([d, k]) => `${d}#${k}`), fc.integer({ min: 0, max: 7 }).map((d) => `${d}L`)) }] : []),
  );
  return fc.oneof({ weight: 2, arbitrary: fc.constantFrom('*', '?') }, { weight: 3, arbitrary: fc.array(element, { minLength: 1, maxLength: 3 }).map((a) => a.join(',')) });
}
const MONTHS = ['jan', 'FEB', 'mar', 'dec'];
const DAYS = ['mon', 'SUN', 'fri', 'sat'];
const validFields = fc.tuple(validField(0, 59), validField(0, 23), validField(1, 31, [], 'dom'), validField(1, 12, MONTHS), validField(0, 7, DAYS, 'dow'));

/** Elements that are often invalid: out of range, reversed, bad steps, unknown names, misplaced extensions. */
const chaosNumber = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(0, 7, 24, 29, 31, 32, 60, 99, 4294967296));
const chaosElement = fc.oneof(
  chaosNumber.map(String),
  fc.constantFrom('*', '?', 'jan', 'mon', 'foo', 'L', 'W', 'LW', 'WL', 'H', 'l', '#', '-', '/', ',', ''),
  fc.tuple(chaosNumber, chaosNumber).map(([a, b]) => `${a}-${b}`),
  fc.tuple(fc.constantFrom('*', '1', '5-1', 'L', 'mon'), fc.oneof(chaosNumber.map(String), fc.constantFrom('', '0', 'x', '-1', '1/2'))).map(([b, st]) => `${b}/${st}`),
  chaosNumber.map((x) => `${x}W`),
  chaosNumber.map((x) => `${x}L`),
  fc.tuple(chaosNumber, chaosNumber).map(([a, b]) => `${a}#${b}`),
  chaosNumber.map((x) => `L-${x}`),
);
const chaosField = fc.array(chaosElement, { minLength: 1, maxLength: 3 }).map((a) => a.join(','));
const cronArb = fc.oneof(
  { weight: 8, arbitrary: validFields.map((f) => f.join(' ')) },
  { weight: 2, arbitrary: fc.tuple(validField(0, 59), validFields).map(([sec, f]) => [sec, ...f].join(' ')) },
  // one field replaced by chaos
  { weight: 4, arbitrary: fc.tuple(validFields, fc.nat(4), chaosField).map(([f, i, c]) => f.map((x, j) => (j === i ? c : x)).join(' ')) },
  { weight: 2, arbitrary: fc.tuple(fc.array(chaosField, { minLength: 0, maxLength: 8 }), fc.constantFrom(' ', '  ', '\t', ' \t')).map(([f, sep]) => f.join(sep)) },
  { weight: 1, arbitrary: fc.constantFrom('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@reboot', '@every 5m', '@', '@DAILY', ' @daily ') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789*/,-#LW?@ \tabcmon\n'.split('')), maxLength: 16 }) },
);
const zoneArb = fc.constantFrom(undefined, 'UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Etc/GMT+12', 'Mars/Base', 'utc', '');

/** OnCalendar= values as calendar.ts writes them: [weekdays] date time [zone]. */
const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const ON_CALENDAR = new RegExp(`^(?:${WEEKDAY}(?:(?:\\.\\.|,)${WEEKDAY})* )?[0-9*.,/~-]+ [0-9*.,/]+:[0-9*.,/]+:[0-9*.,/]+(?: [A-Za-z][A-Za-z0-9_+/-]*)?$`);

describe('fuzz: cron expressions', () => {
  it('grammar-generated expressions: invariants; valid ones give sane OnCalendar= and crontab lines', () => {
    let valid = 0;
    const arb = fc.record({ cron: cronArb, zone: zoneArb, misfire: fc.constantFrom('skip', 'catch_up'), targets: fc.constantFrom(undefined, { systemd: null }, { crontab: null }, { github: null }) });
    assertProperty(arb, 500, ({ cron, zone, misfire, targets }) => {
      const def: Record<string, unknown> = {
        id: 'fuzz.cron',
        trigger: { trigger_type: 'cron', cron_expression: cron, ...(zone === undefined ? {} : { timezone: zone }), misfire_policy: misfire },
        instruction: { kind: 'shell', cmd: 'true' },
      };
      if (targets) def.targets = targets;
      const r = run(one(stringifyYaml(def)), USER);
      if (r.artefacts.length === 0) return;
      valid++;
      for (const a of r.artefacts) {
        if (a.path.endsWith('.timer')) {
          const lines = a.content.split('\n').filter((l) => l.startsWith('OnCalendar='));
          expect(lines.length).toBeGreaterThan(0);
          for (const l of lines) {
            const value = l.slice('OnCalendar='.length);
            expect(value, cron).toMatch(ON_CALENDAR);
            calendars.add(value);
          }
        }
        if (a.path === 'crontab') for (const l of a.content.split('\n').filter((x) => /^[0-9*]/.test(x))) cronLines.add(l);
      }
    });
    expect(valid, 'the grammar should produce valid expressions too').toBeGreaterThan(runs(500) / 10);
  });

  it('systemd-analyze calendar accepts every OnCalendar= value the fuzzing produced', () => {
    const values = [...calendars];
    expect(values.length).toBeGreaterThan(0);
    for (let i = 0; i < values.length; i += 200) {
      const r = spawnSync('systemd-analyze', ['calendar', '--iterations=1', ...values.slice(i, i + 200)], { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', TZ: 'UTC' } });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('crontab -n accepts every crontab line the fuzzing produced', () => {
    const lines = [...cronLines];
    expect(lines.length).toBeGreaterThan(0);
    const file = join(tempDir('acore-fuzz-'), 'crontab');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = spawnSync('crontab', ['-n', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Rule expressions.

const ruleString = fc
  .tuple(fc.constantFrom("'", '"'), fc.string({ unit: fc.constantFrom(...`ab'" \\ntx$\`{}%é`.split('')), maxLength: 6 }), fc.boolean())
  .map(([q, s, close]) => `${q}${s}${close ? q : ''}`);
const ruleNumber = fc.oneof(fc.integer({ min: -5, max: 1000 }).map(String), fc.constantFrom('0.5', '1e3', '-0', '01', '1e999', '1.', '.5', '0x1', '1_0'));
const rulePath = fc
  .tuple(fc.constantFrom('h', 'hub', 'x', 'and', 'true', '_', 'h2', 'H'), fc.array(fc.oneof(fc.constantFrom('.status', '.a', '[0]', "['k-1']", '["x y"]', '.', '[', '[-1]', '.1'), fc.constant('.ok')), { maxLength: 3 }))
  .map(([r, s]) => r + s.join(''));
const ruleOp = fc.constantFrom('==', '!=', '<', '<=', '>', '>=', '&&', '||', 'and', 'or', '=', '===', '!==', '<>', '=>', '&', '|', '+', '~', '');
const { ruleExpr } = fc.letrec((tie) => ({
  ruleAtom: fc.oneof(rulePath, ruleString, ruleNumber, fc.constantFrom('true', 'false', 'null', '(', ')', '!')),
  ruleExpr: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    tie('ruleAtom'),
    fc.tuple(tie('ruleExpr'), ruleOp, tie('ruleExpr')).map(([a, o, b]) => `${a} ${o} ${b}`),
    tie('ruleExpr').map((e) => `(${e})`),
    tie('ruleExpr').map((e) => `!${e}`),
    tie('ruleExpr').map((e) => `not ${e}`),
  ),
}));
const ruleArb = fc.oneof(
  { weight: 6, arbitrary: ruleExpr as fc.Arbitrary<string> },
  { weight: 1, arbitrary: fc.tuple(ruleExpr as fc.Arbitrary<string>, fc.nat(), INSERT).map(([e, i, s]) => e.slice(0, i % (e.length + 1)) + s + e.slice(i % (e.length + 1))) },
  { weight: 1, arbitrary: fc.nat(400).map((n) => `${'('.repeat(n)}h${')'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.nat(400).map((n) => Array(n + 1).fill('h.ok').join(' && ')) },
);

describe('fuzz: rule expressions', () => {
  it('grammar-generated rules: invariants; valid ones compile to a jq program jq accepts', () => {
    let valid = 0;
    assertProperty(fc.array(ruleArb, { minLength: 1, maxLength: 3 }), 400, (when) => {
      const def = {
        id: 'fuzz.rule',
        trigger: { trigger_type: 'cron', cron_expression: '0 * * * *' },
        context: [
          { kind: 'http_get', url: 'http://127.0.0.1:1/h', bind: 'h' },
          { kind: 'http_get', url: 'http://127.0.0.1:1/hub', bind: 'hub' },
        ],
        rule: { when },
        instruction: { kind: 'shell', cmd: 'true' },
      };
      const r = run(one(stringifyYaml(def)), USER);
      if (r.artefacts.length === 0) return;
      valid++;
      const ir = r.definitions[0]!;
      if (jqPrograms.size < 60) jqPrograms.set(jqProgram(ir.conditions, ir.probes.map((p) => p.bind)), when.join(' && '));
    });
    expect(valid).toBeGreaterThan(runs(400) / 20);
  });

  it('jq compiles every program the fuzzing produced (exit 0 or 1, never a jq error)', () => {
    expect(jqPrograms.size).toBeGreaterThan(0);
    for (const [program, text] of jqPrograms) {
      const r = spawnSync('jq', ['-n', '-e', '--argjson', 'p0', '{"status":"ok","a":[1]}', '--argjson', 'p1', 'null', program], { encoding: 'utf8' });
      expect([0, 1], `${text}\n${r.stderr}`).toContain(r.status);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (d) Field values: unicode, controls, NUL, unpaired surrogates, quotes, expressions, huge strings.

const NASTY_STRINGS = [
  '', ' ', '\0', 'a\0b', '\ud800', 'a\udc00', '😀', 'ü', '\u2028', '\u0085', '\ufeff', '\t', '\n', '\r\n', 'line\nline', '\\', "'", '"', '%', '%n', '%%',
  '$', '$$', '$HOME', '${X}', '$(id)', '`id`', '${{ secrets.X }}', '${{', '}}', '#', ': ', '- ', '*', '&', '!', '|', '>', '@', '..', '../x', '/', '/tmp/x', '.x',
  'a b', 'C:\\x', 'http://127.0.0.1/', 'https://h/x?q=%25&y=$(id)', 'ftp://x', 'UTC', 'Europe/Berlin', 'x'.repeat(100_000),
];
const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...NASTY_STRINGS.slice(0, -1)), { maxLength: 5 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => `x${String.fromCharCode(c)}y`) },
);
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.oneof(fc.array(nastyString, { maxLength: 2 }), fc.dictionary(fc.constantFrom('a', 'B_1', 'x y'), nastyString, { maxKeys: 2 })) },
);
const FIELDS = [
  'id', 'description', 'cmd', 'env', 'env-key', 'working_directory', 'lock_file', 'timeout_seconds', 'url', 'bind', 'probe-timeout', 'timezone', 'when',
  'event_type', 'filter', 'filter-key', 'workflow_name', 'runs_on', 'unit_name', 'on_failure', 'user', 'group', 'crontab-user', 'enabled',
] as const;

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined');

function definitionWith(overrides: [(typeof FIELDS)[number], unknown][], event: boolean): Record<string, unknown> {
  const trigger: Record<string, unknown> = event
    ? { trigger_type: 'event', event_type: 'org.fuzz.happened', filters: { repo_slug: 'acme/*' } }
    : { trigger_type: 'cron', cron_expression: '*/15 * * * *', timezone: 'UTC' };
  const probe: Record<string, unknown> = { kind: 'http_get', url: 'http://127.0.0.1:1/health', bind: 'hub', timeout_seconds: 5 };
  const instruction: Record<string, unknown> = { kind: 'shell', cmd: 'echo ok', env: { APP_ENV: 'production' } };
  const targets: Record<string, Record<string, unknown>> = event ? { github: {} } : { systemd: {}, crontab: {}, github: {} };
  const def: Record<string, unknown> = { id: 'fuzz.values', trigger, context: [probe], rule: { when: ["hub.status == 'ok'"] }, instruction, targets };
  for (const [field, v] of overrides) {
    switch (field) {
      case 'id':
      case 'description':
      case 'enabled':
        def[field] = v;
        break;
      case 'cmd':
      case 'working_directory':
      case 'lock_file':
      case 'timeout_seconds':
        instruction[field] = v;
        break;
      case 'env':
        instruction.env = { ...(instruction.env as object), FUZZ_V: v };
        break;
      case 'env-key':
        instruction.env = { [text(v)]: 'x' };
        break;
      case 'url':
      case 'bind':
        probe[field] = v;
        break;
      case 'probe-timeout':
        probe.timeout_seconds = v;
        break;
      case 'timezone':
        if (!event) trigger.timezone = v;
        break;
      case 'when':
        def.rule = { when: [v] };
        break;
      case 'event_type':
        if (event) trigger.event_type = v;
        break;
      case 'filter':
        if (event) trigger.filters = { repo_slug: v };
        break;
      case 'filter-key':
        if (event) trigger.filters = { [text(v)]: '*' };
        break;
      case 'workflow_name':
      case 'runs_on':
        targets.github![field] = v;
        break;
      case 'unit_name':
      case 'on_failure':
      case 'user':
      case 'group':
        if (!event) targets.systemd![field] = v;
        break;
      case 'crontab-user':
        if (!event) targets.crontab!.user = v;
        break;
    }
  }
  return def;
}

/** The one escape acore writes for a literal `${{` in a GitHub value. */
const unescapeGithub = (v: string) => v.split("${{ '${{' }}").join('${{');

describe('fuzz: field values', () => {
  it('nasty values in every field: invariants; accepted values reach the GitHub workflow exactly', () => {
    let valid = 0;
    const arb = fc.record({
      overrides: fc.array(fc.tuple(fc.constantFrom(...FIELDS), nastyValue), { minLength: 1, maxLength: 4 }),
      event: fc.boolean(),
      json: fc.boolean(),
      options: optionsArb,
    });
    assertProperty(arb, 400, ({ overrides, event, json, options }) => {
      const def = definitionWith(overrides, event);
      // JSON is YAML too, and escapes what yaml.stringify writes raw (unpaired surrogates, controls).
      const text = json ? JSON.stringify(def, null, 1) : stringifyYaml(def);
      const r = run(one(text), options);
      if (r.artefacts.length === 0) return;
      valid++;
      const ins = def.instruction as { cmd: string; env: Record<string, unknown>; working_directory?: string };
      for (const a of r.artefacts.filter((x) => x.target === 'github')) {
        const wf = parseYaml(a.content) as { jobs: { run: { steps: { id: string; env: Record<string, string>; 'working-directory'?: string }[] } } };
        const step = wf.jobs.run.steps.find((s) => s.id === 'run')!;
        expect(unescapeGithub(step.env.ACORE_CMD!)).toBe(ins.cmd);
        for (const [k, v] of Object.entries(ins.env)) expect(unescapeGithub(step.env[k]!)).toBe(String(v));
        if (ins.working_directory !== undefined) expect(unescapeGithub(step['working-directory']!)).toBe(ins.working_directory);
      }
    });
    expect(valid).toBeGreaterThan(runs(400) / 20);
  });
});
