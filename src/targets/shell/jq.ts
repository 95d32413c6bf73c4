/**
 * Rule expressions → one jq program (jq 1.6+ manual), evaluated with `jq -n -e` and the probe
 * results passed as `--argjson p<i> <json>` in probe order (so any bind name is safe in jq). `-e` makes the exit status the verdict:
 * 0 = true, 1 = false or null, anything else = jq itself failed.
 *
 * The meaning is the rule language's (src/compiler/rule/ast.ts), not jq's: a missing field is
 * null, ordering only between two numbers or two strings, a bare path is true only if `true`.
 */
import type { RuleConditionIR, RuleExpr } from '../../compiler/ir.ts';

const PRELUDE =
  'def acore_get($k): if type == "object" and ($k|type) == "string" then .[$k] ' +
  'elif type == "array" and ($k|type) == "number" then .[$k] else null end; ' +
  'def acore_ord(f): if (.[0]|type) == (.[1]|type) and ((.[0]|type) == "number" or (.[0]|type) == "string") then f else false end;';

export function jqProgram(conditions: readonly RuleConditionIR[], binds: readonly string[]): string {
  const condition = (e: RuleExpr): string => (e.kind === 'path' ? `(${value(e)} == true)` : value(e));
  const value = (e: RuleExpr): string => {
    switch (e.kind) {
      case 'literal':
        return JSON.stringify(e.value);
      case 'path':
        return `($p${binds.indexOf(e.root)}${e.steps.map((s) => ` | acore_get(${JSON.stringify(s)})`).join('')})`;
      case 'not':
        return `(${condition(e.operand)} | not)`;
      case 'and':
      case 'or':
        return `(${condition(e.left)} ${e.kind} ${condition(e.right)})`;
      case 'compare':
        if (e.op === '==' || e.op === '!=') return `(${value(e.left)} ${e.op} ${value(e.right)})`;
        return `([${value(e.left)}, ${value(e.right)}] | acore_ord(.[0] ${e.op} .[1]))`;
    }
  };
  return `${PRELUDE} ${conditions.map((c) => condition(c.expr)).join(' and ')}`;
}
