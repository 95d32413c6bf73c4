/** Builds definition YAML for the end-to-end tests (yaml.stringify keeps any string exact). */
import { stringify } from 'yaml';

export interface DefinitionSpec {
  id: string;
  cron?: string;
  timezone?: string;
  misfire?: 'skip' | 'catch_up';
  probes?: { url: string; bind: string; timeout_seconds?: number }[];
  when?: string[];
  cmd: string;
  onFailure?: 'fail' | 'log_and_continue';
  timeout?: number;
  workingDirectory?: string;
  env?: Record<string, string>;
  lockFile?: string;
  systemd?: Record<string, unknown>;
}

export function definitionYaml(s: DefinitionSpec): string {
  const def: Record<string, unknown> = {
    id: s.id,
    trigger: {
      trigger_type: 'cron',
      cron_expression: s.cron ?? '0 0 1 1 *',
      ...(s.timezone ? { timezone: s.timezone } : {}),
      ...(s.misfire ? { misfire_policy: s.misfire } : {}),
    },
  };
  if (s.probes) def.context = s.probes.map((p) => ({ kind: 'http_get', ...p }));
  if (s.when) def.rule = { when: s.when };
  def.instruction = {
    kind: 'shell',
    cmd: s.cmd,
    ...(s.onFailure ? { on_failure: s.onFailure } : {}),
    ...(s.timeout ? { timeout_seconds: s.timeout } : {}),
    ...(s.workingDirectory ? { working_directory: s.workingDirectory } : {}),
    ...(s.env ? { env: s.env } : {}),
    ...(s.lockFile ? { lock_file: s.lockFile } : {}),
  };
  if (s.systemd) def.targets = { systemd: s.systemd };
  return stringify(def);
}
