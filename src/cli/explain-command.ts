/** `acore explain` — not written yet. */
import { EXIT, type Io } from './main.ts';

export async function explainCommand(...args: unknown[]): Promise<number> {
  const io = args[args.length - 1] as Io;
  io.stderr('acore: explain is not implemented yet\n');
  return EXIT.failed;
}
