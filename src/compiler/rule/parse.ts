/**
 * Parser and type checker for rule expressions (grammar in ./ast.ts). Both report problems with
 * offsets into the expression text; nothing here knows about YAML.
 */
import type { CompareOp, Literal, RuleExpr, RuleProblem, Span } from './ast.ts';

type TokenKind = 'name' | 'number' | 'string' | 'op' | '(' | ')' | '[' | ']' | '.' | 'eof';

interface Token extends Span {
  kind: TokenKind;
  text: string;
  value?: string | number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!'];
const WRONG_OPERATORS: Record<string, string> = {
  '=': "'=' is not an operator; use '==' to compare",
  '===': "use '==' to compare",
  '!==': "use '!=' to compare",
  '<>': "use '!=' for 'not equal'",
  '=>': "'=>' is not an operator; did you mean '>='?",
  '=<': "'=<' is not an operator; did you mean '<='?",
  '&': "use '&&' (or 'and') for 'and'",
  '|': "use '||' (or 'or') for 'or'",
};

class RuleSyntaxError extends Error {
  constructor(
    readonly problem: RuleProblem,
  ) {
    super(problem.message);
  }
}

function syntax(message: string, offset: number, length = 1): never {
  throw new RuleSyntaxError({ code: 'rule-syntax', message, offset, length: Math.max(1, length) });
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      tokens.push({ kind: 'name', text: src.slice(start, i), offset: start, length: i - start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
      const text = m?.[0] ?? c;
      i += text.length;
      if (!Number.isFinite(Number(text))) syntax(`number ${text} is out of range`, start, text.length);
      if (/[A-Za-z0-9_]/.test(src[i] ?? '')) syntax(`malformed number '${src.slice(start, i + 1)}'`, start, i + 1 - start);
      tokens.push({ kind: 'number', text, value: Number(text), offset: start, length: text.length });
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) syntax('unterminated string', start, src.length - start);
        const d = src[i]!;
        if (d === c) {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
          if (e === undefined || !(e in escapes)) syntax(`unknown escape '\\${e ?? ''}' in string`, i, 2);
          value += escapes[e]!;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      tokens.push({ kind: 'string', text: src.slice(start, i), value, offset: start, length: i - start });
      continue;
    }
    if ('()[].'.includes(c)) {
      tokens.push({ kind: c as TokenKind, text: c, offset: start, length: 1 });
      i++;
      continue;
    }
    const wrong = ['===', '!==', '<>', '=>', '=<'].find((w) => src.startsWith(w, i));
    if (wrong) syntax(WRONG_OPERATORS[wrong]!, start, wrong.length);
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, offset: start, length: op.length });
      i += op.length;
      continue;
    }
    if (WRONG_OPERATORS[c]) syntax(WRONG_OPERATORS[c], start, 1);
    if (/[~^%*+\-/]/.test(c)) syntax(`unknown operator '${c}'; expected one of == != < <= > >= && || !`, start, 1);
    syntax(`unexpected character '${c}'`, start);
  }
  tokens.push({ kind: 'eof', text: '', offset: src.length, length: 0 });
  return tokens;
}

export interface ParsedRule {
  expr: RuleExpr;
  spans: WeakMap<RuleExpr, Span>;
}

type ParseResult = { ok: true; rule: ParsedRule } | { ok: false; problem: RuleProblem };

// Fleets repeat the same few rules; the results are never mutated, so each text is parsed once.
const parsed = new Map<string, ParseResult>();

export function parseRule(src: string): ParseResult {
  let result = parsed.get(src);
  if (result === undefined) {
    try {
      result = { ok: true, rule: new Parser(src, tokenize(src)).parse() };
    } catch (e) {
      if (!(e instanceof RuleSyntaxError)) throw e;
      result = { ok: false, problem: e.problem };
    }
    if (parsed.size < 10_000) parsed.set(src, result);
  }
  return result;
}

/**
 * How deep an expression may nest: parentheses and `!` inside each other, and operators chained
 * one after the other (a chain of n `&&` is a tree n deep). The parser, the type checker and
 * every consumer of the tree recurse, so without a limit a long rule overflows the call stack.
 */
export const MAX_RULE_DEPTH = 200;

class Parser {
  #pos = 0;
  #nesting = 0;
  readonly #depth = new WeakMap<RuleExpr, number>();
  readonly spans = new WeakMap<RuleExpr, Span>();
  constructor(
    readonly src: string,
    readonly tokens: Token[],
  ) {}

  parse(): ParsedRule {
    if (this.peek().kind === 'eof') syntax('the rule is empty', 0, this.src.length);
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') syntax(`unexpected '${t.text}' after a complete expression; combine conditions with && or ||`, t.offset, t.length);
    return { expr, spans: this.spans };
  }

  peek(): Token {
    return this.tokens[this.#pos]!;
  }
  next(): Token {
    return this.tokens[this.#pos++]!;
  }
  isWord(t: Token, w: string): boolean {
    return t.kind === 'name' && t.text === w;
  }

  node<T extends RuleExpr>(expr: T, start: number, end: number): T {
    this.spans.set(expr, { offset: start, length: end - start });
    const children = expr.kind === 'not' ? [expr.operand] : expr.kind === 'and' || expr.kind === 'or' || expr.kind === 'compare' ? [expr.left, expr.right] : [];
    const depth = 1 + Math.max(0, ...children.map((c) => this.#depth.get(c) ?? 0));
    if (depth > MAX_RULE_DEPTH) syntax(`the expression nests or chains more than ${MAX_RULE_DEPTH} operators deep; split it into several rule.when entries`, start, end - start);
    this.#depth.set(expr, depth);
    return expr;
  }

  /** Guards the recursion of '(' and '!' before it happens. */
  enter(t: Token): void {
    if (++this.#nesting > MAX_RULE_DEPTH) syntax(`the expression nests more than ${MAX_RULE_DEPTH} levels deep; split it into several rule.when entries`, t.offset, t.length);
  }
  span(e: RuleExpr): Span {
    return this.spans.get(e) ?? { offset: 0, length: 0 };
  }
  end(e: RuleExpr): number {
    const s = this.span(e);
    return s.offset + s.length;
  }

  or(): RuleExpr {
    let left = this.and();
    for (let t = this.peek(); (t.kind === 'op' && t.text === '||') || this.isWord(t, 'or'); t = this.peek()) {
      this.next();
      const right = this.and();
      left = this.node({ kind: 'or', left, right }, this.span(left).offset, this.end(right));
    }
    return left;
  }

  and(): RuleExpr {
    let left = this.not();
    for (let t = this.peek(); (t.kind === 'op' && t.text === '&&') || this.isWord(t, 'and'); t = this.peek()) {
      this.next();
      const right = this.not();
      left = this.node({ kind: 'and', left, right }, this.span(left).offset, this.end(right));
    }
    return left;
  }

  not(): RuleExpr {
    const t = this.peek();
    if ((t.kind === 'op' && t.text === '!') || this.isWord(t, 'not')) {
      this.next();
      this.enter(t);
      const operand = this.not();
      this.#nesting--;
      return this.node({ kind: 'not', operand }, t.offset, this.end(operand));
    }
    return this.compare();
  }

  compare(): RuleExpr {
    const left = this.atom();
    const t = this.peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      const right = this.atom();
      const after = this.peek();
      if (after.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(after.text)) {
        syntax(`comparisons cannot be chained; write (a ${t.text} b) && (b ${after.text} c)`, after.offset, after.length);
      }
      return this.node({ kind: 'compare', op: t.text as CompareOp, left, right }, this.span(left).offset, this.end(right));
    }
    return left;
  }

  atom(): RuleExpr {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return this.node({ kind: 'literal', value: t.value as string }, t.offset, t.offset + t.length);
      case 'number':
        return this.node({ kind: 'literal', value: t.value as number }, t.offset, t.offset + t.length);
      case '(': {
        this.enter(t);
        const inner = this.or();
        this.#nesting--;
        const close = this.next();
        if (close.kind !== ')') syntax(close.kind === 'eof' ? "missing ')'" : `expected ')' but found '${close.text}'`, close.offset, close.length || 1);
        this.spans.set(inner, { offset: t.offset, length: close.offset + 1 - t.offset });
        return inner;
      }
      case 'name': {
        const literals: Record<string, Literal> = { true: true, false: false, null: null };
        if (t.text in literals) return this.node({ kind: 'literal', value: literals[t.text]! }, t.offset, t.offset + t.length);
        if (['and', 'or', 'not'].includes(t.text)) syntax(`'${t.text}' needs an operand before it`, t.offset, t.length);
        return this.path(t);
      }
      case 'eof':
        return syntax('the expression ends too early; expected a value', t.offset, 1);
      default:
        return syntax(`unexpected '${t.text}'; expected a value, a name or '('`, t.offset, t.length);
    }
  }

  path(root: Token): RuleExpr {
    const steps: (string | number)[] = [];
    let end = root.offset + root.length;
    for (;;) {
      const t = this.peek();
      if (t.kind === '.') {
        this.next();
        const name = this.next();
        if (name.kind !== 'name') syntax(`expected a field name after '.'`, name.offset, name.length || 1);
        steps.push(name.text);
        end = name.offset + name.length;
      } else if (t.kind === '[') {
        this.next();
        const idx = this.next();
        if (idx.kind === 'number' && Number.isInteger(idx.value) && (idx.value as number) >= 0) steps.push(idx.value as number);
        else if (idx.kind === 'string') steps.push(idx.value as string);
        else syntax('expected a non-negative integer index or a quoted field name inside [ ]', idx.offset, idx.length || 1);
        const close = this.next();
        if (close.kind !== ']') syntax("missing ']'", close.offset, close.length || 1);
        end = close.offset + 1;
      } else break;
    }
    return this.node({ kind: 'path', root: root.text, steps }, root.offset, end);
  }
}

type RuleType = 'bool' | 'string' | 'number' | 'null' | 'json';

function literalType(v: Literal): RuleType {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'number' ? 'number' : 'string';
}

/**
 * Type checks a parsed rule against the names bound by context probes. Paths into probe results
 * have the unknown JSON type; literals have their own; problems are collected, not thrown.
 */
export function checkRule(rule: ParsedRule, bound: readonly string[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const span = (e: RuleExpr) => rule.spans.get(e) ?? { offset: 0, length: 0 };
  const problem = (code: RuleProblem['code'], message: string, e: RuleExpr) => problems.push({ code, message, ...span(e) });

  const typeOf = (e: RuleExpr): RuleType => {
    switch (e.kind) {
      case 'literal':
        return literalType(e.value);
      case 'path':
        if (!bound.includes(e.root)) {
          const s = span(e);
          const names = bound.length > 0 ? `bound names: ${bound.join(', ')}` : 'no context probe binds any name';
          problems.push({ code: 'rule-unbound', message: `unknown name '${e.root}' (${names})`, offset: s.offset, length: e.root.length });
        }
        return 'json';
      case 'not':
        condition(e.operand, "'!'");
        return 'bool';
      case 'and':
      case 'or':
        condition(e.left, `'${e.kind}'`);
        condition(e.right, `'${e.kind}'`);
        return 'bool';
      case 'compare': {
        const l = typeOf(e.left);
        const r = typeOf(e.right);
        if (e.op === '==' || e.op === '!=') {
          if (l !== 'json' && r !== 'json' && l !== r) {
            problem('rule-type', `comparing a ${l} with a ${r} is always ${e.op === '==' ? 'false' : 'true'}`, e);
          }
        } else {
          for (const [t, side] of [
            [l, e.left],
            [r, e.right],
          ] as const) {
            if (t !== 'json' && t !== 'number' && t !== 'string') problem('rule-type', `'${e.op}' compares numbers or strings, not ${t}`, side);
          }
          if (l !== 'json' && r !== 'json' && l !== r && (l === 'number' || l === 'string') && (r === 'number' || r === 'string')) {
            problem('rule-type', `'${e.op}' between a ${l} and a ${r} is always false`, e);
          }
        }
        return 'bool';
      }
    }
  };
  const condition = (e: RuleExpr, where: string) => {
    const t = typeOf(e);
    if (t !== 'bool' && t !== 'json') problem('rule-type', `${where} needs a condition, not a ${t}`, e);
  };
  condition(rule.expr, 'a rule');
  return problems;
}
