/**
 * The CLI edge: parse arguments, call the pure pipeline, print, pick the exit code.
 * Exit codes: 0 ok, 1 invalid definitions / drift / output conflicts, 2 usage.
 * Nothing below throws for a user mistake; an unexpected exception is reported as an
 * internal error (exit 70) rather than a bare stack trace.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { writeSync } from 'node:fs';
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
  let color: boolean | undefined;
  return {
    cwd: process.cwd(),
    stdout: (t) => writeFd(1, t),
    stderr: (t) => writeFd(2, t),
    // Asked only when a diagnostic is printed: node:tty loads net and streams (~5 ms).
    get color() {
      color ??= !process.env.NO_COLOR && process.getBuiltinModule('node:tty').isatty(2);
      return color;
    },
    env: process.env,
  };
}

/**
 * Output goes straight to the file descriptor, in order and complete before the exit code is
 * set: process.stdout/stderr would cost a stream set-up (~5 ms each) on every start. A pipe
 * another process made non-blocking is waited on; a reader that went away (`| head`) ends the
 * output quietly.
 */
function writeFd(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

export const TARGETS = ['systemd', 'crontab', 'github'] as const;

/** `--target a,b --target c` and `--target all`, deduplicated in a stable order. */
function collectTargets(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((t) => t.trim()).filter(Boolean);
  for (const n of names) {
    if (n !== 'all' && !(TARGETS as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`unknown target '${n}'; expected ${TARGETS.join(', ')} or all`);
    }
  }
  const all = names.includes('all') ? [...TARGETS] : names;
  return TARGETS.filter((t) => previous.includes(t) || all.includes(t));
}

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
    .description('compile definitions for one or more targets and write the files (all or nothing)')
    .option('-t, --target <targets>', 'systemd, crontab, github, a comma-separated list, or all (repeatable; required)', collectTargets)
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .option('-o, --out <dir>', 'output directory (default: out/<target>); with several targets, one subdirectory per target')
    .option('--check', 'write nothing; report every stale, missing or orphaned file with a diff; exit 1 on drift')
    .addOption(new Option('--scope <scope>', 'systemd: units for the user manager or the system manager').choices(['user', 'system']).default('user'))
    .addOption(new Option('--cron-form <form>', 'crontab: a user crontab block, or one /etc/cron.d file per job').choices(['user', 'cron.d']).default('user'))
    .option('--script-dir <dir>', 'crontab: where the job scripts will be installed (default: $HOME/.local/lib/acore, or /usr/local/lib/acore for cron.d)')
    .option('--cron-host-tz <zone>', "crontab: the host's time zone; definitions in that zone (without DST) need no run-time time check")
    .option('--force', 'replace files in the way that acore did not generate (or that were edited since)')
    .option('--all-warnings', 'print every warning (by default, of many alike only the first few are printed; the rest are counted)')
    .action(async (opts, command: Command) => {
      if (!opts.target || opts.target.length === 0) command.error("error: required option '-t, --target <targets>' not specified", { exitCode: EXIT.usage });
      const { compileCommand } = await import('./compile-command.ts');
      code = await compileCommand({ ...opts, targets: opts.target }, io);
    });

  program
    .command('install')
    .description("compile into the scheduler's own place and bring it in line: systemd (reload; enable/start/stop timers) or crontab (job scripts + the managed block)")
    .addOption(new Option('-t, --target <target>', 'target to install').choices(['systemd', 'crontab']).default('systemd'))
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .addOption(new Option('--scope <scope>', 'systemd: the user manager (~/.config/systemd/user) or the system manager (/etc/systemd/system)').choices(['user', 'system']).default('user'))
    .option('--unit-dir <dir>', "systemd: install into this directory instead of the manager's default")
    .addOption(new Option('--cron-form <form>', 'crontab: the user crontab (crontab -l/-), or /etc/cron.d files').choices(['user', 'cron.d']).default('user'))
    .option('--script-dir <dir>', 'crontab: where to put the job scripts (default: $HOME/.local/lib/acore, or /usr/local/lib/acore for cron.d)')
    .option('--cron-dir <dir>', 'crontab, cron.d form: the cron.d directory (default /etc/cron.d)')
    .option('--cron-host-tz <zone>', "crontab: the host's time zone (see compile)")
    .option('--dry-run', 'print what would change; change nothing')
    .option('--force', 'replace files in the way that acore did not generate (or that were edited since)')
    .option('--all-warnings', 'print every warning (by default, of many alike only the first few are printed; the rest are counted)')
    .action(async (opts) => {
      const { installCommand } = await import('./install-command.ts');
      code = await installCommand(opts, io);
    });

  program
    .command('validate')
    .description('check definitions, and what each target would make of them; report every problem; writes nothing')
    .argument('[paths...]', 'check only these files or directories (as an editor or a commit hook passes them), not the whole definitions directory')
    .option('-t, --target <targets>', 'targets to check against (default: all)', collectTargets)
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .option('--all-warnings', 'print every warning (by default, of many alike only the first few are printed; the rest are counted)')
    .action(async (paths: string[], opts) => {
      const { validateCommand } = await import('./validate-command.ts');
      code = await validateCommand(opts, io, paths);
    });

  program
    .command('next')
    .description('list the next fire times of a definition as a target will actually fire them (DST included)')
    .argument('<id>', 'definition id')
    .option('-n, --count <n>', 'how many', '10')
    .option('-t, --target <target>', 'systemd, crontab or github (default: every target the definition allows)')
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .option('--from <time>', 'start after this instant (ISO 8601; default: now)')
    .action(async (id, opts) => {
      const { nextCommand } = await import('./next-command.ts');
      code = await nextCommand(id, opts, io);
    });

  program
    .command('explain')
    .description('say in words what a definition does on each target (from the capability matrix)')
    .argument('<id>', 'definition id')
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .action(async (id, opts) => {
      const { explainCommand } = await import('./explain-command.ts');
      code = await explainCommand(id, opts, io);
    });

  program
    .command('diff')
    .description('what changed between two versions of the definitions, in words and in generated bytes')
    .option('--base <ref>', 'git ref of the old version (default: merge base with the default branch)')
    .option('--head <ref>', 'git ref of the new version (default: the working tree)')
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .option('-t, --target <targets>', 'targets whose generated files to diff (default: all)', collectTargets)
    .addOption(new Option('--format <format>', 'text (colour on a terminal) or markdown').choices(['text', 'markdown']).default('text'))
    .action(async (opts) => {
      const { diffCommand } = await import('./diff-command.ts');
      code = await diffCommand(opts, io);
    });

  program
    .command('init')
    .description('scaffold acore in a repository: definitions/ example, a CI workflow (drift check + diff comment)')
    .option('--dir <dir>', 'repository root', '.')
    .option('--force', 'overwrite files that already exist')
    .action(async (opts) => {
      const { initCommand } = await import('./init-command.ts');
      code = await initCommand(opts, io);
    });

  program
    .command('gen-tests')
    .description('write a vitest file with one golden test per definition and target (keeps tests you added)')
    .option('-o, --out <file>', 'test file to write', 'test/acore-golden.test.ts')
    .option('-d, --definitions <dir>', 'definitions directory', 'definitions')
    .option('-t, --target <targets>', 'targets (default: all)', collectTargets)
    .action(async (opts) => {
      const { genTestsCommand } = await import('./gen-tests-command.ts');
      code = await genTestsCommand(opts, io);
    });

  program
    .command('capabilities')
    .description('print which features each target keeps exactly, approximates or cannot express (Markdown)')
    .action(async () => {
      const { capabilityTable } = await import('../targets/capabilities.ts');
      io.stdout(`${capabilityTable()}\n`);
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
