/**
 * The rule language's meaning (src/compiler/rule/ast.ts), proven by execution: every rule is
 * parsed, compiled by jqProgram and run by the real jq exactly as the guard script runs it
 * (`jq -n -e --argjson p0 <json> … <program>`: exit 0 = true, 1 = false, anything else = broken).
 * Every expected verdict below is written from the documented meaning, not from jq's own rules:
 * a missing path is null, == / != compare JSON values, < <= > >= hold only between two numbers or
 * two strings (strings in code point order), a bare path is true only for the JSON `true`.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkRule, parseRule } from '../src/compiler/rule/parse.ts';
import type { RuleConditionIR } from '../src/compiler/ir.ts';
import { jqProgram } from '../src/targets/shell/jq.ts';

/** Compile the conditions (ANDed) for these binds and run jq the way the guard does; the exit status. */
function runRule(rules: readonly string[], binds: readonly string[], values: readonly unknown[]): { status: number | null; stderr: string; program: string } {
  const conditions: RuleConditionIR[] = rules.map((text) => {
    const parsed = parseRule(text);
    if (!parsed.ok) throw new Error(`${text}: ${parsed.problem.message}`);
    const problems = checkRule(parsed.rule, binds);
    if (problems.length > 0) throw new Error(`${text}: ${problems.map((p) => p.message).join('; ')}`);
    return { text, expr: parsed.rule.expr };
  });
  const program = jqProgram(conditions, binds);
  const args = ['-n', '-e', ...values.flatMap((v, i) => ['--argjson', `p${i}`, JSON.stringify(v)]), program];
  const r = spawnSync('jq', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr, program };
}

// ---------------------------------------------------------------------------------------------
// The probe results

const X = {
  s: 'ok',
  n: 5,
  f: 1.5,
  ten: 10,
  ten_s: '10',
  t: true,
  fl: false,
  z: null,
  one: 1,
  str_true: 'true',
  upper: 'Z',
  zed: 'z',
  bmp_max: '\uffff',
  arr: [10, 'b', null, { k: 'v' }],
  obj: { a: 1, b: [1, 2], c: { d: null } },
  obj_reordered: { c: { d: null }, b: [1.0, 2], a: 1.0 },
  obj_other: { a: 1, b: [2, 1], c: { d: null } },
  'content-type': 'application/json',
  'a.b': 'dotted',
  'with space': 'spaced',
  'ключ': 'значение',
  '😀': 'emoji',
  quoted: `it's "q" \\ $HOME \n ü 😀`,
  dq: '"',
  bs: '\\',
  interp: '\\(1+1)',
  dollar: '$__loc__',
  ctrl: 'a\tb\rc',
  ls: 'line\u2028sep',
};

interface Case {
  /** One rule, or several `when` conditions (all must hold). */
  rule: string | string[];
  /** Probe results in probe order; default [X]. */
  values?: unknown[];
  /** Bind names in probe order; default x, y, … */
  binds?: string[];
  want: boolean;
}

const CASES: [string, { given: Omit<Case, 'want'>; want: boolean }][] = (
  [
    // equality of JSON values
    ['string ==', { rule: "x.s == 'ok'", want: true }],
    ['string !=', { rule: "x.s != 'ok'", want: false }],
    ['string == is case-sensitive', { rule: "x.s == 'OK'", want: false }],
    ['number ==', { rule: 'x.n == 5', want: true }],
    ['1 == 1.0 in JSON', { rule: 'x.one == 1.0', want: true }],
    ['number vs numeric string', { rule: "x.n == '5'", want: false }],
    ['bool == true', { rule: 'x.t == true', want: true }],
    ['1 is not true', { rule: 'x.one == true', want: false }],
    ['explicit null == null', { rule: 'x.z == null', want: true }],
    ['objects: key order and 1 vs 1.0 do not matter', { rule: 'x.obj == x.obj_reordered', want: true }],
    ['objects differing in a nested array order', { rule: 'x.obj != x.obj_other', want: true }],
    ['arrays across two probes', { rule: 'x.a == y.a', values: [{ a: [1, 'b', null] }, { a: [1.0, 'b', null] }], want: true }],
    ['array order matters', { rule: 'x.a == y.a', values: [{ a: [1, 2] }, { a: [2, 1] }], want: false }],
    // missing values are null
    ['missing == null', { rule: 'x.missing == null', want: true }],
    ["missing == 'a'", { rule: "x.missing == 'a'", want: false }],
    ['missing is not false', { rule: 'x.missing == false', want: false }],
    ['field of a string is null, not an error', { rule: 'x.s.deeper == null', want: true }],
    ['field of an array', { rule: 'x.arr.k == null', want: true }],
    ['index into an object', { rule: 'x.obj[0] == null', want: true }],
    ['quoted key on an array', { rule: "x.arr['0'] == null", want: true }],
    // array index
    ['index 0', { rule: 'x.arr[0] == 10', want: true }],
    ['index then field', { rule: "x.arr[3].k == 'v'", want: true }],
    ['index past the end is null', { rule: 'x.arr[99] == null', want: true }],
    // quoted keys
    ['key with a dash', { rule: "x['content-type'] == 'application/json'", want: true }],
    ['key with a dot is one key', { rule: "x['a.b'] == 'dotted'", want: true }],
    ['a.b as a path is not the dotted key', { rule: 'x.a.b == null', want: true }],
    ['key with a space', { rule: `x["with space"] == 'spaced'`, want: true }],
    ['cyrillic key and value', { rule: "x['ключ'] == 'значение'", want: true }],
    ['emoji key', { rule: "x['😀'] == 'emoji'", want: true }],
    // ordering
    ['5 < 6', { rule: 'x.n < 6', want: true }],
    ['5 <= 5', { rule: 'x.n <= 5', want: true }],
    ['5 > 5', { rule: 'x.n > 5', want: false }],
    ['5 >= 5.0', { rule: 'x.n >= 5.0', want: true }],
    ['10 < 9 (numbers)', { rule: 'x.ten < 9', want: false }],
    ["'10' < '9' (strings)", { rule: "x.ten_s < '9'", want: true }],
    ['number < string', { rule: "x.n < 'a'", want: false }],
    ['string < number', { rule: 'x.s < 3', want: false }],
    ['string > number', { rule: 'x.s > 3', want: false }],
    ['missing < number', { rule: 'x.missing < 1', want: false }],
    ['true < number', { rule: 'x.t < 0', want: false }],
    ['array > number', { rule: 'x.arr > 1', want: false }],
    ['object > string', { rule: "x.obj > 'z'", want: false }],
    ["'ok' < 'p'", { rule: "x.s < 'p'", want: true }],
    ['a prefix sorts first', { rule: "x.s < 'okay'", want: true }],
    ["'Z' < 'a'", { rule: "x.upper < 'a'", want: true }],
    ["'z' < 'é' (code points, not locale)", { rule: "x.zed < 'é'", want: true }],
    ["U+FFFF < U+1F600 (code points, not UTF-16 units)", { rule: "x.bmp_max < '😀'", want: true }],
    ['numbers across two probes', { rule: 'x.n < y.n', values: [{ n: 5 }, { n: 7 }], want: true }],
    // a bare path
    ['bare true', { rule: 'x.t', want: true }],
    ['bare false', { rule: 'x.fl', want: false }],
    ['bare 1', { rule: 'x.one', want: false }],
    ["bare 'true'", { rule: 'x.str_true', want: false }],
    ['bare missing', { rule: 'x.missing', want: false }],
    ['bare path through a string', { rule: 'x.s.deeper', want: false }],
    // not
    ['!true', { rule: '!x.t', want: false }],
    ['!1', { rule: '!x.one', want: true }],
    ["!'true'", { rule: 'not x.str_true', want: true }],
    ['!missing', { rule: '!x.missing', want: true }],
    ['! of a comparison', { rule: '!(x.n < 3)', want: true }],
    ['! over == (not binds looser)', { rule: "!x.missing == 'a'", want: true }],
    // && and ||
    ['T && T', { rule: 'x.t && x.t', want: true }],
    ['T && F', { rule: 'x.t && x.fl', want: false }],
    ['F && T', { rule: 'x.fl and x.t', want: false }],
    ['F && F', { rule: 'x.fl && x.fl', want: false }],
    ['T || T', { rule: 'x.t || x.t', want: true }],
    ['T || F', { rule: 'x.t or x.fl', want: true }],
    ['F || T', { rule: 'x.fl || x.t', want: true }],
    ['F || F', { rule: 'x.fl || x.fl', want: false }],
    ['missing && T', { rule: 'x.missing && x.t', want: false }],
    ['missing || T', { rule: 'x.missing || x.t', want: true }],
    ['1 || F (1 is not true)', { rule: 'x.one || x.fl', want: false }],
    ['T || F && F is T || (F && F)', { rule: 'x.t || x.fl && x.fl', want: true }],
    ['!F && F is (!F) && F', { rule: '!x.fl && x.fl', want: false }],
    ['(T || F) && F', { rule: '(x.t || x.fl) && x.fl', want: false }],
    // several conditions, several probes
    ['two conditions, both true', { rule: ['x.t', 'x.n == 5'], want: true }],
    ['two conditions, the second false', { rule: ['x.t', 'x.n == 6'], want: false }],
    ['three conditions with || inside', { rule: ['x.fl || x.t', "x.s == 'ok'", '!x.missing'], want: true }],
    ['|| inside one condition does not leak into the next', { rule: ['x.t || x.t', 'x.fl'], want: false }],
    ['two probes', { rule: "x.s == 'ok' && y.s == 'up'", values: [X, { s: 'up' }], want: true }],
    ['two probes, names swapped', { rule: "y.s == 'ok'", values: [X, { s: 'up' }], want: false }],
    // bind names that are jq keywords/builtins
    [
      'jq keywords as bind names',
      {
        rule: ['if.v == 1 && def.v == 3', 'reduce.v == 4 && env.v == 5 && then.v == 6'],
        binds: ['if', 'and', 'def', 'reduce', 'env', 'then'],
        values: [{ v: 1 }, { v: 2 }, { v: 3 }, { v: 4 }, { v: 5 }, { v: 6 }],
        want: true,
      },
    ],
    // string literals must equal the same JSON string
    ["quotes, backslash, $, \\n, unicode (single-quoted)", { rule: String.raw`x.quoted == 'it\'s "q" \\ $HOME \n ü 😀'`, want: true }],
    ['quotes, backslash, $, \\n, unicode (double-quoted)', { rule: String.raw`x.quoted == "it's \"q\" \\ $HOME \n ü 😀"`, want: true }],
    ['one character off', { rule: String.raw`x.quoted == 'it\'s "q" \\ $HOME \n u 😀'`, want: false }],
    ['a lone double quote', { rule: `x.dq == '"'`, want: true }],
    ['a lone backslash', { rule: String.raw`x.bs == '\\'`, want: true }],
    ['backslash-paren is not jq interpolation', { rule: String.raw`x.interp == '\\(1+1)'`, want: true }],
    ['$__loc__ is not a jq variable here', { rule: "x.dollar == '$__loc__'", want: true }],
    ['tab and carriage return', { rule: String.raw`x.ctrl == 'a\tb\rc'`, want: true }],
    ['raw U+2028 inside a literal', { rule: "x.ls == 'line\u2028sep'", want: true }],
  ] satisfies [string, Case][]
).map(([name, { want, ...given }]) => [name, { given, want }]);

describe('rule semantics, executed by jq', () => {
  it('jq is installed', () => {
    const r = spawnSync('jq', ['--version'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
  });

  it.each(CASES)('%s', (_name, { given, want }) => {
    const rules = typeof given.rule === 'string' ? [given.rule] : given.rule;
    const values = given.values ?? [X];
    const binds = given.binds ?? values.map((_, i) => 'xyzuvw'[i]!);
    const r = runRule(rules, binds, values);
    expect(r.status, `exit status for ${rules.join(' ; ')}\nprogram: ${r.program}\nstderr: ${r.stderr}`).toBe(want ? 0 : 1);
  });
});

// ---------------------------------------------------------------------------------------------
// No rule × value makes jq fail (exit ≥ 2 would be reported as a broken probe).

const ODD_VALUES: unknown[] = [null, true, 0, 1e308, 'quote " and \\ and \n', [], [1, 'a', null, [2]], {}, { a: { b: 1 }, k: [0, 1, { z: 'q' }], v: 'true' }];

const SWEEP: [string, { given: string; want: 'always true' | 'true or false' }][] = [
  ['== itself', { given: 'x == x', want: 'always true' }],
  ['bare and not', { given: 'x || !x', want: 'always true' }],
  ['< number', { given: 'x < 1', want: 'true or false' }],
  ['>= string', { given: "x >= 'a'", want: 'true or false' }],
  ['index, key, index, field', { given: "x[0]['k'][2].z == 'q'", want: 'true or false' }],
  ['index < field, and / or / not', { given: 'x[0] < x.a.b || x.v && !x[1]', want: 'true or false' }],
];

describe('jq never fails on a well-typed rule', () => {
  it.each(SWEEP)('%s', (_name, { given, want }) => {
    for (const v of ODD_VALUES) {
      const r = runRule([given], ['x'], [v]);
      const why = `${given} with x = ${JSON.stringify(v)}\nprogram: ${r.program}\nstderr: ${r.stderr}`;
      if (want === 'always true') expect(r.status, why).toBe(0);
      else expect([0, 1], why).toContain(r.status);
    }
  });
});
