/**
 * `acore gen-tests`: the golden test file it writes (counted by AST), what regenerating keeps
 * (the user's own code, byte for byte) and, run by a real vitest in a temporary project, that
 * the generated tests pass after `acore compile` and fail on drift.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Node, Project, SyntaxKind } from 'ts-morph';
import { beforeAll, describe, expect, it } from 'vitest';
import { acore, listFiles, ROOT, tempDir } from './helpers.ts';

const SWEEP = 'the-custodian.state-hub-consistency-sweep';
const CLEANUP = 'the-custodian.state-hub-stale-task-cleanup';
const COMMIT = 'the-custodian.state-hub-commit-sync';
const name = (id: string, target: string) => `acore: ${id} → ${target}`;
/** definitions/the-custodian: the event definition only compiles for github. */
const EXPECTED = [
  name(COMMIT, 'github'),
  name(SWEEP, 'systemd'),
  name(SWEEP, 'crontab'),
  name(SWEEP, 'github'),
  name(CLEANUP, 'systemd'),
  name(CLEANUP, 'crontab'),
  name(CLEANUP, 'github'),
];
const FILE = 'test/acore-golden.test.ts';

/** A project with the seed's definitions (not compiled: gen-tests does not need out/). */
function project(): string {
  const dir = tempDir('acore-gen-tests-');
  cpSync(join(ROOT, 'definitions'), join(dir, 'definitions'), { recursive: true });
  return dir;
}

function parseTs(text: string) {
  return new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true }).createSourceFile('/t.ts', text);
}

/** The names of every it()/test() call in the file, from its syntax tree. */
function testNames(text: string): string[] {
  return parseTs(text)
    .getDescendantsOfKind(SyntaxKind.CallExpression)
    .filter((c) => ['it', 'test'].includes(c.getExpression().getText()))
    .map((c) => {
      const first = c.getArguments()[0];
      if (!first || !(Node.isStringLiteral(first) || Node.isNoSubstitutionTemplateLiteral(first))) throw new Error(`unnamed test: ${c.getText()}`);
      return first.getLiteralValue();
    });
}

/** The text of the describe('acore generated') statement. */
function generatedBlock(text: string): string {
  const blocks = parseTs(text)
    .getStatements()
    .filter((s) => s.getText().startsWith("describe('acore generated'"));
  expect(blocks).toHaveLength(1);
  return blocks[0]!.getText();
}

describe('acore gen-tests', () => {
  it('writes one named test per definition and target, in a stable order', async () => {
    const dir = project();
    const r = await acore(['gen-tests'], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`created ${FILE}: 7 tests (3 definitions × systemd, crontab, github)\n`);
    const text = readFileSync(join(dir, FILE), 'utf8');
    expect(testNames(text)).toEqual(EXPECTED);
    // Every test sits in acore's block, and the file has nothing else but the header and the import.
    const file = parseTs(text);
    expect(file.getStatements().map((s) => s.getKindName())).toEqual(['ImportDeclaration', 'ExpressionStatement']);
    expect(file.getImportDeclarations()[0]!.getText()).toBe("import { describe, it } from 'vitest';");
    // The files each test covers are the ones compile writes.
    // (the shared trigger template is generated for every systemd definition, so each test covers it)
    expect(text).toContain(`'out/systemd/acore-trigger@.service', 'out/systemd/${SWEEP}.service', 'out/systemd/${SWEEP}.timer'`);
    expect(text).toContain(`crontab: ['out/crontab/crontab', 'out/crontab/libexec/${CLEANUP}.sh'],`);
  });

  it('regenerating is byte-identical and does not touch the file', async () => {
    const dir = project();
    expect((await acore(['gen-tests'], dir)).code).toBe(0);
    const first = readFileSync(join(dir, FILE), 'utf8');
    const mtime = statSync(join(dir, FILE)).mtimeMs;
    const again = await acore(['gen-tests'], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`unchanged ${FILE}: 7 tests (3 definitions × systemd, crontab, github)\n`);
    expect(readFileSync(join(dir, FILE), 'utf8')).toBe(first);
    expect(statSync(join(dir, FILE)).mtimeMs).toBe(mtime);
    // The same bytes in another checkout.
    const other = project();
    expect((await acore(['gen-tests'], other)).code).toBe(0);
    expect(readFileSync(join(other, FILE), 'utf8')).toBe(first);
  });

  it('keeps the user’s own code byte for byte and replaces only its block when definitions change', async () => {
    const dir = project();
    expect((await acore(['gen-tests'], dir)).code).toBe(0);
    const block = generatedBlock(readFileSync(join(dir, FILE), 'utf8'));
    const head = [
      '// My golden tests.',
      "import { readFileSync } from 'node:fs';",
      "import { describe, expect, it } from 'vitest';",
      '',
      'describe("mine, before acore\'s", () => {',
      "  it('reads', () => expect(readFileSync).toBeTypeOf('function'));",
      '});',
      '',
      '/** about acore’s block */',
      '',
    ].join('\n');
    const tail = ['', '', '// mine, after', "it('is mine too', () => {", '  expect(1 + 1).toBe(2);', '});', ''].join('\n');
    writeFileSync(join(dir, FILE), `${head}${block}${tail}`);

    // A definition removed, one added.
    rmSync(join(dir, 'definitions', 'the-custodian', 'state-hub-commit-sync.yaml'));
    writeFileSync(
      join(dir, 'definitions', 'extra.yaml'),
      'id: extra.job\ntrigger:\n  trigger_type: cron\n  cron_expression: "0 5 * * *"\n  timezone: UTC\ninstruction:\n  kind: shell\n  cmd: echo extra\ntargets:\n  systemd:\n',
    );
    const r = await acore(['gen-tests'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`updated ${FILE}: 7 tests (3 definitions × systemd, crontab, github); everything outside the generated block kept\n`);
    const text = readFileSync(join(dir, FILE), 'utf8');
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    const middle = text.slice(head.length, text.length - tail.length);
    expect(middle).toBe(generatedBlock(text));
    expect(testNames(text)).toEqual([
      "reads",
      name('extra.job', 'systemd'),
      ...EXPECTED.filter((n) => !n.includes(COMMIT)),
      'is mine too',
    ]);
    // And again: nothing moves.
    expect((await acore(['gen-tests'], dir)).stdout).toContain('unchanged');
    expect(readFileSync(join(dir, FILE), 'utf8')).toBe(text);
  });

  it('appends its block to a test file of the user’s, adding describe and it to their vitest import', async () => {
    const dir = project();
    mkdirSync(join(dir, 'test'));
    const mine = "import { expect, test } from 'vitest';\n\ntest('mine', () => expect(1).toBe(1));\n";
    writeFileSync(join(dir, FILE), mine);
    expect((await acore(['gen-tests'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, FILE), 'utf8');
    expect(text.startsWith("import { expect, test, describe, it } from 'vitest';\n\ntest('mine', () => expect(1).toBe(1));\n\ndescribe('acore generated', () => {\n")).toBe(true);
    expect(testNames(text)).toEqual(['mine', ...EXPECTED]);
  });

  it('adds a vitest import to a file that has none (vitest globals)', async () => {
    const dir = project();
    mkdirSync(join(dir, 'test'));
    writeFileSync(join(dir, FILE), "// globals\ntest('mine', () => {});\n");
    expect((await acore(['gen-tests'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, FILE), 'utf8');
    const file = parseTs(text);
    expect(file.getImportDeclarations().map((d) => d.getText())).toEqual(["import { describe, it } from 'vitest';"]);
    expect(text).toContain("test('mine', () => {});\n");
    expect(testNames(text)).toEqual(['mine', ...EXPECTED]);
  });

  it('-t and -o: only those targets, into another file (paths relative to it)', async () => {
    const dir = project();
    const r = await acore(['gen-tests', '-t', 'github', '-o', 'golden.test.ts'], dir);
    expect(r.code).toBe(0);
    const text = readFileSync(join(dir, 'golden.test.ts'), 'utf8');
    expect(testNames(text)).toEqual(EXPECTED.filter((n) => n.endsWith('→ github')));
    expect(text).toContain("new URL('./', import.meta.url)");
    expect(text).toContain("const fix = 'npx acore compile --target github';");
    expect(text).toContain("const again = 'npx acore gen-tests --target github';");
    expect(existsSync(join(dir, FILE))).toBe(false);
    const js = await acore(['gen-tests', '-o', 'golden.test.js'], dir);
    expect(js.stderr).toBe('acore: gen-tests writes TypeScript; give --out a .ts file name (not golden.test.js)\n');
    expect(js.code).toBe(2);
  });

  it('refuses, writing nothing, for invalid definitions, a file that is not TypeScript, or two acore blocks', async () => {
    const dir = project();
    writeFileSync(join(dir, 'definitions', 'bad.yaml'), 'id: bad\n');
    const bad = await acore(['gen-tests'], dir);
    expect(bad.code).toBe(1);
    expect(existsSync(join(dir, 'test'))).toBe(false);
    rmSync(join(dir, 'definitions', 'bad.yaml'));

    mkdirSync(join(dir, 'test'));
    writeFileSync(join(dir, FILE), "it('x', () => {\n");
    const broken = await acore(['gen-tests'], dir);
    expect(broken.stderr).toMatch(/^acore: test\/acore-golden\.test\.ts:2:1: not valid TypeScript \(.+\); fix it or delete the file\n$/m);
    expect(broken.code).toBe(1);
    expect(readFileSync(join(dir, FILE), 'utf8')).toBe("it('x', () => {\n");

    const twice = "describe('acore generated', () => {});\ndescribe('acore generated', () => {});\n";
    writeFileSync(join(dir, FILE), twice);
    const dup = await acore(['gen-tests'], dir);
    expect(dup.stderr).toContain("2 describe('acore generated', …) blocks (lines 1, 2)");
    expect(dup.code).toBe(1);
    expect(readFileSync(join(dir, FILE), 'utf8')).toBe(twice);
  });

  it('ts-morph is loaded by gen-tests only (no static import anywhere in src/)', () => {
    const files = listFiles(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'));
    const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true });
    for (const f of files) {
      const sf = project.createSourceFile(`/${f}`, readFileSync(join(ROOT, 'src', f), 'utf8'));
      const value = sf.getImportDeclarations().filter((d) => d.getModuleSpecifierValue() === 'ts-morph' && !d.isTypeOnly());
      expect(value.map((d) => d.getText()), f).toEqual([]);
    }
    const gen = readFileSync(join(ROOT, 'src', 'cli', 'gen-tests-command.ts'), 'utf8');
    expect(gen).toContain("await import('ts-morph')");
  });
});

/**
 * The done-when: a repository whose CI fails on drift and passes after `acore compile`.
 * A temporary project with acore installed (node_modules/acore → this checkout, with its bin
 * link, as npm would do) and vitest, running the generated file with a real vitest.
 */
describe('the generated tests, run by vitest in a project', () => {
  const bin = join(ROOT, 'bin', 'acore.js');
  beforeAll(() => {
    // The generated tests run the built CLI (npx acore), as a user's CI would.
    if (!existsSync(join(ROOT, 'dist', 'acore.cjs'))) {
      const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
      expect(b.status, b.stderr).toBe(0);
    }
  });

  function installedProject(): string {
    const dir = project();
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(ROOT, join(dir, 'node_modules', 'acore'));
    symlinkSync('../acore/bin/acore.js', join(dir, 'node_modules', '.bin', 'acore'));
    symlinkSync(join(ROOT, 'node_modules', 'vitest'), join(dir, 'node_modules', 'vitest'));
    writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['test/**/*.test.ts'] } };\n");
    return dir;
  }

  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'TEST' && k !== 'NODE_OPTIONS'));

  function run(cmd: string[], cwd: string) {
    // (acore's cache in the project: a test never writes to the developer's own.)
    return spawnSync(process.execPath, cmd, { cwd, encoding: 'utf8', env: { ...env, NO_COLOR: '1', XDG_CACHE_HOME: join(cwd, '.cache') } });
  }

  /** Runs vitest on the project; test name → { status, message }. */
  function vitest(dir: string): Map<string, { status: string; message: string }> {
    const report = join(dir, 'report.json');
    rmSync(report, { force: true });
    const r = run([join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=json', `--outputFile=${report}`], dir);
    expect(existsSync(report), `${r.stdout}\n${r.stderr}`).toBe(true);
    const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] };
    const results = new Map(json.testResults.flatMap((f) => f.assertionResults.map((a) => [a.title, { status: a.status, message: a.failureMessages.join('\n') }] as const)));
    expect(r.status).toBe([...results.values()].every((x) => x.status === 'passed') ? 0 : 1);
    return results;
  }

  it('type-check under strict TypeScript settings (tsc, NodeNext)', () => {
    const dir = installedProject();
    mkdirSync(join(dir, 'node_modules', '@types'));
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const strict = ['strict', 'noUncheckedIndexedAccess', 'exactOptionalPropertyTypes', 'noImplicitReturns', 'noUnusedLocals', 'noUnusedParameters', 'noImplicitOverride'];
    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: true, types: ['node'], ...Object.fromEntries(strict.map((o) => [o, true])) };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['test'] }));
    expect(run([bin, 'gen-tests'], dir).status).toBe(0);
    const tsc = run([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 60_000);

  const failed = (results: Map<string, { status: string }>) => [...results].filter(([, v]) => v.status !== 'passed').map(([k]) => k).sort();

  it('pass after acore compile, fail for the definitions whose files drifted, pass again after acore compile', () => {
    const dir = installedProject();
    expect(run([bin, 'compile', '--target', 'all'], dir).status).toBe(0);
    // The built CLI, as a user runs it: the bundle loads ts-morph from node_modules on demand.
    const gen = run([bin, 'gen-tests'], dir);
    expect(gen.stdout, gen.stderr).toBe(`created ${FILE}: 7 tests (3 definitions × systemd, crontab, github)\n`);

    const clean = vitest(dir);
    expect([...clean.keys()]).toEqual(EXPECTED);
    expect(failed(clean)).toEqual([]);

    // Drift: a definition changed without compiling, and a generated file edited by hand.
    const cleanupDef = join(dir, 'definitions', 'the-custodian', 'state-hub-stale-task-cleanup.yaml');
    writeFileSync(cleanupDef, readFileSync(cleanupDef, 'utf8').replace('"0 3 * * *"', '"0 4 * * *"'));
    const timer = join(dir, 'out', 'systemd', `${SWEEP}.timer`);
    const original = readFileSync(timer, 'utf8');
    writeFileSync(timer, original.replace('AccuracySec=1s', 'AccuracySec=1min'));

    const drifted = vitest(dir);
    const bad = failed(drifted);
    for (const n of [name(SWEEP, 'systemd'), name(CLEANUP, 'systemd'), name(CLEANUP, 'crontab'), name(CLEANUP, 'github')]) expect(bad).toContain(n);
    for (const n of [name(COMMIT, 'github'), name(SWEEP, 'github')]) expect(bad).not.toContain(n);
    const message = drifted.get(name(SWEEP, 'systemd'))!.message;
    expect(message).toContain(`conflict: out/systemd/${SWEEP}.timer: was generated by acore but has been edited since`);
    expect(message).toContain('-AccuracySec=1min\n+AccuracySec=1s');
    expect(message).toContain('run `npx acore compile --target all`');
    expect(drifted.get(name(CLEANUP, 'systemd'))!.message).toContain(`stale: out/systemd/${CLEANUP}.timer`);

    writeFileSync(timer, original);
    expect(run([bin, 'compile', '--target', 'all'], dir).status).toBe(0);
    expect(failed(vitest(dir))).toEqual([]);
    expect(readdirSync(join(dir, 'test'))).toEqual(['acore-golden.test.ts']);
  }, 90_000);
});
