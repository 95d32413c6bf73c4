/**
 * A corpus of classic hostile definitions, each with the exact diagnostic (code and position) it
 * must produce, run through the real CLI in-process:
 *
 *   acore compile --target all -d definitions -o out
 *
 * For every case: exit 1, the expected `file:line:col: error[code]` line, no stack trace, "nothing
 * was written", and the output directory — which holds an earlier compile and would be updated
 * by the valid definition next to the hostile one — byte for byte, mtime for mtime unchanged.
 *
 * The text cases are files in test/fixtures/hostile/ (named for what they are; the less obvious
 * ones start with a comment saying more); binary and generated ones (non-UTF-8, BOM, CRLF, lone
 * CR, huge, NUL bytes, symlink loops) are built here. Then: ids and unit names never make a path
 * that leaves --out, for any target.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acore, type CliResult, FIXTURES, listFiles, tempDir } from './helpers.ts';

const HOSTILE = join(FIXTURES, 'hostile');

/** A valid definition that sits next to every hostile one; it changes, so a compile would write. */
const good = (cmd = 'echo good') =>
  ['id: hostile.good', 'trigger:', '  trigger_type: cron', '  cron_expression: "0 4 * * *"', '  timezone: UTC', 'instruction:', '  kind: shell', `  cmd: ${cmd}`, ''].join('\n');

const ARGS = ['compile', '--target', 'all', '-d', 'definitions', '-o', 'out'];

interface Snapshot {
  [path: string]: { content: string; mtimeMs: number; ino: number };
}
function snapshot(dir: string): Snapshot {
  return Object.fromEntries(
    listFiles(dir).map((f) => {
      const st = statSync(join(dir, f));
      return [f, { content: readFileSync(join(dir, f), 'utf8'), mtimeMs: st.mtimeMs, ino: st.ino }];
    }),
  );
}

// Made once for the file (tempDir's are removed after each test) and copied for each case.
let template: string | undefined;
afterAll(() => {
  if (template) rmSync(template, { recursive: true, force: true });
});

/** A project whose out/ holds a compile of `good()`, made once and copied. */
function project(): { root: string; out: string; before: Snapshot } {
  if (!template) {
    template = mkdtempSync(join(tmpdir(), 'acore-hostile-template-'));
    mkdirSync(join(template, 'definitions'));
    writeFileSync(join(template, 'definitions', 'good.yaml'), good());
  }
  const root = tempDir('acore-hostile-');
  cpSync(template, root, { recursive: true, preserveTimestamps: true });
  return { root, out: join(root, 'out'), before: {} };
}

async function primed(): Promise<{ root: string; out: string; before: Snapshot }> {
  if (template === undefined || !existsSync(join(template, 'out'))) {
    project();
    const r = await acore(ARGS, template!);
    expect(r.code, r.stderr).toBe(0);
  }
  const p = project();
  // The valid definition changes: a compile that went ahead would rewrite its files.
  writeFileSync(join(p.root, 'definitions', 'good.yaml'), good('echo changed'));
  return { ...p, before: snapshot(p.out) };
}

/** Runs the CLI on a project holding `files` next to good.yaml and checks the all-or-nothing refusal. */
async function refuse(files: Record<string, string | Buffer>): Promise<CliResult> {
  const { root, out, before } = await primed();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, 'definitions', name), content);
  const t0 = Date.now();
  const r = await acore(ARGS, root);
  // A hang, not a slow machine: the largest cases take a few seconds alone, more under a loaded suite.
  expect(Date.now() - t0, 'the compile took too long').toBeLessThan(60_000);
  expect(r.stderr, 'a stack trace was printed').not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('internal error');
  expect(r.code, r.stderr.slice(0, 2000)).toBe(1);
  expect(r.stderr).toContain('nothing was written');
  expect(snapshot(out), 'the output directory changed').toEqual(before);
  expect(listFiles(root).filter((f) => f.includes('acore-tmp'))).toEqual([]);
  return r;
}

/** The `file:line:col: error[code]:` line must be in stderr (col 0: any column). */
function expectError(r: CliResult, file: string, code: string, line?: number, col?: number): void {
  const where = line === undefined ? `${file}` : `${file}:${line}:${col === 0 ? '<col>' : col}`;
  const escaped = `${where}: error[${code}]: `.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('<col>', '\\d+');
  expect(r.stderr, `expected ${where}: error[${code}] in:\n${r.stderr.slice(0, 3000)}`).toMatch(new RegExp(`^${escaped}`, 'm'));
}

// ---------------------------------------------------------------------------------------------
// 1. The corpus in test/fixtures/hostile/: name → the error it must produce (code, line, col).

const CORPUS: Record<string, [code: string, line: number, col: number]> = {
  // YAML: aliases, nesting, duplicate keys, tabs, BOM, tags, merge keys, non-mappings
  'alias-bomb': ['yaml-alias', 8, 23],
  'alias-exponential': ['yaml-alias', 3, 10],
  'alias-undefined': ['yaml-alias', 9, 8],
  'alias-forward': ['yaml-alias', 9, 8],
  // (where the parser runs out of stack depends on the stack left: any column)
  'deep-flow': ['yaml-syntax', 2, 0],
  'deep-flow-map': ['yaml-syntax', 2, 0],
  'duplicate-key': ['yaml-duplicate-key', 10, 3],
  'duplicate-key-top': ['yaml-duplicate-key', 10, 1],
  'duplicate-key-number-string': ['yaml-duplicate-key', 12, 5],
  'duplicate-key-flow': ['yaml-duplicate-key', 10, 15],
  tabs: ['yaml-syntax', 4, 1],
  'bom-in-the-middle': ['schema-unknown-key', 3, 1],
  'yaml-tag-binary': ['schema-type', 8, 17],
  'merge-key': ['schema-unknown-key', 10, 1],
  'proto-key': ['schema-unknown-key', 9, 3],
  'not-a-mapping': ['schema-type', 2, 1],
  'unknown-key': ['schema-unknown-key', 9, 3],
  'multi-doc-duplicate-id': ['id-duplicate', 10, 5],
  // ids and unit names become file names
  'id-slash': ['id-invalid', 2, 5],
  'id-dotdot': ['id-invalid', 1, 5],
  'id-dotdot-inside': ['id-invalid', 1, 5],
  'id-leading-dot': ['id-invalid', 1, 5],
  'id-space': ['id-invalid', 1, 5],
  'id-control': ['id-invalid', 1, 5],
  'id-newline': ['id-invalid', 1, 5],
  'id-backslash': ['id-invalid', 1, 5],
  'id-lookalike-slash': ['id-invalid', 1, 5],
  'id-empty': ['id-invalid', 1, 5],
  'id-too-long': ['id-invalid', 1, 5],
  'id-number': ['schema-type', 1, 5],
  'unit-name-dotdot': ['schema-value', 11, 16],
  'unit-name-slash': ['schema-value', 11, 16],
  // cron
  'cron-minute-out-of-range': ['cron-range', 4, 21],
  'cron-hour-out-of-range': ['cron-range', 4, 23],
  'cron-dom-out-of-range': ['cron-range', 4, 25],
  'cron-month-out-of-range': ['cron-range', 4, 27],
  'cron-dow-out-of-range': ['cron-range', 4, 29],
  'cron-step-zero': ['cron-step', 4, 23],
  'cron-step-missing': ['cron-step', 4, 22],
  'cron-reversed-range': ['cron-range', 4, 23],
  'cron-never-fires': ['cron-never-fires', 4, 20],
  'cron-empty': ['cron-syntax', 4, 20],
  'cron-too-many-fields': ['cron-syntax', 4, 21],
  'cron-too-few-fields': ['cron-syntax', 4, 21],
  'cron-reboot': ['cron-syntax', 4, 21],
  'cron-unknown-name': ['cron-syntax', 4, 29],
  'cron-hash': ['cron-syntax', 4, 21],
  'cron-two-lines': ['cron-syntax', 4, 29],
  'cron-huge-number': ['cron-range', 4, 21],
  // time zones
  'tz-unknown': ['timezone-unknown', 5, 13],
  'tz-wrong-case': ['timezone-unknown', 5, 13],
  'tz-path': ['timezone-unknown', 5, 13],
  'tz-empty': ['timezone-unknown', 5, 13],
  // commands and values that cannot be represented, or would not be what was written
  'cmd-empty': ['schema-value', 8, 8],
  'cmd-blank': ['schema-value', 8, 8],
  'cmd-nul': ['schema-value', 8, 8],
  'cmd-lone-surrogate': ['schema-value', 8, 8],
  'env-nul': ['schema-value', 10, 12],
  'env-hex-number': ['schema-value', 10, 11],
  'env-float': ['schema-value', 10, 12],
  'env-name-too-long': ['schema-value', 10, 307],
  'env-name-invalid': ['schema-value', 10, 5],
  'workdir-relative': ['schema-value', 9, 22],
  'workdir-newline': ['schema-value', 9, 22],
  'lock-nul': ['schema-value', 9, 14],
  'url-not-http': ['schema-value', 11, 10],
  'url-newline': ['schema-value', 11, 10],
  'filter-nul': ['schema-value', 6, 16],
  'event-on-systemd': ['target-unsupported', 3, 17],
  // rules
  'rule-deep-parens': ['rule-syntax', 13, 208],
  'rule-long-chain': ['rule-syntax', 13, 8],
  'rule-nul': ['schema-value', 13, 7],
};

describe('hostile corpus (test/fixtures/hostile/)', () => {
  it('every fixture has an expectation and every expectation a fixture', () => {
    const files = readdirSync(HOSTILE)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
    expect(files).toEqual(Object.keys(CORPUS).sort());
  });

  it.each(Object.entries(CORPUS))('%s → error[%s], nothing written', async (name, [code, line, col]) => {
    const r = await refuse({ [`${name}.yaml`]: readFileSync(join(HOSTILE, `${name}.yaml`)) });
    expectError(r, `definitions/${name}.yaml`, code, line, col);
    // Only the hostile file has errors.
    expect(r.stderr).not.toMatch(/^definitions\/good\.yaml:\d+:\d+: error/m);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Generated: bytes that cannot live in a fixture comfortably, sizes, and directory tricks.

const plain = (cmd = 'echo hi') =>
  ['id: hostile.gen', 'trigger:', '  trigger_type: cron', '  cron_expression: "0 3 * * *"', '  timezone: UTC', 'instruction:', '  kind: shell', `  cmd: ${cmd}`, ''].join('\n');

describe('hostile bytes and sizes (generated)', { timeout: 120_000 }, () => {
  it('non-UTF-8 bytes → error[io-encoding] at the first bad byte', async () => {
    const bytes = Buffer.concat([Buffer.from(plain('echo X').replace('X\n', '')), Buffer.from([0xff, 0xfe]), Buffer.from(' hi\n')]);
    const r = await refuse({ 'latin1.yaml': bytes });
    expectError(r, 'definitions/latin1.yaml', 'io-encoding', 8, 13);
  });

  it('an overlong UTF-8 encoding of "/" (0xC0 0xAF) → error[io-encoding]', async () => {
    const bytes = Buffer.concat([Buffer.from('id: a'), Buffer.from([0xc0, 0xaf]), Buffer.from(`b\n${plain().split('\n').slice(1).join('\n')}`)]);
    const r = await refuse({ 'overlong.yaml': bytes });
    expectError(r, 'definitions/overlong.yaml', 'io-encoding', 1, 6);
  });

  it('UTF-16 (with its BOM) → error[io-encoding]', async () => {
    const r = await refuse({ 'utf16.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(plain(), 'utf16le')]) });
    expectError(r, 'definitions/utf16.yaml', 'io-encoding', 1, 1);
  });

  it('a raw NUL byte in the command → error[schema-value] at the command', async () => {
    const r = await refuse({ 'nul.yaml': Buffer.from(plain('echo a\0b')) });
    expectError(r, 'definitions/nul.yaml', 'schema-value', 8, 8);
  });

  it('a lone carriage return (old Mac line ends) → error[yaml-syntax] at the first one', async () => {
    const r = await refuse({ 'cr.yaml': plain().replace(/\n/g, '\r') });
    expectError(r, 'definitions/cr.yaml', 'yaml-syntax', 1, 16);
  });

  it('a file over 1 MiB → error[io-read], not parsed', async () => {
    const r = await refuse({ 'huge.yaml': `${plain()}# ${'x'.repeat(1024 * 1024)}\n` });
    expectError(r, 'definitions/huge.yaml', 'io-read');
    expect(r.stderr).toMatch(/limited to 1048576 bytes/);
  });

  it('100 000 lines with an error each → reported capped, quickly', async () => {
    const r = await refuse({ 'errors.yaml': '- [\n'.repeat(100_000) });
    expectError(r, 'definitions/errors.yaml', 'yaml-syntax', 2, 1);
    expect(r.stderr).toMatch(/more YAML problems in this file .* not shown/);
    expect(r.stderr.length).toBeLessThan(100_000);
  });

  it('100 000 duplicate keys → error[yaml-duplicate-key], capped, no stack overflow', async () => {
    const r = await refuse({ 'dups.yaml': 'a: 1\n'.repeat(100_000) });
    expectError(r, 'definitions/dups.yaml', 'yaml-duplicate-key', 2, 1);
  });

  it('100 000 distinct unknown keys → schema errors, capped, in linear time', async () => {
    const r = await refuse({ 'keys.yaml': Array.from({ length: 100_000 }, (_, i) => `k${i}: 1\n`).join('') });
    expectError(r, 'definitions/keys.yaml', 'schema-missing-key', 1, 1);
    expect(r.stderr).toMatch(/more (schema )?problems in this (definition|file).* not shown/);
  });

  it('a 200 000-item list (js-yaml fast path) → a schema error, no stack overflow', async () => {
    const r = await refuse({ 'list.yaml': `${plain()}description: [${Array(200_000).fill('1').join(',')}]\n` });
    expectError(r, 'definitions/list.yaml', 'schema-type', 9, 14);
  });

  it('50 000 env values with NUL → capped per file', async () => {
    const env = Array.from({ length: 50_000 }, (_, i) => `    V${i}: "a\\0"\n`).join('');
    const r = await refuse({ 'env.yaml': `${plain()}  env:\n${env}` });
    expectError(r, 'definitions/env.yaml', 'schema-value', 10, 9);
    expect(r.stderr).toMatch(/more problems in this file .* not shown/);
  });

  it('deep block nesting (1000 levels) → an error, no crash', async () => {
    const r = await refuse({ 'deep.yaml': `id:\n${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i + 1)}a:\n`).join('')}` });
    expect(r.stderr).toMatch(/^definitions\/deep\.yaml:\d+:\d+: error\[(yaml-syntax|schema-[a-z-]+)\]/m);
  });

  it('a duplicate id in another file → error[id-duplicate] pointing at both', async () => {
    const r = await refuse({ 'a.yaml': plain(), 'b.yaml': plain() });
    expectError(r, 'definitions/b.yaml', 'id-duplicate', 1, 5);
    expect(r.stderr).toContain('first defined here (definitions/a.yaml:1:5)');
  });

  it('ids that collide once made file names (a.b and a_b in cron.d form) → error[name-collision]', async () => {
    const { root } = await primed();
    writeFileSync(join(root, 'definitions', 'x.yaml'), plain().replace('hostile.gen', 'team.job'));
    writeFileSync(join(root, 'definitions', 'y.yaml'), plain().replace('hostile.gen', 'team_job'));
    const r = await acore(['compile', '--target', 'crontab', '--cron-form', 'cron.d', '-d', 'definitions', '-o', 'out-crond'], root);
    expect(r.code).toBe(1);
    expectError(r, 'definitions/x.yaml', 'name-collision', 1, 5);
    expect(existsSync(join(root, 'out-crond'))).toBe(false);
  });
});

describe('accepted encodings give exactly the same files', () => {
  async function compiled(text: string | Buffer): Promise<Record<string, string>> {
    const root = tempDir('acore-hostile-');
    mkdirSync(join(root, 'definitions'));
    writeFileSync(join(root, 'definitions', 'a.yaml'), text);
    const r = await acore(ARGS, root);
    expect(r.code, r.stderr).toBe(0);
    return Object.fromEntries(listFiles(join(root, 'out')).map((f) => [f, readFileSync(join(root, 'out', f), 'utf8')]));
  }

  it('a UTF-8 byte order mark at the start, and CRLF line ends, change nothing in the output', async () => {
    const text = `${plain()}  env:\n    MULTI: "a\n      b"\n  working_directory: /tmp\n`;
    const lf = await compiled(text);
    expect(await compiled(`\ufeff${text}`)).toEqual(lf);
    expect(await compiled(text.replace(/\n/g, '\r\n'))).toEqual(lf);
    expect(await compiled(`\ufeff${text.replace(/\n/g, '\r\n')}`)).toEqual(lf);
  });

  it('CRLF inside a block scalar command is a plain line break, not a CR in the command', async () => {
    const text = plain('|\n    echo a\n    echo b');
    const out = await compiled(text.replace(/\n/g, '\r\n'));
    expect(out).toEqual(await compiled(text));
    expect(Object.values(out).join('')).not.toContain('\r');
  });
});

describe('the definitions directory', () => {
  it('symlink loops (two links back to the root) are walked once: no hang, no duplicates', async () => {
    const root = tempDir('acore-hostile-');
    const defs = join(root, 'definitions');
    mkdirSync(join(defs, 'team'), { recursive: true });
    writeFileSync(join(defs, 'team', 'a.yaml'), plain());
    symlinkSync('..', join(defs, 'team', 'up'));
    symlinkSync('..', join(defs, 'team', 'up2'));
    symlinkSync('.', join(defs, 'self'));
    const t0 = Date.now();
    const r = await acore(ARGS, root);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('id-duplicate');
  });

  it('a definitions "file" that is a FIFO or a device is skipped, not read (no hang)', async () => {
    const root = tempDir('acore-hostile-');
    const defs = join(root, 'definitions');
    mkdirSync(defs);
    writeFileSync(join(defs, 'a.yaml'), plain());
    symlinkSync('/dev/zero', join(defs, 'zero.yaml'));
    const r = await acore(ARGS, root);
    expect(r.code, r.stderr).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. ids (and unit names) become file names: no path ever leaves --out.

describe('no path escapes --out', () => {
  const ODD_IDS = ['a', 'A.b-c_d', 'a.', 'a-', '0', 'x'.repeat(200), 'team.job.v2', 'a.service', 'a.timer', 'a.yml', 'acore-manifest'];

  function filesUnder(dir: string): string[] {
    return listFiles(dir).map((f) => {
      const real = realpathSync(join(dir, f));
      expect(real.startsWith(realpathSync(dir) + sep), `${f} resolves outside ${dir}`).toBe(true);
      expect(lstatSync(join(dir, f)).isFile()).toBe(true);
      return f;
    });
  }

  it.each([['user'], ['cron.d']])('odd but valid ids, every target (crontab form %s): files exactly where expected', async (form) => {
    const root = tempDir('acore-hostile-');
    mkdirSync(join(root, 'definitions'));
    ODD_IDS.forEach((id, i) => writeFileSync(join(root, 'definitions', `${i}.yaml`), plain().replace('hostile.gen', JSON.stringify(id))));
    const r = await acore([...ARGS, '--cron-form', form!, '--script-dir', '/opt/../../etc/acore jobs'], root);
    expect(r.code, r.stderr).toBe(0);
    const out = join(root, 'out');
    const expected = new Set<string>(['systemd/.acore-manifest.json', 'systemd/acore-trigger@.service', 'crontab/.acore-manifest.json', 'github/.acore-manifest.json']);
    for (const id of ODD_IDS) {
      for (const f of [`${id}.timer`, `${id}.service`]) expected.add(`systemd/${f}`);
      expected.add(`crontab/libexec/${id}.sh`);
      expected.add(`github/${id}.yml`);
      if (form === 'cron.d') expected.add(`crontab/cron.d/acore-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`);
    }
    if (form === 'user') expected.add('crontab/crontab');
    expect(filesUnder(out).sort()).toEqual([...expected].sort());
    expect(listFiles(root).filter((f) => !f.startsWith('out/') && !f.startsWith('definitions/'))).toEqual([]);
  });

  it('cron.d names contain only letters, digits, _ and - (run-parts reads nothing else)', async () => {
    const root = tempDir('acore-hostile-');
    mkdirSync(join(root, 'definitions'));
    ODD_IDS.forEach((id, i) => writeFileSync(join(root, 'definitions', `${i}.yaml`), plain().replace('hostile.gen', JSON.stringify(id))));
    const r = await acore(['compile', '--target', 'crontab', '--cron-form', 'cron.d', '-d', 'definitions', '-o', 'out'], root);
    expect(r.code, r.stderr).toBe(0);
    for (const f of readdirSync(join(root, 'out', 'cron.d'))) expect(f).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('unit_name: odd but valid names stay inside --out; a name with / or .. is refused', async () => {
    const root = tempDir('acore-hostile-');
    mkdirSync(join(root, 'definitions'));
    const names = ['custodian-sync', 'a:b', 'x\\\\x2dy', 'a.b', 'y'.repeat(200)];
    names.forEach((n, i) =>
      writeFileSync(join(root, 'definitions', `${i}.yaml`), `${plain().replace('hostile.gen', `u${i}`)}targets:\n  systemd:\n    unit_name: "${n}"\n`),
    );
    const r = await acore(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'out'], root);
    expect(r.code, r.stderr).toBe(0);
    // (listFiles reads a backslash as a separator; systemd's directory is flat)
    const written = readdirSync(join(root, 'out'));
    // Two units per name, the shared trigger template and the manifest.
    expect(written.length).toBe(names.length * 2 + 2);
    for (const f of written) expect(lstatSync(join(root, 'out', f)).isFile()).toBe(true);
    expect(written).toContain('x\\x2dy.timer');
    expect(written).toContain('acore-trigger@.service');
    // Each timer starts the template's instance named exactly like its job (escapes kept).
    for (const n of names) {
      const name = n.replace(/\\\\/g, '\\');
      expect(readFileSync(join(root, 'out', `${name}.timer`), 'utf8')).toContain(`\nUnit=acore-trigger@${name}.service\n`);
    }
    for (const bad of ['../x', '/etc/x', '..', '.x', 'a/b', 'z'.repeat(201)]) {
      rmSync(join(root, 'out'), { recursive: true, force: true });
      writeFileSync(join(root, 'definitions', 'bad.yaml'), `${plain().replace('hostile.gen', 'ubad')}targets:\n  systemd:\n    unit_name: ${JSON.stringify(bad)}\n`);
      const b = await acore(['compile', '--target', 'systemd', '-d', 'definitions', '-o', 'out'], root);
      expect(b.code, bad).toBe(1);
      expectError(b, 'definitions/bad.yaml', 'schema-value', 11, 16);
      expect(existsSync(join(root, 'out'))).toBe(false);
    }
  });
});
