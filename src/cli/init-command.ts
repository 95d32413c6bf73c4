/** `acore init` — not written yet. */
import { EXIT, type Io } from './main.ts';

export async function initCommand(...args: unknown[]): Promise<number> {
  const io = args[args.length - 1] as Io;
  io.stderr('acore: init is not implemented yet\n');
  return EXIT.failed;
}
