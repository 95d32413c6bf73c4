/**
 * The rule language's front end (src/compiler/rule/parse.ts) against its grammar and meaning
 * (src/compiler/rule/ast.ts): the ASTs below are written by hand from the grammar, the error
 * positions by counting characters in the rule text.
 */
import { describe, expect, it } from 'vitest';
import type { Literal, RuleExpr, RuleProblem } from '../src/compiler/rule/ast.ts';
import { checkRule, parseRule } from '../src/compiler/rule/parse.ts';

// ---------------------------------------------------------------------------------------------
// AST constructors

const lit = (value: Literal): RuleExpr => ({ kind: 'literal', value });
const path = (root: string, ...steps: (string | number)[]): RuleExpr => ({ kind: 'path', root, steps });
const not = (operand: RuleExpr): RuleExpr => ({ kind: 'not', operand });
const and = (left: RuleExpr, right: RuleExpr): RuleExpr => ({ kind: 'and', left, right });
const or = (left: RuleExpr, right: RuleExpr): RuleExpr => ({ kind: 'or', left, right });
const cmp = (op: '==' | '!=' | '<' | '<=' | '>' | '>=', left: RuleExpr, right: RuleExpr): RuleExpr => ({ kind: 'compare', op, left, right });
const [a, b, c] = [path('a'), path('b'), path('c')];

// ---------------------------------------------------------------------------------------------
// Valid expressions

const VALID: [string, { given: string; want: RuleExpr }][] = [
  ['the README example', { given: "hub_health.status == 'ok'", want: cmp('==', path('hub_health', 'status'), lit('ok')) }],
  ['&& binds tighter than || (right)', { given: 'a || b && c', want: or(a, and(b, c)) }],
  ['&& binds tighter than || (left)', { given: 'a && b || c', want: or(and(a, b), c) }],
  ['! binds tighter than &&', { given: '!a && b', want: and(not(a), b) }],
  ['! binds looser than a comparison (not := "!" not | cmp)', { given: '!a == 1', want: not(cmp('==', a, lit(1))) }],
  ['|| is left-associative', { given: 'a || b || c', want: or(or(a, b), c) }],
  ['parentheses override precedence', { given: '(a || b) && c', want: and(or(a, b), c) }],
  ['! over a parenthesised conjunction', { given: '!(a && b)', want: not(and(a, b)) }],
  ['redundant parentheses vanish', { given: '((a))', want: a }],
  ['word operators with the same precedence', { given: 'a and b or not c', want: or(and(a, b), not(c)) }],
  ['word and symbol operators mix', { given: 'not a || b and !c', want: or(not(a), and(b, not(c))) }],
  ['double negation (symbols, no space)', { given: '!!a', want: not(not(a)) }],
  ['&& directly followed by ! (no spaces)', { given: 'a&&!b', want: and(a, not(b)) }],
  ['|| directly followed by ! (no spaces)', { given: 'a||!b', want: or(a, not(b)) }],
  ['no spaces around a comparison', { given: 'x.n>=-1', want: cmp('>=', path('x', 'n'), lit(-1)) }],
  ['field, index and field', { given: 'x.items[0].name != "n"', want: cmp('!=', path('x', 'items', 0, 'name'), lit('n')) }],
  ['quoted keys with a dash, dots and a space', { given: `x['content-type']["a.b"]['sp ace'][12]`, want: path('x', 'content-type', 'a.b', 'sp ace', 12) }],
  ['unicode quoted key and value', { given: "x['ключ-😀'] == 'ß'", want: cmp('==', path('x', 'ключ-😀'), lit('ß')) }],
  ['operator words as field names', { given: 'x.not.and.or.true', want: path('x', 'not', 'and', 'or', 'true') }],
  ['single-quoted escapes', { given: String.raw`x.s == 'it\'s \"q\" \\ \n\t\r'`, want: cmp('==', path('x', 's'), lit('it\'s "q" \\ \n\t\r')) }],
  ['double-quoted escapes and an unescaped quote of the other kind', { given: String.raw`x.s == "say \"hi\", it's"`, want: cmp('==', path('x', 's'), lit(`say "hi", it's`)) }],
  ['integers and decimals', { given: 'x.n < 3.25 && x.m >= 0', want: and(cmp('<', path('x', 'n'), lit(3.25)), cmp('>=', path('x', 'm'), lit(0))) }],
  ['negative numbers', { given: 'x.n > -12 || x.n <= -0.5', want: or(cmp('>', path('x', 'n'), lit(-12)), cmp('<=', path('x', 'n'), lit(-0.5))) }],
  ['true, false, null', { given: 'x.a == true && x.b != false && x.c == null', want: and(and(cmp('==', path('x', 'a'), lit(true)), cmp('!=', path('x', 'b'), lit(false))), cmp('==', path('x', 'c'), lit(null))) }],
  ['literals on both sides', { given: '1 == 1.0', want: cmp('==', lit(1), lit(1)) }],
  ['whitespace of every kind', { given: ' \ta\n==\r\n1 ', want: cmp('==', a, lit(1)) }],
];

describe('parseRule: valid expressions', () => {
  it.each(VALID)('%s', (_name, { given, want }) => {
    const r = parseRule(given);
    if (!r.ok) expect.fail(`${given}: ${r.problem.message} at ${r.problem.offset}+${r.problem.length}`);
    expect(r.rule.expr).toStrictEqual(want);
  });
});

// ---------------------------------------------------------------------------------------------
// Syntax errors

interface SyntaxWant {
  offset: number;
  length: number;
  message?: RegExp;
}

const SYNTAX: [string, { given: string; want: SyntaxWant }][] = [
  ['= instead of ==', { given: 'a = 1', want: { offset: 2, length: 1, message: /use '=='/ } }],
  ['===', { given: 'a === 1', want: { offset: 2, length: 3, message: /'=='/ } }],
  ['<>', { given: 'a <> 1', want: { offset: 2, length: 2, message: /'!='/ } }],
  ['=>', { given: 'a => 1', want: { offset: 2, length: 2, message: /'>='/ } }],
  ['single &', { given: 'a & b', want: { offset: 2, length: 1, message: /'&&'/ } }],
  ['single |', { given: 'a | b', want: { offset: 2, length: 1, message: /'\|\|'/ } }],
  ['unterminated single-quoted string', { given: "x.s == 'ok", want: { offset: 7, length: 3, message: /unterminated string/ } }],
  ['unterminated double-quoted string ending in an escaped quote', { given: 'x.s == "ok\\"', want: { offset: 7, length: 5, message: /unterminated string/ } }],
  ['empty rule', { given: '', want: { offset: 0, length: 1, message: /empty/ } }],
  ['trailing tokens', { given: 'a == 1 b', want: { offset: 7, length: 1, message: /after a complete expression/ } }],
  ['chained comparison', { given: '1 < a < 3', want: { offset: 6, length: 1, message: /cannot be chained/ } }],
  ['missing )', { given: '(a == 1', want: { offset: 7, length: 1, message: /missing '\)'/ } }],
  ['something else where ) belongs', { given: '(a == 1 b)', want: { offset: 8, length: 1, message: /expected '\)' but found 'b'/ } }],
  ['negative index', { given: 'a[-1]', want: { offset: 2, length: 2, message: /non-negative integer/ } }],
  ['fractional index', { given: 'a[1.5] == 1', want: { offset: 2, length: 3, message: /non-negative integer/ } }],
  ['missing ]', { given: 'a[0', want: { offset: 3, length: 1, message: /missing '\]'/ } }],
  ['dot at the end', { given: 'a.', want: { offset: 2, length: 1, message: /field name after '\.'/ } }],
  ['unknown escape', { given: String.raw`'\q'`, want: { offset: 1, length: 2, message: /unknown escape '\\q'/ } }],
  ['unexpected character', { given: 'a @ b', want: { offset: 2, length: 1, message: /unexpected character '@'/ } }],
  ['a number literal out of range', { given: 'x.n < 1e400', want: { offset: 6, length: 5, message: /out of range/ } }],
  ['right operand missing', { given: 'a ==', want: { offset: 4, length: 1, message: /ends too early/ } }],
  ['operator word used as an operand', { given: 'a && and', want: { offset: 5, length: 3, message: /'and' needs an operand/ } }],
  ['number with a leading zero', { given: 'x.n == 01', want: { offset: 7, length: 2, message: /malformed number/ } }],
];

describe('parseRule: syntax errors', () => {
  it.each(SYNTAX)('%s', (_name, { given, want }) => {
    const r = parseRule(given);
    if (r.ok) expect.fail(`${JSON.stringify(given)} parsed as ${JSON.stringify(r.rule.expr)}`);
    const { code, offset, length, message } = r.problem;
    expect({ code, offset, length }).toStrictEqual({ code: 'rule-syntax', offset: want.offset, length: want.length });
    if (want.message) expect(message).toMatch(want.message);
  });
});

// ---------------------------------------------------------------------------------------------
// Type checking

const BOUND = ['x', 'hub_health'];

interface TypeWant {
  code: RuleProblem['code'];
  offset: number;
  length: number;
  message?: RegExp;
}

const TYPES: [string, { given: string; bound?: string[]; want: TypeWant[] }][] = [
  ['unbound root name', { given: 'y.z == 1', want: [{ code: 'rule-unbound', offset: 0, length: 1, message: /unknown name 'y'.*bound names: x, hub_health/ }] }],
  ['unbound name later in the rule: span is the root name only', { given: "x.a && hub.status == 'ok'", want: [{ code: 'rule-unbound', offset: 7, length: 3, message: /'hub'/ }] }],
  ['nothing bound at all', { given: 'x.a', bound: [], want: [{ code: 'rule-unbound', offset: 0, length: 1, message: /no context probe binds any name/ }] }],
  ['string == number', { given: "'a' == 1", want: [{ code: 'rule-type', offset: 0, length: 8, message: /always false/ }] }],
  ['ordering a bool', { given: 'true < 3', want: [{ code: 'rule-type', offset: 0, length: 4, message: /not bool/ }] }],
  ['ordering null', { given: 'null >= 1', want: [{ code: 'rule-type', offset: 0, length: 4, message: /not null/ }] }],
  ['ordering against null on the right', { given: 'x.n < null', want: [{ code: 'rule-type', offset: 6, length: 4 }] }],
  ['ordering a number against a string', { given: "3 < 'a'", want: [{ code: 'rule-type', offset: 0, length: 7, message: /always false/ }] }],
  ['ordering a comparison', { given: '(x.n < 3) < 5', want: [{ code: 'rule-type', offset: 0, length: 9, message: /not bool/ }] }],
  ['a string as an operand of &&', { given: "'ok' && x.y", want: [{ code: 'rule-type', offset: 0, length: 4, message: /needs a condition, not a string/ }] }],
  ['a bare string as the whole rule', { given: "'x'", want: [{ code: 'rule-type', offset: 0, length: 3, message: /not a string/ }] }],
  ['a bare number as the whole rule', { given: '42', want: [{ code: 'rule-type', offset: 0, length: 2, message: /not a number/ }] }],
  ['! of a string', { given: "!'x'", want: [{ code: 'rule-type', offset: 1, length: 3, message: /'!' needs a condition/ }] }],
  ['! of a parenthesised string: span includes the parentheses', { given: "!('x')", want: [{ code: 'rule-type', offset: 1, length: 5 }] }],
  // accepted
  ['a bare path', { given: 'x.y', want: [] }],
  ['ordering a path against a number', { given: 'x.n < 3', want: [] }],
  ['ordering a path against a string', { given: "x.n < 'a'", want: [] }],
  ['a path against null', { given: 'x.s == null', want: [] }],
  ['not of a bare path', { given: 'not x.flag', want: [] }],
  ['a comparison compared with a bool', { given: '(hub_health.ok == 1) == true', want: [] }],
];

describe('checkRule', () => {
  it.each(TYPES)('%s', (_name, { given, bound, want }) => {
    const r = parseRule(given);
    if (!r.ok) expect.fail(`${given}: ${r.problem.message}`);
    const problems = checkRule(r.rule, bound ?? BOUND);
    expect(problems.map(({ code, offset, length }) => ({ code, offset, length }))).toStrictEqual(want.map(({ code, offset, length }) => ({ code, offset, length })));
    want.forEach((w, i) => {
      if (w.message) expect(problems[i]!.message).toMatch(w.message);
    });
  });
});
