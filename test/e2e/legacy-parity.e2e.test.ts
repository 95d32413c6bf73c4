/**
 * The compiled custodian-sync units run the same program, with the same arguments, in the same
 * directory as the hand-written ones they replace — observed under a real user manager.
 * Both the legacy service and definition A are moved, by the same textual substitution, from
 * /home/worsch/the-custodian/state-hub to a temporary tree whose `.venv/bin/python` records
 * its working directory and argv; the hub URL points at a stand-in that answers ok.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers.ts';
import { type FakeHub, startFakeHub, startUserManager, type UserManager, waitFor, writeDefinitions } from './harness.ts';

const ORIGINAL = '/home/worsch/the-custodian/state-hub';
let m: UserManager;
let hub: FakeHub;
let tree: string;

beforeAll(async () => {
  m = await startUserManager('parity');
  hub = await startFakeHub();
  tree = join(m.root, 'state-hub');
  mkdirSync(join(tree, '.venv', 'bin'), { recursive: true });
  mkdirSync(join(tree, 'scripts'));
  const python = join(tree, '.venv', 'bin', 'python');
  // argv[0] is the path as invoked (absolute in the legacy unit, relative after `cd` in
  // acore's); the program is the same file, so record it resolved.
  writeFileSync(python, `#!/bin/sh\n{ pwd; readlink -f "$0"; for a in "$@"; do printf '%s\\n' "$a"; done; } > "${tree}/call.$RUN_BY"\n`);
  chmodSync(python, 0o755);
});
afterAll(async () => {
  await hub?.close();
  await m?.stop();
});

const moved = (text: string) => text.split(ORIGINAL).join(tree);

describe('custodian-sync parity at run time', () => {
  it('legacy and compiled units make the same call', async () => {
    const legacy = readFileSync(join(FIXTURES, 'custodian-sync-takeover', 'legacy', 'custodian-sync.service'), 'utf8');
    writeFileSync(join(m.unitDir, 'legacy-custodian-sync.service'), `${moved(legacy)}Environment=RUN_BY=legacy\n`);
    const definition = readFileSync(join(FIXTURES, 'custodian-sync-takeover', 'definitions', 'state-hub-consistency-sweep.yaml'), 'utf8');
    const dir = writeDefinitions(m, 'parity', {
      'sweep.yaml': moved(definition).replace('http://127.0.0.1:8000/state/health', hub.url).replace('  kind: shell\n', '  kind: shell\n  env: { RUN_BY: acore }\n'),
    });
    const r = await m.compile(dir);
    expect(r.stderr).toBe('');

    await m.systemctl('start', 'legacy-custodian-sync.service');
    await m.systemctl('start', 'custodian-sync.service');
    const read = (who: string) => readFileSync(join(tree, `call.${who}`), 'utf8');
    await waitFor('both calls', () => {
      try {
        return read('legacy') && read('acore') ? true : undefined;
      } catch {
        return undefined;
      }
    });
    expect(read('acore')).toBe(read('legacy'));
    expect(read('legacy')).toBe(`${tree}\n${tree}/.venv/bin/python\nscripts/consistency_check.py\n--remote\n--all\n--max-seconds\n300\n`);
  });
});
