/**
 * The project's own drift check: out/systemd holds the compiled definitions/ exactly, and the
 * committed JSON Schema is the one the zod schema produces. Regenerate with `npm run golden`
 * (or `npx acore compile --target systemd` and `npx acore schema --out schema/…`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaText } from '../src/cli/schema-command.ts';
import { ROOT, acore } from './helpers.ts';

describe('project output', () => {
  it('out/<target> is up to date with definitions/ for every target (acore compile --target all --check)', async () => {
    const r = await acore(['compile', '--target', 'all', '--check']);
    for (const t of ['systemd', 'crontab', 'github']) expect(r.stdout).toContain(`${t}: out/${t} is up to date`);
    expect(r.code).toBe(0);
  });

  it('out/crontab/crontab passes Debian’s crontab -n', () => {
    const r = spawnSync('crontab', ['-n', join(ROOT, 'out', 'crontab', 'crontab')], { encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('The syntax of the crontab file was successfully checked.');
    expect(r.status).toBe(0);
  });

  it('out/github/*.yml parse without errors in GitHub’s own workflow parser', async () => {
    const files = readdirSync(join(ROOT, 'out', 'github')).filter((f) => f.endsWith('.yml'));
    expect(files).toHaveLength(3);
    for (const name of files) {
      const result = parseWorkflow({ name, content: readFileSync(join(ROOT, 'out', 'github', name), 'utf8') }, new NoOperationTraceWriter());
      expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
      const template = await convertWorkflowTemplate(result.context, result.value!);
      expect(template.errors ?? []).toEqual([]);
    }
  });

  it('schema/activity-definition.schema.json is generated from the zod schema', () => {
    expect(readFileSync(join(ROOT, 'schema', 'activity-definition.schema.json'), 'utf8')).toBe(schemaText());
  });
});
