/**
 * Reads the definitions directory: every *.yaml / *.yml below it (hidden entries skipped),
 * sorted, decoded as strict UTF-8. Problems become diagnostics, never exceptions.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../compiler/diagnostics.ts';
import type { SourceFile } from '../compiler/source.ts';

/** Definition files larger than this are refused before parsing. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

export interface ReadResult {
  files: (SourceFile & { name: string })[];
  diagnostics: Diagnostic[];
}

/**
 * @param dir the definitions directory as the user gave it
 * @param cwd for display paths relative to the working directory
 */
export function readDefinitions(dir: string, cwd: string): ReadResult {
  const diagnostics: Diagnostic[] = [];
  const files: ReadResult['files'] = [];
  const abs = resolve(cwd, dir);
  let rootStat;
  try {
    rootStat = statSync(abs);
  } catch {
    diagnostics.push({ code: 'io-read', severity: 'error', message: `definitions directory ${dir} does not exist`, file: '' });
    return { files, diagnostics };
  }
  if (!rootStat.isDirectory()) {
    diagnostics.push({ code: 'io-read', severity: 'error', message: `${dir} is not a directory`, file: '' });
    return { files, diagnostics };
  }
  const rootName = basename(abs);
  // Directories already walked (device + inode): a symlink back to a parent (`loop -> ..`) would
  // otherwise read every file again, and two such links make the walk exponential (a hang).
  const walked = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const walk = (d: string, depth: number) => {
    if (depth > 32) return;
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch (e) {
      diagnostics.push({ code: 'io-read', severity: 'error', message: `cannot read directory: ${(e as Error).message}`, file: display(d) });
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      const p = join(d, entry);
      let st;
      try {
        st = lstatSync(p);
        if (st.isSymbolicLink()) st = statSync(p);
      } catch {
        continue; // dangling symlink
      }
      if (st.isDirectory()) {
        const id = `${st.dev}:${st.ino}`;
        if (walked.has(id)) continue;
        walked.add(id);
        walk(p, depth + 1);
      } else if (st.isFile() && /\.ya?ml$/i.test(entry)) readOne(p, st.size);
    }
  };
  const display = (p: string) => {
    const r = relative(cwd, p);
    return (r.startsWith('..') ? p : r).split(sep).join('/');
  };
  const readOne = (p: string, size: number) => {
    const path = display(p);
    const name = [rootName, ...relative(abs, p).split(sep)].join('/');
    if (size > MAX_DEFINITION_BYTES) {
      diagnostics.push({
        code: 'io-read',
        severity: 'error',
        message: `file is ${size} bytes; definitions are limited to ${MAX_DEFINITION_BYTES} bytes`,
        file: path,
      });
      return;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(p);
    } catch (e) {
      diagnostics.push({ code: 'io-read', severity: 'error', message: `cannot read: ${(e as Error).message}`, file: path });
      return;
    }
    if (bytes.length > MAX_DEFINITION_BYTES) {
      // It grew between stat and read.
      diagnostics.push({ code: 'io-read', severity: 'error', message: `file is ${bytes.length} bytes; definitions are limited to ${MAX_DEFINITION_BYTES} bytes`, file: path });
      return;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      diagnostics.push({
        code: 'io-encoding',
        severity: 'error',
        message: `not valid UTF-8 (first bad byte 0x${(bytes[at.offset] ?? 0).toString(16).padStart(2, '0')} at byte ${at.offset})`,
        file: path,
        range: { start: { line: at.line, col: at.col }, end: { line: at.line, col: at.col + 1 } },
      });
      return;
    }
    files.push({ path, name, text });
  };
  walk(abs, 0);
  if (files.length === 0 && diagnostics.length === 0) {
    diagnostics.push({ code: 'no-definitions', severity: 'error', message: `no *.yaml or *.yml files in ${dir}`, file: '' });
  }
  return { files, diagnostics };
}

function firstInvalidUtf8(bytes: Buffer): { offset: number; line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
    if (ok && len > 1) ok = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(i, i + len)) !== '\ufffd';
    if (!ok) return { offset: i, line, col };
    if (b === 0x0a) {
      line++;
      col = 1;
    } else col++;
    i += len;
  }
  return { offset: 0, line: 1, col: 1 };
}
