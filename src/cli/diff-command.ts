/** `acore diff` — not written yet. */
import { EXIT, type Io } from './main.ts';

export async function diffCommand(...args: unknown[]): Promise<number> {
  const io = args[args.length - 1] as Io;
  io.stderr('acore: diff is not implemented yet\n');
  return EXIT.failed;
}
