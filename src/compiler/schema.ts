/**
 * The ActivityDefinition format (see `../shared/seeds/cron-migration.md` §2): one zod schema,
 * from which the TypeScript types and the committed JSON Schema (schema/) are derived.
 * Unknown keys are errors everywhere (strict objects).
 */
import { z } from 'zod';

/** Ids become file and unit names: no path separators, no leading dot, no `..`, no spaces. */
export const ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+$/;

const seconds = (max: number, what: string) =>
  z
    .number()
    .int(`${what} must be a whole number of seconds`)
    .positive(`${what} must be at least 1 second`)
    .max(max, `${what} must be at most ${max} seconds`);

export const CronTrigger = z
  .strictObject({
    trigger_type: z.literal('cron'),
    cron_expression: z.string().describe('crontab(5) expression: 5 fields, or 6 with leading seconds; @daily etc.; L, W, # extensions'),
    timezone: z.string().optional().describe('IANA time zone the expression is read in, e.g. UTC or Europe/Berlin; default: the host\'s local time, like cron'),
    misfire_policy: z
      .enum(['skip', 'catch_up'])
      .default('skip')
      .describe(
        'skip: a fire time that falls while the previous run is still active is dropped, and runs missed while the machine was off are not made up. catch_up: as skip, but one missed run is made up when the machine or timer comes back',
      ),
  })
  .describe('Fire on a cron schedule');

export const EventTrigger = z
  .strictObject({
    trigger_type: z.literal('event'),
    event_type: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'event_type must be a dotted name such as org.repo.commit.pushed'),
    filters: z
      .record(z.string().regex(IDENT, 'filter keys must be identifiers'), z.string())
      .optional()
      .describe('payload field → glob pattern; all must match'),
  })
  .describe('Fire when an event arrives');

export const Trigger = z.discriminatedUnion('trigger_type', [CronTrigger, EventTrigger]);

export const HttpGetProbe = z
  .strictObject({
    kind: z.literal('http_get'),
    url: z.string().describe('http:// or https:// URL; the response body must be JSON'),
    bind: z.string().regex(IDENT, 'bind must be an identifier (letters, digits, _), usable in rule.when'),
    timeout_seconds: seconds(300, 'timeout_seconds').default(5),
  })
  .describe('GET a URL before running; unreachable, HTTP error or timeout skips the run');

export const Probe = z.discriminatedUnion('kind', [HttpGetProbe]);

export const Rule = z.strictObject({
  when: z
    .array(z.string())
    .min(1, 'rule.when needs at least one expression')
    .describe("Conditions over bound probe values, all of which must hold, e.g. \"hub_health.status == 'ok'\""),
});

const EnvValue = z.union([z.string(), z.number(), z.boolean()]);

export const ShellInstruction = z.strictObject({
  kind: z.literal('shell'),
  cmd: z.string().describe('Run by /bin/sh -c exactly as written'),
  on_failure: z
    .enum(['fail', 'log_and_continue'])
    .default('fail')
    .describe('fail: the run is marked failed (OnFailure= handlers fire). log_and_continue: the failure is logged, nothing is marked failed'),
  timeout_seconds: seconds(7 * 24 * 3600, 'timeout_seconds').optional().describe('Stop the run after this long; a timeout counts as a failure'),
  working_directory: z.string().optional().describe('Absolute directory the command starts in'),
  env: z.record(z.string().regex(ENV_NAME, 'environment variable names must be identifiers'), EnvValue).optional(),
  lock_file: z.string().optional().describe('Absolute path of the flock(1) lock that keeps runs from overlapping; default: one per job in the runtime directory'),
});

export const Instruction = z.discriminatedUnion('kind', [ShellInstruction]);

export const SystemdSettings = z.strictObject({
  unit_name: z
    .string()
    .regex(UNIT_NAME, 'unit_name may only use letters, digits and : _ . - \\')
    .optional()
    .describe('Base name of the generated units (default: the id), e.g. custodian-sync to take over existing units'),
  on_failure: z.array(z.string().regex(/^[A-Za-z0-9:_.@%\\-]+$/, 'OnFailure= entries must be unit names')).optional().describe('Units started when a run fails (OnFailure=)'),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'user must be a user name').optional().describe('User= for system scope'),
  group: z.string().regex(/^[a-z_][a-z0-9_-]*$/i, 'group must be a group name').optional().describe('Group= for system scope'),
});

export const CrontabSettings = z.strictObject({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'user must be a user name').optional().describe('User field for the /etc/cron.d form'),
});

export const GithubSettings = z.strictObject({
  runs_on: z.union([z.string().min(1, 'runs_on must not be empty'), z.array(z.string().min(1, 'runner labels must not be empty')).min(1)]).optional().describe('runs-on (default: self-hosted)'),
  workflow_name: z.string().min(1, 'workflow_name must not be empty').optional(),
});

export const Targets = z
  .strictObject({
    systemd: SystemdSettings.nullable().optional(),
    crontab: CrontabSettings.nullable().optional(),
    github: GithubSettings.nullable().optional(),
  })
  .describe('Allow-list of targets with their settings; a target left out is not compiled for this definition. Omit the whole key to allow every target.');

export const Definition = z.strictObject({
  id: z.string().describe('Unique id; also the default name of generated files'),
  description: z.string().optional(),
  enabled: z.boolean().default(true).describe('false: validate only, generate nothing'),
  trigger: Trigger,
  context: z.array(Probe).default([]).describe('Probes run before each run; their JSON results are bound to names for rule.when'),
  rule: Rule.optional(),
  instruction: Instruction,
  targets: Targets.optional(),
});

export type DefinitionInput = z.input<typeof Definition>;
export type DefinitionValue = z.output<typeof Definition>;
export type TargetName = keyof z.output<typeof Targets>;
export const TARGET_NAMES = ['systemd', 'crontab', 'github'] as const satisfies readonly TargetName[];

export function definitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Definition, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://acore.dev/schema/activity-definition.schema.json',
    title: 'acore ActivityDefinition',
    ...schema,
  };
}
