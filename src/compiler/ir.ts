/**
 * The IR: what a definition means, with every default applied and every check passed. This is
 * the whole contract between the compiler and the targets; a target reads nothing else.
 */
import type { CronSchedule } from './cron/schedule.ts';
import type { RuleExpr } from './rule/ast.ts';

export type { CronSchedule, DomItem, DowItem } from './cron/schedule.ts';
export type { CompareOp, Literal, RuleExpr } from './rule/ast.ts';

export type TargetName = 'systemd' | 'crontab' | 'github';

export interface ActivityIR {
  id: string;
  /** Where it was defined, for headers and messages: path relative to the definitions root,
   * prefixed with the root's own name (e.g. `definitions/the-custodian/sweep.yaml`). */
  source: string;
  /** First line of the description, or the id. Single line, no control characters. */
  title: string;
  description?: string;
  trigger: CronTriggerIR | EventTriggerIR;
  /** Run before every run, in order; each binds its JSON result to a name. */
  probes: ProbeIR[];
  /** All must hold (empty: always run). Names refer to probe binds. */
  conditions: RuleConditionIR[];
  instruction: ShellInstructionIR;
  /** Targets this definition may be compiled for, with their settings. */
  targets: TargetSettings;
}

export interface CronTriggerIR {
  kind: 'cron';
  schedule: CronSchedule;
  /** IANA zone; undefined = the host's local time (as cron does). */
  timezone?: string;
  /**
   * skip: never start while a run is active (fire times during a run are dropped) and do not
   * make up runs missed while the machine was off. catch_up: the same, but a run missed while
   * off is made up once.
   */
  misfire: 'skip' | 'catch_up';
}

export interface EventTriggerIR {
  kind: 'event';
  eventType: string;
  /** Payload field → glob; all must match. Sorted by field. */
  filters: [string, string][];
}

export interface HttpGetProbeIR {
  kind: 'http_get';
  url: string;
  bind: string;
  timeoutSeconds: number;
}

export type ProbeIR = HttpGetProbeIR;

export interface RuleConditionIR {
  /** The expression as written, for comments and messages. */
  text: string;
  expr: RuleExpr;
}

export interface ShellInstructionIR {
  kind: 'shell';
  /** Exactly as written; run by `/bin/sh -c`. */
  command: string;
  onFailure: 'fail' | 'log_and_continue';
  timeoutSeconds?: number;
  workingDirectory?: string;
  /** Sorted by name. */
  env: [string, string][];
  /** Explicit lock path, or undefined for the target's default. */
  lockFile?: string;
}

export interface SystemdSettingsIR {
  unitName?: string;
  onFailure: string[];
  user?: string;
  group?: string;
}

export interface CrontabSettingsIR {
  user?: string;
}

export interface GithubSettingsIR {
  runsOn?: string | string[];
  workflowName?: string;
}

/** A target key present means allowed. */
export interface TargetSettings {
  systemd?: SystemdSettingsIR;
  crontab?: CrontabSettingsIR;
  github?: GithubSettingsIR;
}
