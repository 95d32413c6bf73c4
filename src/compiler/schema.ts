/**
 * The ActivityDefinition format (see `../shared/seeds/cron-migration.md` §2): one zod schema,
 * from which the TypeScript types and the committed JSON Schema (schema/) are derived.
 * Unknown keys are errors everywhere (strict objects).
 *
 * Written with `zod/mini`, zod's tree-shakable form: the same schema engine, a tenth of the
 * code to load, which is most of the start-up time of `acore validate` on one file.
 */
import * as z from 'zod/mini';

/** Ids become file and unit names: no path separators, no leading dot, no `..`, no spaces. */
export const ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+$/;

// Descriptions (for the JSON Schema only) go into zod's registry directly: `.check(z.describe())`
// would clone every described schema while acore starts.
const described = <T extends z.ZodMiniType>(schema: T, description: string): T => {
  z.globalRegistry.add(schema, { description });
  return schema;
};
const matching = (re: RegExp, message: string) => z.string().check(z.regex(re, message));
const nonEmpty = (message: string) => z.string().check(z.minLength(1, message));

const seconds = (max: number, what: string) =>
  z.number().check(z.int(`${what} must be a whole number of seconds`), z.positive(`${what} must be at least 1 second`), z.maximum(max, `${what} must be at most ${max} seconds`));

export const CronTrigger = described(
  z.strictObject({
    trigger_type: z.literal('cron'),
    cron_expression: described(z.string(), 'crontab(5) expression: 5 fields, or 6 with leading seconds; @daily etc.; L, W, # extensions'),
    timezone: described(z.optional(z.string()), "IANA time zone the expression is read in, e.g. UTC or Europe/Berlin; default: the host's local time, like cron"),
    misfire_policy: described(
      z._default(z.enum(['skip', 'catch_up']), 'skip'),
      'skip: a fire time that falls while the previous run is still active is dropped, and runs missed while the machine was off are not made up. catch_up: as skip, but one missed run is made up when the machine or timer comes back',
    ),
  }),
  'Fire on a cron schedule',
);

export const EventTrigger = described(
  z.strictObject({
    trigger_type: z.literal('event'),
    event_type: matching(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'event_type must be a dotted name such as org.repo.commit.pushed'),
    filters: described(z.optional(z.record(matching(IDENT, 'filter keys must be identifiers'), z.string())), 'payload field → glob pattern; all must match'),
  }),
  'Fire when an event arrives',
);

export const Trigger = z.discriminatedUnion('trigger_type', [CronTrigger, EventTrigger]);

export const HttpGetProbe = described(
  z.strictObject({
    kind: z.literal('http_get'),
    url: described(z.string(), 'http:// or https:// URL; the response body must be JSON'),
    bind: matching(IDENT, 'bind must be an identifier (letters, digits, _), usable in rule.when'),
    timeout_seconds: z._default(seconds(300, 'timeout_seconds'), 5),
  }),
  'GET a URL before running; unreachable, HTTP error or timeout skips the run',
);

export const Probe = z.discriminatedUnion('kind', [HttpGetProbe]);

export const Rule = z.strictObject({
  when: described(
    z.array(z.string()).check(z.minLength(1, 'rule.when needs at least one expression')),
    "Conditions over bound probe values, all of which must hold, e.g. \"hub_health.status == 'ok'\"",
  ),
});

const EnvValue = z.union([z.string(), z.number(), z.boolean()]);

export const ShellInstruction = z.strictObject({
  kind: z.literal('shell'),
  cmd: described(z.string(), 'Run by /bin/sh -c exactly as written'),
  on_failure: described(
    z._default(z.enum(['fail', 'log_and_continue']), 'fail'),
    'fail: the run is marked failed (OnFailure= handlers fire). log_and_continue: the failure is logged, nothing is marked failed',
  ),
  timeout_seconds: described(z.optional(seconds(7 * 24 * 3600, 'timeout_seconds')), 'Stop the run after this long; a timeout counts as a failure'),
  working_directory: described(z.optional(z.string()), 'Absolute directory the command starts in'),
  env: z.optional(z.record(matching(ENV_NAME, 'environment variable names must be identifiers'), EnvValue)),
  lock_file: described(z.optional(z.string()), 'Absolute path of the flock(1) lock that keeps runs from overlapping; default: one per job in the runtime directory'),
});

export const Instruction = z.discriminatedUnion('kind', [ShellInstruction]);

export const SystemdSettings = z.strictObject({
  unit_name: described(
    z.optional(matching(UNIT_NAME, 'unit_name may only use letters, digits and : _ . - \\')),
    'Base name of the generated units (default: the id), e.g. custodian-sync to take over existing units',
  ),
  on_failure: described(z.optional(z.array(matching(/^[A-Za-z0-9:_.@%\\-]+$/, 'OnFailure= entries must be unit names'))), 'Units started when a run fails (OnFailure=)'),
  user: described(z.optional(matching(/^[a-z_][a-z0-9_-]*\$?$/i, 'user must be a user name')), 'User= for system scope'),
  group: described(z.optional(matching(/^[a-z_][a-z0-9_-]*$/i, 'group must be a group name')), 'Group= for system scope'),
});

export const CrontabSettings = z.strictObject({
  user: described(z.optional(matching(/^[a-z_][a-z0-9_-]*\$?$/i, 'user must be a user name')), 'User field for the /etc/cron.d form'),
});

export const GithubSettings = z.strictObject({
  runs_on: described(
    z.optional(z.union([nonEmpty('runs_on must not be empty'), z.array(nonEmpty('runner labels must not be empty')).check(z.minLength(1))])),
    'runs-on (default: self-hosted)',
  ),
  workflow_name: z.optional(nonEmpty('workflow_name must not be empty')),
});

export const Targets = described(
  z.strictObject({
    systemd: z.optional(z.nullable(SystemdSettings)),
    crontab: z.optional(z.nullable(CrontabSettings)),
    github: z.optional(z.nullable(GithubSettings)),
  }),
  'Allow-list of targets with their settings; a target left out is not compiled for this definition. Omit the whole key to allow every target.',
);

export const Definition = z.strictObject({
  id: described(z.string(), 'Unique id; also the default name of generated files'),
  description: z.optional(z.string()),
  enabled: described(z._default(z.boolean(), true), 'false: validate only, generate nothing'),
  trigger: Trigger,
  context: described(z._default(z.array(Probe), []), 'Probes run before each run; their JSON results are bound to names for rule.when'),
  rule: z.optional(Rule),
  instruction: Instruction,
  targets: z.optional(Targets),
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
