/** `acore gen-tests` — not written yet. */
import { EXIT, type Io } from './main.ts';

export async function genTestsCommand(...args: unknown[]): Promise<number> {
  const io = args[args.length - 1] as Io;
  io.stderr('acore: gen-tests is not implemented yet\n');
  return EXIT.failed;
}
