/** `acore schema`: the JSON Schema derived from the zod schema, for editors. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { definitionJsonSchema } from '../compiler/schema.ts';
import { EXIT, type Io } from './main.ts';

export function schemaText(): string {
  return `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`;
}

export async function schemaCommand(opts: { out?: string }, io: Io): Promise<number> {
  const text = schemaText();
  if (!opts.out) {
    io.stdout(text);
    return EXIT.ok;
  }
  try {
    writeFileSync(resolve(io.cwd, opts.out), text);
  } catch (e) {
    io.stderr(`${opts.out}: error[io-write]: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}
