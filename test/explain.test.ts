/**
 * `acore explain`: every feature a definition uses appears in each target's section with that
 * target's cell of the capability matrix (CAPABILITIES, word for word), unsupported ones with
 * the reason, and the files listed are the compiler's artefacts for that definition.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, loadDefinitions } from '../src/compiler/compile.ts';
import type { TargetName } from '../src/compiler/ir.ts';
import { CAPABILITIES, type Feature, FEATURES, featuresUsed } from '../src/targets/capabilities.ts';
import { crontabTarget } from '../src/targets/crontab/index.ts';
import { githubTarget } from '../src/targets/github/index.ts';
import { systemdTarget } from '../src/targets/systemd/index.ts';
import { acore, tempDir } from './helpers.ts';

const TARGETS: TargetName[] = ['systemd', 'crontab', 'github'];

const EVERYTHING = [
  'id: demo.everything',
  'description: Sweep every two minutes in Berlin, carefully.',
  'trigger:',
  '  trigger_type: cron',
  '  cron_expression: "*/2 * * * *"',
  '  timezone: Europe/Berlin',
  'context:',
  '  - kind: http_get',
  '    url: http://127.0.0.1:8000/state/health',
  '    bind: hub',
  '    timeout_seconds: 3',
  'rule:',
  '  when:',
  '    - "hub.status == \'ok\'"',
  'instruction:',
  '  kind: shell',
  '  cmd: ./sweep --all',
  '  on_failure: log_and_continue',
  '  timeout_seconds: 600',
  '  working_directory: /srv/app',
  '  env: { APP_ENV: production }',
  '  lock_file: /run/lock/sweep.lock',
  '',
].join('\n');

/** Written from the definition above, not from featuresUsed. */
const EVERYTHING_FEATURES: Feature[] = [
  'cron',
  'cron.sub-five-minutes',
  'timezone',
  'timezone.dst', // Europe/Berlin changes its offset
  'misfire.skip',
  'health-check',
  'rule',
  'lock',
  'on_failure.log_and_continue',
  'timeout',
  'env',
  'working_directory',
];

const CATCH_UP = [
  'id: demo.catch-up',
  'trigger:',
  '  trigger_type: cron',
  '  cron_expression: "0 18 L * 5#2"',
  '  misfire_policy: catch_up',
  'instruction:',
  '  kind: shell',
  '  cmd: echo month-end',
  '',
].join('\n');

const CATCH_UP_FEATURES: Feature[] = ['cron', 'cron.extensions', 'timezone.host', 'misfire.catch_up', 'lock', 'on_failure.fail'];

const EVENT = [
  'id: demo.event',
  'trigger:',
  '  trigger_type: event',
  '  event_type: org.repo.commit.pushed',
  '  filters:',
  '    repo_slug: "acme/*"',
  'instruction:',
  '  kind: shell',
  '  cmd: echo "$ACORE_EVENT_REPO_SLUG"',
  'targets:',
  '  github:',
  '',
].join('\n');

function project(): string {
  const root = tempDir('acore-explain-');
  const defs = join(root, 'definitions');
  mkdirSync(defs, { recursive: true });
  writeFileSync(join(defs, 'everything.yaml'), EVERYTHING);
  writeFileSync(join(defs, 'catch-up.yaml'), CATCH_UP);
  writeFileSync(join(defs, 'event.yaml'), EVENT);
  return root;
}

/** The lines of one target's section (from `<target>: …` to the next blank line). */
function section(stdout: string, target: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${target}: `));
  if (start < 0) throw new Error(`no ${target} section in:\n${stdout}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The matrix cell as the README table words it, from CAPABILITIES. */
function cell(target: TargetName, f: Feature): string {
  const s = CAPABILITIES[target][f];
  return s.level === 'unsupported' ? `unsupported: ${s.why}` : `${s.level}: ${s.how}`;
}

const title = (f: Feature) => FEATURES.find((x) => x.feature === f)!.title;

function irOf(text: string, name: string) {
  const loaded = loadDefinitions([{ path: name, text }]);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.definitions[0]!.ir;
}

describe('acore explain', () => {
  it('names every feature the definition uses with its matrix cell, for each target', async () => {
    expect(featuresUsed(irOf(EVERYTHING, 'everything.yaml'))).toEqual(EVERYTHING_FEATURES);
    const r = await acore(['explain', 'demo.everything'], project());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const target of TARGETS) {
      const text = section(r.stdout, target).join('\n');
      for (const f of EVERYTHING_FEATURES) expect(text).toContain(`${title(f)}: ${cell(target, f)}`);
      // Only the features it uses.
      for (const f of FEATURES.map((x) => x.feature).filter((x) => !EVERYTHING_FEATURES.includes(x))) {
        expect(text).not.toContain(`${title(f)}: `);
      }
    }
    // GitHub approximates the 2-minute schedule and the skip policy.
    expect(section(r.stdout, 'github')[0]).toMatch(/approximations/);
    expect(section(r.stdout, 'systemd')[0]).toMatch(/exactly/);
  });

  it('says what the definition does: schedule in words, zone, probes, rule, lock, failure policy, timeout, env, working directory', async () => {
    const r = await acore(['explain', 'demo.everything'], project());
    for (const fact of [
      '*/2 * * * *',
      'in words (cronstrue):',
      'Europe/Berlin',
      'misfire policy: skip',
      'GET http://127.0.0.1:8000/state/health (timeout 3 s)',
      "hub.status == 'ok'",
      '/run/lock/sweep.lock',
      'log_and_continue',
      '600 s',
      'APP_ENV="production"',
      '/srv/app',
    ]) {
      expect(r.stdout).toContain(fact);
    }
  });

  it('unsupported features say why, and a refusing target lists no files', async () => {
    expect(featuresUsed(irOf(CATCH_UP, 'catch-up.yaml'))).toEqual(CATCH_UP_FEATURES);
    const r = await acore(['explain', 'demo.catch-up'], project());
    expect(r.code).toBe(0);
    const expectations: Record<TargetName, Feature[]> = { systemd: [], crontab: ['misfire.catch_up'], github: ['cron.extensions', 'misfire.catch_up'] };
    for (const target of TARGETS) {
      const lines = section(r.stdout, target);
      const text = lines.join('\n');
      for (const f of CATCH_UP_FEATURES) expect(text).toContain(`${title(f)}: ${cell(target, f)}`);
      for (const f of expectations[target]) {
        const s = CAPABILITIES[target][f];
        expect(s.level).toBe('unsupported');
        if (s.level === 'unsupported') expect(text).toContain(s.why);
      }
      if (expectations[target].length > 0) {
        expect(lines[0]).toMatch(/refuses/);
        expect(text).toContain('files: none');
      } else {
        expect(lines[0]).not.toMatch(/refuses/);
      }
    }
    // The day rule: both day fields restricted, so either matches.
    expect(r.stdout).toMatch(/precisely: .*last day of the month.*or.*second Friday/);
    expect(r.stdout).toMatch(/EITHER/);
  });

  it("lists exactly the files compile() generates for the definition, per target", async () => {
    const root = project();
    const r = await acore(['explain', 'demo.everything'], root);
    const file = join(root, 'definitions', 'everything.yaml');
    const result = compile([{ path: file, name: 'definitions/everything.yaml', text: readFileSync(file, 'utf8') }], [systemdTarget, crontabTarget, githubTarget], {
      scope: 'user',
      crontab: { form: 'user', scriptDir: '$HOME/.local/lib/acore' },
    });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const target of TARGETS) {
      const expected = result.artefacts.filter((a) => a.target === target && a.ids.includes('demo.everything')).map((a) => a.path).sort();
      expect(expected.length).toBeGreaterThan(0);
      const lines = section(r.stdout, target);
      const at = lines.findIndex((l) => /^ {2}files\b/.test(l));
      const listed: string[] = [];
      for (const l of lines.slice(at + 1)) {
        const m = /^ {4}(\S+)/.exec(l);
        if (!m) break;
        listed.push(m[1]!);
      }
      expect(listed.sort()).toEqual(expected);
    }
    // Host tools from the generated headers: probes need curl, rules jq.
    for (const target of TARGETS) expect(section(r.stdout, target).join('\n')).toMatch(/host tools: .*curl.*jq/);
  });

  it('an event definition: fires on events; only its allow-list', async () => {
    const r = await acore(['explain', 'demo.event'], project());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('org.repo.commit.pushed');
    expect(r.stdout).toContain('acme/*');
    expect(section(r.stdout, 'github').join('\n')).toContain(`${title('event')}: ${cell('github', 'event')}`);
    expect(r.stdout).not.toMatch(/^systemd: /m);
  });

  it('an unknown id exits 1 and names the close ids', async () => {
    const r = await acore(['explain', 'demo.everythin'], project());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'demo.everything'");
  });
});
