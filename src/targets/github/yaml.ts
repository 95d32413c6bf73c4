/**
 * Values in a GitHub workflow file. Two layers interpret a value GitHub reads:
 *
 * 1. YAML. Every scalar acore writes is a double-quoted YAML scalar: JSON.stringify's output is
 *    one (its escapes \" \\ \b \f \n \r \t \uXXXX are YAML's too), and the characters YAML does not
 *    allow raw in a document (DEL, C1 controls, U+FEFF, U+FFFE/U+FFFF) or may read
 *    as line breaks (NEL, U+2028, U+2029 in YAML 1.1) are escaped as \uXXXX as well.
 * 2. GitHub's expressions: GitHub evaluates `${{ … }}` in nearly every value (env values,
 *    working-directory, runs-on, concurrency group …), so a definition's `${{ secrets.X }}` would
 *    be evaluated on the runner. Each `${{` of a definition's text becomes the expression
 *    `${{ '${{' }}`, a string literal that evaluates to the two characters `${{` — GitHub's own
 *    documented way to write them. The rest of the text needs nothing: outside an expression
 *    `}}` and `'` are literal, and the replacement cannot create a new `${{`.
 */

/** A YAML double-quoted scalar holding exactly `text`. */
export function yamlString(text: string): string {
  // JSON.stringify already writes lone surrogates as \uXXXX escapes.
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The expression GitHub evaluates to the literal text `${{`. */
export const ESCAPED_OPEN = "${{ '${{' }}";

/** Text that GitHub's expression evaluation gives back unchanged. */
export function noExpressions(text: string): string {
  return text.split('${{').join(ESCAPED_OPEN);
}

/** A value GitHub may evaluate expressions in, holding exactly `text` after evaluation. */
export function literal(text: string): string {
  return yamlString(noExpressions(text));
}

/**
 * For the few places where GitHub allows no expression at all (the workflow's `name:`), where
 * any `${{` is an error: shown as `$ {{` instead.
 */
export function displayText(text: string): string {
  return yamlString(text.split('${{').join('$ {{'));
}
