/**
 * Diagnostics as data: for each bad definition, the code and the exact line:col (and for
 * expressions, the character) of every problem. Wording is not asserted here.
 */
import { describe, expect, it } from 'vitest';
import { compile, loadDefinitions } from '../src/compiler/compile.ts';
import type { Diagnostic } from '../src/compiler/diagnostics.ts';
import { systemdTarget } from '../src/targets/systemd/index.ts';

const BASE = `id: t.job
trigger:
  trigger_type: cron
  cron_expression: "0 3 * * *"
instruction:
  kind: shell
  cmd: echo hi
`;

function check(text: string, path = 'defs/t.yaml') {
  return compile([{ path, text, name: path }], [systemdTarget], { scope: 'user' });
}

const at = (d: Diagnostic) => `${d.code}@${d.range?.start.line}:${d.range?.start.col}`;
const errors = (text: string) => check(text).diagnostics.filter((d) => d.severity === 'error').map(at);

type Case = [string, { given: string; want: string[] }];

const cases: Case[] = [
  ['valid definition', { given: BASE, want: [] }],
  ['unknown top-level key points at the key', { given: `${BASE}colour: blue\n`, want: ['schema-unknown-key@8:1'] }],
  [
    'unknown nested key',
    { given: BASE.replace('  cron_expression', '  cron_expresion'), want: ['schema-missing-key@2:1', 'schema-unknown-key@4:3'] },
  ],
  ['missing required key points at its mapping', { given: BASE.replace('  cmd: echo hi\n', ''), want: ['schema-missing-key@5:1'] }],
  ['missing instruction', { given: BASE.split('instruction:')[0]!, want: ['schema-missing-key@1:1'] }],
  ['wrong type', { given: BASE.replace('echo hi', '[a, b]'), want: ['schema-type@7:8'] }],
  ['bad enum value', { given: `${BASE}  on_failure: ignore\n`, want: ['schema-value@8:15'] }],
  ['bad discriminator', { given: BASE.replace('trigger_type: cron', 'trigger_type: crn'), want: ['schema-value@3:17'] }],
  ['id with a slash', { given: BASE.replace('t.job', 'a/b'), want: ['id-invalid@1:5'] }],
  ['id with ..', { given: BASE.replace('t.job', 'a..b'), want: ['id-invalid@1:5'] }],
  ['id with a leading dot', { given: BASE.replace('t.job', '.hidden'), want: ['id-invalid@1:5'] }],
  ['id with a space', { given: BASE.replace('t.job', '"a b"'), want: ['id-invalid@1:5'] }],
  ['cron: field out of range, at the field', { given: BASE.replace('0 3 * * *', '0 24 * * *'), want: ['cron-range@4:23'] }],
  ['cron: */0', { given: BASE.replace('0 3 * * *', '*/0 3 * * *'), want: ['cron-step@4:23'] }],
  ['cron: reversed range', { given: BASE.replace('0 3 * * *', '0 3 * * 5-1'), want: ['cron-range@4:29'] }],
  ['cron: wrong field count', { given: BASE.replace('0 3 * * *', '0 3 * *'), want: ['cron-syntax@4:21'] }],
  ['cron: unknown name', { given: BASE.replace('0 3 * * *', '0 3 * foo *'), want: ['cron-syntax@4:27'] }],
  ['cron: several errors in one expression', { given: BASE.replace('0 3 * * *', '61 25 * * *'), want: ['cron-range@4:21', 'cron-range@4:24'] }],
  ['cron: never fires', { given: BASE.replace('0 3 * * *', '0 0 31 2 *'), want: ['cron-never-fires@4:20'] }],
  ['cron: never fires (30 Feb)', { given: BASE.replace('0 3 * * *', '0 0 30 2 *'), want: ['cron-never-fires@4:20'] }],
  ['cron: 31 Feb OR Monday fires on Mondays', { given: BASE.replace('0 3 * * *', '0 0 31 2 1'), want: [] }],
  ['cron: @reboot is refused', { given: BASE.replace('"0 3 * * *"', '"@reboot"'), want: ['cron-syntax@4:21'] }],
  ['cron: a year field is refused', { given: BASE.replace('0 3 * * *', '0 0 3 * * * 2030'), want: ['cron-syntax@4:21'] }],
  ['cron: single-quoted expression, position still exact', { given: BASE.replace('"0 3 * * *"', "'0 3 * * 8'"), want: ['cron-range@4:29'] }],
  ['cron: plain scalar expression', { given: BASE.replace('"0 3 * * *"', '0 3 32 * *'), want: ['cron-range@4:24'] }],
  ['unknown time zone', { given: BASE.replace('  cron_expression', '  timezone: Mars/Base\n  cron_expression'), want: ['timezone-unknown@4:13'] }],
  ['time zone in the wrong case', { given: BASE.replace('  cron_expression', '  timezone: europe/berlin\n  cron_expression'), want: ['timezone-unknown@4:13'] }],
  ['IANA alias accepted', { given: BASE.replace('  cron_expression', '  timezone: US/Eastern\n  cron_expression'), want: [] }],
  [
    'duplicate YAML key',
    { given: BASE.replace('  trigger_type: cron\n', '  trigger_type: cron\n  trigger_type: cron\n'), want: ['yaml-duplicate-key@4:3'] },
  ],
  ['YAML syntax error', { given: `${BASE}  env: {A: 1\n`, want: ['yaml-syntax@9:1'] }],
  ['tabs for indentation', { given: BASE.replace('  cmd: echo hi', '\tcmd: echo hi'), want: ['yaml-syntax@7:1'] }],
  ['empty command', { given: BASE.replace('echo hi', '"  "'), want: ['schema-value@7:8'] }],
  ['relative working directory', { given: `${BASE}  working_directory: rel/dir\n`, want: ['schema-value@8:22'] }],
  ['bad env name', { given: `${BASE}  env: { "1X": a }\n`, want: ['schema-value@8:10'] }],
  ['event trigger cannot compile for systemd', { given: BASE.replace(/trigger:\n[\s\S]*?instruction/, 'trigger:\n  trigger_type: event\n  event_type: a.b\ninstruction'), want: ['target-unsupported@3:17'] }],
  [
    'event trigger limited to github is fine for systemd',
    { given: `${BASE.replace(/trigger:\n[\s\S]*?instruction/, 'trigger:\n  trigger_type: event\n  event_type: a.b\ninstruction')}targets:\n  github:\n`, want: [] },
  ],
  ['user= needs system scope', { given: `${BASE}targets:\n  systemd:\n    user: app\n`, want: ['target-setting@10:11'] }],
];

const PROBE = `context:
  - kind: http_get
    url: http://127.0.0.1:8000/state/health
    bind: hub
`;

const ruleCases: Case[] = [
  ['rule: valid', { given: `${BASE}${PROBE}rule:\n  when:\n    - "hub.status == 'ok'"\n`, want: [] }],
  ['rule: unbound name at the name', { given: `${BASE}${PROBE}rule:\n  when:\n    - "hbu.status == 'ok'"\n`, want: ['rule-unbound@14:8'] }],
  ['rule: bad operator at the operator', { given: `${BASE}${PROBE}rule:\n  when:\n    - "hub.status = 'ok'"\n`, want: ['rule-syntax@14:19'] }],
  ['rule: type error at the operand', { given: `${BASE}${PROBE}rule:\n  when:\n    - "hub.ok && 'yes'"\n`, want: ['rule-type@14:18'] }],
  ['rule: unquoted scalar keeps positions', { given: `${BASE}${PROBE}rule:\n  when:\n    - hub.n > 'x' || hbu.y\n`, want: ['rule-unbound@14:22'] }],
  ['rule: without any probe', { given: `${BASE}rule:\n  when:\n    - "hub.status == 'ok'"\n`, want: ['rule-unbound@10:8'] }],
  ['rule: each of several expressions', { given: `${BASE}${PROBE}rule:\n  when:\n    - "hub.a == 1"\n    - "(hub.b"\n    - "x.c"\n`, want: ['rule-syntax@15:14', 'rule-unbound@16:8'] }],
  ['probe: not an http URL', { given: `${BASE}${PROBE.replace('http://127.0.0.1:8000/state/health', 'file:///etc/passwd')}`, want: ['schema-value@10:10'] }],
  ['probe: duplicate bind', { given: `${BASE}${PROBE}${PROBE.replace('context:\n', '')}`, want: ['schema-value@14:11'] }],
];

describe('diagnostics: code and position', () => {
  it.each([...cases, ...ruleCases])('%s', (_name, { given, want }) => {
    expect(errors(given)).toEqual(want);
  });
});

describe('diagnostics across files', () => {
  it('reports every problem in every file, sorted by file and position', () => {
    const r = compile(
      [
        { path: 'd/b.yaml', text: BASE.replace('0 3 * * *', '0 99 * * *'), name: 'b' },
        { path: 'd/a.yaml', text: `${BASE}extra: 1\n`, name: 'a' },
      ],
      [systemdTarget],
      { scope: 'user' },
    );
    expect(r.diagnostics.map((d) => `${d.file}:${at(d)}`)).toEqual(['d/a.yaml:schema-unknown-key@8:1', 'd/b.yaml:cron-range@4:23']);
    expect(r.artefacts).toEqual([]);
  });

  it('a duplicate id names both places', () => {
    const r = loadDefinitions([
      { path: 'd/one.yaml', text: BASE },
      { path: 'd/two.yaml', text: `\n\n${BASE}` },
    ]);
    const dup = r.diagnostics.find((d) => d.code === 'id-duplicate');
    expect(dup && `${dup.file}:${at(dup)}`).toBe('d/two.yaml:id-duplicate@3:5');
    expect(dup?.related?.map((x) => `${x.file}:${x.range?.start.line}:${x.range?.start.col}`)).toEqual(['d/one.yaml:1:5']);
  });

  it('two definitions that would write the same unit are both reported', () => {
    const r = compile(
      [
        { path: 'd/one.yaml', text: `${BASE}targets:\n  systemd:\n    unit_name: same\n` },
        { path: 'd/two.yaml', text: `${BASE.replace('t.job', 't.other')}targets:\n  systemd:\n    unit_name: same\n` },
      ],
      [systemdTarget],
      { scope: 'user' },
    );
    expect(r.diagnostics.filter((d) => d.code === 'name-collision').map((d) => `${d.file}:${at(d)}`)).toEqual([
      'd/one.yaml:name-collision@10:16',
      'd/two.yaml:name-collision@10:16',
    ]);
    expect(r.artefacts).toEqual([]);
  });

  it('several documents in one file are each checked', () => {
    const r = check(`${BASE}---\n${BASE.replace('t.job', 't.two').replace('0 3', '0 30')}`);
    expect(r.diagnostics.map(at)).toEqual(['cron-range@12:23']);
  });

  it('warnings do not stop compilation', () => {
    const r = check(BASE.replace('0 3 * * *', '*/90 3 * * *'));
    expect(r.diagnostics.map((d) => `${d.severity}:${at(d)}`)).toEqual(['warning:cron-step@4:23']);
    expect(r.artefacts.length).toBe(3);
  });
});

describe("a target's warning, placed when first read", () => {
  it('has its range as data like any diagnostic: own, enumerable, in JSON, start and end where the field is', async () => {
    const { githubTarget } = await import('../src/targets/github/index.ts');
    // No time zone: GitHub reads the schedule in UTC, which it warns about at the cron expression.
    const r = compile([{ path: 'defs/t.yaml', text: BASE, name: 'defs/t.yaml' }], [githubTarget], { scope: 'user' });
    const d = r.diagnostics.find((x) => x.code === 'target-approximated' && /in UTC/.test(x.message));
    expect(d, JSON.stringify(r.diagnostics)).toBeDefined();
    const line = BASE.split('\n').findIndex((l) => l.includes('cron_expression')) + 1;
    const col = BASE.split('\n')[line - 1]!.indexOf('"0 3') + 1;
    const want = { start: { line, col }, end: { line, col: col + '"0 3 * * *"'.length } };
    expect(Object.keys(d!)).toEqual(['code', 'severity', 'message', 'file', 'range']);
    expect(JSON.parse(JSON.stringify(d))).toEqual({ code: 'target-approximated', severity: 'warning', message: d!.message, file: 'defs/t.yaml', range: want });
    expect({ ...d!.range }).toEqual(want);
  });
});
