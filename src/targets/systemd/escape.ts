/**
 * Quoting for unit files (systemd.service(5) "Command lines", systemd.unit(5) "Specifiers",
 * systemd.syntax(7)).
 *
 * In Exec*= lines systemd splits words itself (no shell): it unquotes '…' and "…", resolves C
 * escapes inside both (\\ \n \t \' \" \xNN), expands $VAR and ${VAR} (a literal $ is $$), and
 * expands %-specifiers in every value (a literal % is %%). A line ending in a backslash
 * continues on the next one, the backslash and line break read as one space; a raw line break
 * inside a value would end the setting, so it is written as \n.
 * (Measured on systemd 252 with a user manager: each of these round-trips byte for byte.)
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function cEscape(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

const SPECIAL = {
  "'": { dollar: /[\\'$%\u0000-\u001f\u007f]/g, plain: /[\\'%\u0000-\u001f\u007f]/g },
  '"': { dollar: /[\\"$%\u0000-\u001f\u007f]/g, plain: /[\\"%\u0000-\u001f\u007f]/g },
} as const;

function escapeChar(ch: string): string {
  if (ch === '\\') return '\\\\';
  if (ch === "'" || ch === '"') return `\\${ch}`;
  if (ch === '$') return '$$';
  if (ch === '%') return '%%';
  return cEscape(ch);
}

function escapeBody(value: string, quote: "'" | '"', dollar: boolean): string {
  return value.replace(SPECIAL[quote][dollar ? 'dollar' : 'plain'], escapeChar);
}

// Script statements are acore's own fixed text, shared by most units: escape each once.
const statementCache = new Map<string, string>();
function escapeStatement(statement: string): string {
  let escaped = statementCache.get(statement);
  if (escaped === undefined) {
    escaped = escapeBody(statement, "'", true);
    statementCache.set(statement, escaped);
  }
  return escaped;
}

/** One word of an Exec*= line: single-quoted unless the value holds a single quote. */
export function execArg(value: string): string {
  if (/^[A-Za-z0-9_.,:/=+@-]+$/.test(value)) return value;
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  return `${quote}${escapeBody(value, quote, true)}${quote}`;
}

/** A word that acore wrote itself and wants expanded by systemd (e.g. the %t specifier). */
export interface RawWord {
  raw: string;
}

/** A shell script passed as one word, laid out one statement per line for review. */
export interface ScriptWord {
  statements: readonly string[];
}

export type ExecWord = string | RawWord | ScriptWord;

const INDENT = '    ';

/**
 * A whole Exec*= value from its words, one word per line (continuation lines), a script word
 * one statement per line. argv[0] must be a plain executable path.
 */
export function execCommand(words: readonly ExecWord[]): string {
  const [cmd, ...rest] = words;
  if (typeof cmd !== 'string' || !/^[A-Za-z0-9/_.+-]+$/.test(cmd)) throw new Error(`internal: bad executable ${JSON.stringify(cmd)}`);
  const parts: string[] = [cmd];
  for (const w of rest) {
    if (typeof w === 'string') parts.push(execArg(w));
    else if ('raw' in w) parts.push(w.raw);
    else {
      const body = w.statements.map(escapeStatement);
      if (body.some((s) => s.includes("'"))) throw new Error('internal: script statements must not contain single quotes');
      parts.push(`'\\\n${body.map((s) => `${INDENT}${INDENT}${s}`).join('; \\\n')}'`);
    }
  }
  // The executable, the first word (e.g. `-c`) and a script right after it share the first line.
  const headCount = Math.min(parts.length, typeof rest[1] === 'object' && 'statements' in rest[1] ? 3 : 2);
  return [parts.slice(0, headCount).join(' '), ...parts.slice(headCount)].join(` \\\n${INDENT}`);
}

/** An Environment= assignment: quoted and C-escaped, % doubled; $ has no meaning there. */
export function environmentAssignment(name: string, value: string): string {
  const text = `${name}=${value}`;
  const quote = text.includes('"') && !text.includes("'") ? "'" : '"';
  return `${quote}${escapeBody(text, quote, false)}${quote}`;
}

/** A plain setting value (Description=, WorkingDirectory=): only specifiers need escaping. */
export function specifierSafe(value: string): string {
  return value.replace(/%/g, '%%');
}
