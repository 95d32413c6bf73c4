/**
 * `acore gen-tests`: write a vitest file with one golden test per definition and target.
 *
 * Each test fails when the files `acore compile` generates for its definition are not the ones
 * in out/<target>/: the tests run `npx --no -- acore compile --target … --check` once per file
 * (memoized) and attribute every stale, missing, orphaned or conflicting file to the
 * definitions it belongs to. A file of no listed definition (a definition added since the tests
 * were generated) fails every test of its target.
 *
 * acore owns exactly one statement of the file: the top-level `describe('acore generated', …)`
 * block. Regenerating replaces that statement (found with ts-morph, not by text) and adds
 * `describe`/`it` to the vitest import when they are missing; every other byte of the file
 * (the user's imports, tests, comments) stays as it is. The block imports what it needs
 * dynamically, so it never adds imports that could clash with the user's. Output is
 * deterministic: the same definitions give the same bytes, and a second run changes nothing.
 *
 * ts-morph (and with it the TypeScript compiler) is loaded here only, never by other commands.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { TargetName } from '../compiler/ir.ts';
import { TARGET_NAMES } from '../compiler/schema.ts';
import { compileAndReport } from './compile-command.ts';
import { EXIT, type Io } from './main.ts';

export interface GenTestsOptions {
  /** The test file to write. */
  out: string;
  definitions: string;
  target?: TargetName[];
}

/** The first argument of the describe block that acore owns. */
export const GENERATED_SUITE = 'acore generated';

export interface GoldenTest {
  id: string;
  target: TargetName;
  /** Files generated for the definition, relative to the project root ('/'-separated). */
  files: string[];
}

/** A single-quoted JavaScript string literal. */
function q(s: string): string {
  return `'${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

const posix = (p: string) => p.split(sep).join('/');

/** The test name of one definition × target. */
export function testName(id: string, target: string): string {
  return `acore: ${id} → ${target}`;
}

/**
 * The generated block. `rootUrl` is the project root relative to the test file ('../'),
 * `definitions` the definitions directory relative to the root.
 */
export function generatedBlock(tests: readonly GoldenTest[], targets: readonly TargetName[], definitions: string, rootUrl: string): string {
  const all = targets.length === TARGET_NAMES.length;
  const defs = definitions === 'definitions' ? '' : ` --definitions ${definitions}`;
  const fix = `npx acore compile --target ${all ? 'all' : targets.join(',')}${defs}`;
  const again = `npx acore gen-tests${defs}${all ? '' : ` --target ${targets.join(',')}`}`;
  const byId = new Map<string, GoldenTest[]>();
  for (const t of tests) byId.set(t.id, [...(byId.get(t.id) ?? []), t]);
  const table: string[] = [];
  for (const [id, list] of byId) {
    table.push(`    ${q(id)}: {`);
    for (const t of list) table.push(`      ${t.target}: [${t.files.map(q).join(', ')}],`);
    table.push('    },');
  }
  return [
    `describe(${q(GENERATED_SUITE)}, () => {`,
    `  // Written by \`${again}\`; do not edit this block: run that command again after adding,`,
    '  // renaming or removing definitions (it keeps everything outside this block). Each test fails',
    '  // when the files acore generates for its definition differ from the ones in out/ (drift);',
    `  // fix with \`${fix}\` (--force for generated files edited by hand) and commit out/.`,
    `  const definitions = ${q(definitions)};`,
    `  const targets = [${targets.map(q).join(', ')}];`,
    `  const fix = ${q(fix)};`,
    `  const again = ${q(again)};`,
    '  const files: Record<string, Record<string, string[]>> = {',
    ...table,
    '  };',
    '  type Drift = { path: string; text: string };',
    '  let checked: Promise<{ status: number | null; output: string; drift: Drift[] }> | undefined;',
    '  const check = async (id: string, target: string): Promise<void> => {',
    '    checked ??= (async () => {',
    "      const { spawnSync } = await import('node:child_process');",
    "      const { fileURLToPath } = await import('node:url');",
    "      const args = ['--no', '--', 'acore', 'compile', '--target', targets.join(','), '--definitions', definitions, '--check'];",
    `      const root = fileURLToPath(new URL(${q(rootUrl)}, import.meta.url));`,
    "      const r = spawnSync('npx', args, { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });",
    "      const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;",
    '      const drift: Drift[] = [];',
    "      for (const line of (r.stdout ?? '').split('\\n')) {",
    '        const m = /^(?:missing|stale|orphaned|conflict): (.*)$/.exec(line);',
    "        if (m) drift.push({ path: m[1]!.replace(/ \\(generated earlier .*$|: .*$/, ''), text: line });",
    '        else if (drift.length > 0 && /^(?:Index: |=+$|--- |\\+\\+\\+ |@@ |[ +\\-\\\\]|$)/.test(line)) drift[drift.length - 1]!.text += `\\n${line}`;',
    '      }',
    '      return { status: r.status, output, drift };',
    '    })();',
    '    const { status, output, drift } = await checked;',
    '    if (status === 0) return;',
    '    if (status !== 1 || drift.length === 0) throw new Error(`acore compile --check failed (exit ${status}):\\n${output}`);',
    '    const own = new Set(files[id]?.[target] ?? []);',
    '    const known = new Set(Object.values(files).flatMap((byTarget) => byTarget[target] ?? []));',
    '    const stray = drift.filter((d) => d.path.startsWith(`out/${target}/`) && !known.has(d.path));',
    '    const mine = drift.filter((d) => own.has(d.path));',
    '    if (mine.length + stray.length === 0) return;',
    '    const parts = [`${id}: out/${target} is not what acore compiles from ${definitions}; run \\`${fix}\\` (--force for generated files edited by hand) and commit out/.`];',
    '    if (mine.length > 0) parts.push(...mine.map((d) => d.text));',
    '    if (stray.length > 0) parts.push(`files of no definition in this test file (run \\`${again}\\` after adding definitions):`, ...stray.map((d) => d.text));',
    "    throw new Error(parts.join('\\n\\n'));",
    '  };',
    '',
    ...tests.map((t) => `  it(${q(testName(t.id, t.target))}, () => check(${q(t.id)}, ${q(t.target)}), 60_000);`),
    '});',
  ].join('\n');
}

const FILE_HEADER = [
  '// Golden tests of the scheduler files acore generates, written by `acore gen-tests`.',
  `// Running \`acore gen-tests\` again rewrites only the describe('${GENERATED_SUITE}', …) block (and adds`,
  "// `describe` and `it` to the vitest import if they are missing); the rest of this file is yours:",
  '// add imports and tests as you like, they are kept.',
].join('\n');

export class GenTestsError extends Error {}

/**
 * The new text of the test file: `existing` with acore's block replaced (or appended), or a new
 * file. Throws GenTestsError when the existing file cannot be updated safely.
 */
export async function renderTestFile(existing: string | undefined, block: string, fileName: string): Promise<string> {
  if (existing === undefined) return `${FILE_HEADER}\nimport { describe, it } from 'vitest';\n\n${block}\n`;
  const { IndentationText, NewLineKind, Node, Project, QuoteKind } = await import('ts-morph');
  const project = new Project({
    useInMemoryFileSystem: true,
    skipLoadingLibFiles: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, newLineKind: NewLineKind.LineFeed, quoteKind: QuoteKind.Single },
  });
  const file = project.createSourceFile(`/${fileName.replace(/\.[cm]?[jt]sx?$/, '')}.ts`, existing);
  const syntax = project.getProgram().getSyntacticDiagnostics(file);
  if (syntax.length > 0) {
    const d = syntax[0]!;
    const start = d.getStart();
    const pos = start === undefined ? undefined : file.getLineAndColumnAtPos(start);
    const message = d.getMessageText();
    throw new GenTestsError(
      `${fileName}${pos ? `:${pos.line}:${pos.column}` : ''}: not valid TypeScript (${typeof message === 'string' ? message : message.getMessageText()}); fix it or delete the file`,
    );
  }

  const blocks = file.getStatements().filter((s) => {
    if (!Node.isExpressionStatement(s)) return false;
    const call = s.getExpression();
    if (!Node.isCallExpression(call) || call.getExpression().getText() !== 'describe') return false;
    const first = call.getArguments()[0];
    if (first === undefined || !(Node.isStringLiteral(first) || Node.isNoSubstitutionTemplateLiteral(first))) return false;
    return first.getLiteralValue() === GENERATED_SUITE;
  });
  if (blocks.length > 1) {
    const lines = blocks.map((b) => b.getStartLineNumber()).join(', ');
    throw new GenTestsError(`${fileName}: ${blocks.length} describe('${GENERATED_SUITE}', …) blocks (lines ${lines}); keep one and run gen-tests again`);
  }
  const current = blocks[0];
  if (current !== undefined) {
    // Only this statement's own text is replaced: not the comments before it, JSDoc included
    // (which Node#replaceWithText would take along).
    const start = current.getStart(false);
    if (file.getFullText().slice(start, current.getEnd()) !== block) file.replaceText([start, current.getEnd()], block);
  } else {
    const text = file.getFullText();
    const gap = text === '' ? '' : text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    file.insertText(text.length, `${gap}${block}\n`);
  }
  ensureVitestImports(file, Node);
  return file.getFullText();
}

/** `describe` and `it` from 'vitest', added to an existing vitest import when one is there. */
function ensureVitestImports(file: import('ts-morph').SourceFile, Node: typeof import('ts-morph').Node): void {
  const imports = file.getImportDeclarations().filter((d) => d.getModuleSpecifierValue() === 'vitest' && !d.isTypeOnly());
  const bound = new Set<string>();
  for (const d of imports) for (const n of d.getNamedImports()) if (!n.isTypeOnly()) bound.add(n.getAliasNode()?.getText() ?? n.getName());
  // Names the file binds otherwise (e.g. vitest globals redeclared) are left alone.
  const missing = ['describe', 'it'].filter((name) => !bound.has(name) && !declaresLocally(file, name, Node));
  if (missing.length === 0) return;
  const target = imports.find((d) => d.getNamespaceImport() === undefined && (d.getNamedImports().length > 0 || d.getDefaultImport() === undefined));
  if (target) {
    for (const name of missing) target.addNamedImport(name);
  } else {
    file.insertImportDeclaration(file.getImportDeclarations().length, { moduleSpecifier: 'vitest', namedImports: missing });
  }
}

function declaresLocally(file: import('ts-morph').SourceFile, name: string, Node: typeof import('ts-morph').Node): boolean {
  for (const d of file.getImportDeclarations()) {
    if (d.getDefaultImport()?.getText() === name || d.getNamespaceImport()?.getText() === name) return true;
    for (const n of d.getNamedImports()) if ((n.getAliasNode()?.getText() ?? n.getName()) === name) return true;
  }
  for (const s of file.getStatements()) {
    if (Node.isVariableStatement(s) && s.getDeclarations().some((v) => v.getName() === name)) return true;
    if ((Node.isFunctionDeclaration(s) || Node.isClassDeclaration(s)) && s.getName() === name) return true;
  }
  return false;
}

export async function genTestsCommand(opts: GenTestsOptions, io: Io): Promise<number> {
  if (!/\.(?:[cm]?ts|tsx)$/.test(opts.out)) {
    io.stderr(`acore: gen-tests writes TypeScript; give --out a .ts file name (not ${opts.out})\n`);
    return EXIT.usage;
  }
  const targets = opts.target?.length ? opts.target : [...TARGET_NAMES];
  const result = await compileAndReport({ targets, definitions: opts.definitions, scope: 'user' }, io);
  if (typeof result === 'number') return result;

  const tests: GoldenTest[] = [];
  const ids = [...new Set(result.definitions.map((d) => d.id))].sort();
  for (const id of ids) {
    for (const target of targets) {
      const files = result.artefacts
        .filter((a) => a.target === target && a.ids.includes(id))
        .map((a) => `out/${target}/${a.path}`)
        .sort();
      if (files.length > 0) tests.push({ id, target, files });
    }
  }
  if (tests.length === 0) {
    io.stderr(`acore: no definition in ${opts.definitions} generates files for ${targets.join(', ')}; no tests to write\n`);
    return EXIT.failed;
  }

  const outAbs = resolve(io.cwd, opts.out);
  const shown = posix(relative(io.cwd, outAbs));
  const defsRel = posix(relative(io.cwd, resolve(io.cwd, opts.definitions)));
  const definitions = defsRel === '' ? '.' : defsRel.startsWith('..') || isAbsolute(defsRel) ? posix(resolve(io.cwd, opts.definitions)) : defsRel;
  const up = posix(relative(dirname(outAbs), io.cwd));
  const rootUrl = up === '' ? './' : `${up}/`;
  const block = generatedBlock(tests, targets, definitions, rootUrl);

  let existing: string | undefined;
  try {
    const st = lstatSync(outAbs);
    if (!st.isFile()) {
      io.stderr(`${shown}: error[io-write]: ${st.isSymbolicLink() ? 'is a symlink' : 'is not a regular file'}; left alone\n`);
      return EXIT.failed;
    }
    existing = readFileSync(outAbs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      io.stderr(`${shown}: error[io-read]: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
  }

  let text: string;
  try {
    text = await renderTestFile(existing, block, shown);
  } catch (e) {
    if (!(e instanceof GenTestsError)) throw e;
    io.stderr(`acore: ${e.message}\n`);
    return EXIT.failed;
  }

  const n = `${tests.length} test${tests.length === 1 ? '' : 's'} (${ids.length} definition${ids.length === 1 ? '' : 's'} × ${targets.join(', ')})`;
  if (text === existing) {
    io.stdout(`unchanged ${shown}: ${n}\n`);
    return EXIT.ok;
  }
  const tmp = `${outAbs}.acore-gen-tests-${process.pid}.tmp`;
  try {
    mkdirSync(dirname(outAbs), { recursive: true });
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, outAbs);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    io.stderr(`${shown}: error[io-write]: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  io.stdout(`${existing === undefined ? 'created' : 'updated'} ${shown}: ${n}${existing === undefined ? '' : '; everything outside the generated block kept'}\n`);
  return EXIT.ok;
}
