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
  it('out/systemd is up to date with definitions/ (acore compile --check)', async () => {
    const r = await acore(['compile', '--target', 'systemd', '--check']);
    expect(r.stdout + r.stderr).toContain('is up to date');
    expect(r.code).toBe(0);
  });

  it('schema/activity-definition.schema.json is generated from the zod schema', () => {
    expect(readFileSync(join(ROOT, 'schema', 'activity-definition.schema.json'), 'utf8')).toBe(schemaText());
  });
});
