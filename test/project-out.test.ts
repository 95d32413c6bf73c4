/**
 * The project's own drift check: out/systemd holds the compiled definitions/ exactly, and the
 * committed JSON Schema is the one the zod schema produces. Regenerate with `npm run golden`
 * (or `npx acore compile --target systemd` and `npx acore schema --out schema/…`).
 */
import { readFileSync } from 'node:fs';
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

  it('schema/activity-definition.schema.json is generated from the zod schema', () => {
    expect(readFileSync(join(ROOT, 'schema', 'activity-definition.schema.json'), 'utf8')).toBe(schemaText());
  });
});
