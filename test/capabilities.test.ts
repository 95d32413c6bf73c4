/**
 * Walks every cell of the capability matrix: for each feature, a definition that uses it is
 * compiled for each target, and the target must keep its word — exact: no diagnostic about
 * it; approximated: a `target-approximated` warning; unsupported: a `target-unsupported`
 * error and no artefact. The README shows the same table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/compile.ts';
import type { TargetName } from '../src/compiler/ir.ts';
import { CAPABILITIES, capabilityTable, type Feature, FEATURES, featuresUsed } from '../src/targets/capabilities.ts';
import { crontabTarget } from '../src/targets/crontab/index.ts';
import { githubTarget } from '../src/targets/github/index.ts';
import { systemdTarget } from '../src/targets/systemd/index.ts';
import type { Target } from '../src/targets/target.ts';
import { ROOT } from './helpers.ts';

const TARGETS: Record<TargetName, Target> = { systemd: systemdTarget, crontab: crontabTarget, github: githubTarget };

const base = (trigger: string, extra = '', instruction = '') => `id: cap.case
trigger:
${trigger}
${extra}instruction:
  kind: shell
  cmd: echo hi
${instruction}`;
const cron = (expr: string, more = '') => `  trigger_type: cron\n  cron_expression: "${expr}"\n${more}`;
const PROBE = 'context:\n  - kind: http_get\n    url: http://127.0.0.1:8000/state/health\n    bind: hub\n';

/** A definition using the feature and, as far as possible, nothing else out of the ordinary. */
const USES: Record<Feature, string> = {
  cron: base(cron('0 3 * * *')),
  'cron.seconds': base(cron('30 0 3 * * *')),
  'cron.extensions': base(cron('0 3 L * *')),
  'cron.macros': base(cron('@daily')),
  'cron.sub-five-minutes': base(cron('*/2 * * * *')),
  timezone: base(cron('0 3 * * *', '  timezone: Europe/Berlin\n')),
  'timezone.host': base(cron('0 3 * * *')),
  'timezone.dst': base(cron('0 3 * * *', '  timezone: America/New_York\n')),
  'misfire.skip': base(cron('0 3 * * *', '  misfire_policy: skip\n')),
  'misfire.catch_up': base(cron('0 3 * * *', '  misfire_policy: catch_up\n')),
  'health-check': base(cron('0 3 * * *'), PROBE),
  rule: base(cron('0 3 * * *'), `${PROBE}rule:\n  when: ["hub.status == 'ok'"]\n`),
  lock: base(cron('0 3 * * *'), '', '  lock_file: /run/lock/x.lock\n'),
  'on_failure.fail': base(cron('0 3 * * *'), '', '  on_failure: fail\n'),
  'on_failure.log_and_continue': base(cron('0 3 * * *'), '', '  on_failure: log_and_continue\n'),
  timeout: base(cron('0 3 * * *'), '', '  timeout_seconds: 90\n'),
  env: base(cron('0 3 * * *'), '', '  env: { A: b }\n'),
  working_directory: base(cron('0 3 * * *'), '', '  working_directory: /srv\n'),
  event: base('  trigger_type: event\n  event_type: org.repo.commit.pushed\n'),
};

const cells = FEATURES.flatMap(({ feature, title }) => (Object.keys(TARGETS) as TargetName[]).map((target) => ({ feature, title, target })));

describe('capability matrix', () => {
  it.each(cells)('$feature on $target', ({ feature, title, target }) => {
    const r = compile([{ path: 'd/case.yaml', text: USES[feature] }], [TARGETS[target]], { scope: 'user' });
    expect(r.definitions).toHaveLength(1);
    expect(featuresUsed(r.definitions[0]!)).toContain(feature);
    const about = r.diagnostics.filter((d) => d.message.includes(title));
    const support = CAPABILITIES[target][feature];
    if (support.level === 'exact') {
      expect(about).toEqual([]);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(r.artefacts.length).toBeGreaterThan(0);
    } else if (support.level === 'approximated') {
      expect(about.map((d) => `${d.severity}:${d.code}`)).toEqual(['warning:target-approximated']);
      expect(about[0]!.message).toContain(support.how);
    } else {
      expect(about.map((d) => `${d.severity}:${d.code}`)).toEqual(['error:target-unsupported']);
      expect(about[0]!.message).toContain(support.why);
      expect(about[0]!.range).toBeDefined();
      expect(r.artefacts).toEqual([]);
    }
  });

  it('every feature has a case and a cell for every target', () => {
    expect(Object.keys(USES).sort()).toEqual(FEATURES.map((f) => f.feature).sort());
    for (const t of Object.keys(TARGETS) as TargetName[]) expect(Object.keys(CAPABILITIES[t]).sort()).toEqual(Object.keys(USES).sort());
  });

  it('the README shows the matrix as it is', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /<!-- capability-matrix:begin -->\n([\s\S]*?)\n<!-- capability-matrix:end -->/.exec(readme);
    expect(section?.[1]).toBe(capabilityTable());
  });
});
