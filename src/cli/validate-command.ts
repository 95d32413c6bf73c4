/** `acore validate`: every problem in every definition, and what the targets make of them; writes nothing. */
import { compile } from '../compiler/compile.ts';
import { hasErrors } from '../compiler/diagnostics.ts';
import type { TargetName } from '../compiler/ir.ts';
import { TARGET_NAMES } from '../compiler/schema.ts';
import { loadTarget, printDiagnostics, targetOptions } from './compile-shared.ts';
import { EXIT, type Io } from './main.ts';
import { summary } from './report.ts';
import { listPaths, readDefinitions, readListing } from './sources.ts';

/**
 * `paths`: only these files (and directories) are checked, e.g. those a commit changes: an id
 * they share with a file not given is found by a validate of the whole directory (or a compile).
 */
export async function validateCommand(opts: { definitions: string; target?: TargetName[]; allWarnings?: boolean }, io: Io, paths: readonly string[] = []): Promise<number> {
  const read = paths.length > 0 ? readListing(listPaths(paths, opts.definitions, io.cwd)) : readDefinitions(opts.definitions, io.cwd);
  // The targets run too (nothing is written), so a definition its own targets cannot express is
  // reported here, not only at compile time.
  const targets = await Promise.all((opts.target?.length ? opts.target : TARGET_NAMES).map(loadTarget));
  const result = compile(read.files, targets, targetOptions({ scope: 'user' }));
  const diagnostics = [...read.diagnostics, ...result.diagnostics];
  printDiagnostics(diagnostics, new Map(read.files.map((f) => [f.path, f.text])), io, opts.allWarnings);
  if (hasErrors(diagnostics)) {
    io.stderr(`acore: ${summary(diagnostics)}\n`);
    return EXIT.failed;
  }
  const n = result.definitions.length;
  const extra = summary(diagnostics);
  io.stdout(`${n} definition${n === 1 ? '' : 's'} valid${extra ? ` (${extra})` : ''}\n`);
  return EXIT.ok;
}

