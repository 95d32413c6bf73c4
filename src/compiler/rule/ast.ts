/**
 * The rule language: small boolean expressions over the JSON values that context probes bind.
 *
 *   expr   := or
 *   or     := and (("||" | "or") and)*
 *   and    := not (("&&" | "and") not)*
 *   not    := ("!" | "not") not | cmp
 *   cmp    := atom (("==" | "!=" | "<" | "<=" | ">" | ">=") atom)?
 *   atom   := literal | path | "(" expr ")"
 *   path   := name ("." name | "[" integer "]" | "[" string "]")*
 *   literal:= 'string' | "string" | number | true | false | null
 *
 * Meaning: a path that does not exist is null; == and != compare JSON values; < <= > >= hold
 * only between two numbers or two strings (otherwise false); a bare path is true only when its
 * value is the JSON `true`.
 */

export type Literal = string | number | boolean | null;

export type RuleExpr =
  | { kind: 'literal'; value: Literal }
  | { kind: 'path'; root: string; steps: (string | number)[] }
  | { kind: 'not'; operand: RuleExpr }
  | { kind: 'and' | 'or'; left: RuleExpr; right: RuleExpr }
  | { kind: 'compare'; op: CompareOp; left: RuleExpr; right: RuleExpr };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** Source span of a node inside the rule text. */
export interface Span {
  offset: number;
  length: number;
}

export interface RuleProblem extends Span {
  code: 'rule-syntax' | 'rule-unbound' | 'rule-type';
  message: string;
}
