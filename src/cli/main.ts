/**
 * The CLI edge: parse arguments, call the pure pipeline, print, pick the exit code.
 * Exit codes: 0 ok, 1 invalid definitions / drift / output conflicts, 2 usage.
 * Nothing below throws for a user mistake; an unexpected exception is reported as an
 * internal error (exit 70) rather than a bare stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };

export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

export interface Io {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Colour on stderr (a terminal and NO_COLOR unset). */
  color: boolean;
  env: Record<string, string | undefined>;
}

export function processIo(): Io {
  return {
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    env: process.env,
  };
}

export const TARGETS = ['systemd', 'crontab', 'github'] as const;
export const IMPLEMENTED_TARGETS = ['systemd'] as const;

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('acore')
    .description('Compile ActivityDefinitions (YAML) into systemd timers, crontab fragments and GitHub Actions workflows.')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run `acore --help` for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('compile')
    .description('compile definitions for a target and write the files (all or nothing)')
    .addOption(new Option('-t, --target <target>', 'target to compile for').choices([...IMPLEMENTED_TARGETS]).makeOptionMandatory())
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .option('-o, --out <dir>', 'output directory (default: out/<target>)')
    .option('--check', 'write nothing; report every stale, missing or orphaned file with a diff; exit 1 on drift')
    .addOption(new Option('--scope <scope>', 'systemd: units for the user manager or the system manager').choices(['user', 'system']).default('user'))
    .option('--force', 'replace files in the way that acore did not generate (or that were edited since)')
    .action(async (opts) => {
      const { compileCommand } = await import('./compile-command.ts');
      code = await compileCommand(opts, io);
    });

  program
    .command('install')
    .description("compile into the systemd manager's unit directory, then reload and enable/start/stop timers to match")
    .addOption(new Option('-t, --target <target>', 'target to install').choices(['systemd']).default('systemd'))
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .addOption(new Option('--scope <scope>', 'the user manager (~/.config/systemd/user) or the system manager (/etc/systemd/system)').choices(['user', 'system']).default('user'))
    .option('--unit-dir <dir>', 'install into this directory instead of the manager\'s default')
    .option('--dry-run', 'print what would change; change nothing')
    .option('--force', 'replace files in the way that acore did not generate (or that were edited since)')
    .action(async (opts) => {
      const { installCommand } = await import('./install-command.ts');
      code = await installCommand(opts, io);
    });

  program
    .command('validate')
    .description('check definitions and report every problem; writes nothing')
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .action(async (opts) => {
      const { validateCommand } = await import('./compile-command.ts');
      code = await validateCommand(opts, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of definitions (for editor completion)')
    .option('-o, --out <file>', 'write it to a file instead')
    .action(async (opts) => {
      const { schemaCommand } = await import('./schema-command.ts');
      code = await schemaCommand(opts, io);
    });

  if (argv.length === 0) {
    io.stderr(`${program.helpInformation()}\nacore: a command is required\n`);
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (e.code === 'commander.executeSubCommandAsync') return EXIT.internal;
      return EXIT.usage;
    }
    io.stderr(`acore: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nThis is a bug in acore; please report it with the definition that caused it.\n`);
    return EXIT.internal;
  }
}
