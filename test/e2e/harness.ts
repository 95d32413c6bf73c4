/**
 * A real systemd user manager for the end-to-end suite.
 *
 * Each test file starts its own `/lib/systemd/systemd --user` with private XDG directories
 * (runtime, config = the unit directory, data = timer stamps), so files run in parallel without
 * seeing each other's units. There is no journald here, so every installed service gets a
 * drop-in that appends its stdout/stderr to a per-unit log file the tests read. The manager
 * is stopped by its PID in afterAll, also when a test fails.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acore } from '../helpers.ts';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export interface UserManager {
  root: string;
  runtimeDir: string;
  configHome: string;
  dataHome: string;
  /** Where the user manager looks for units: $XDG_CONFIG_HOME/systemd/user. */
  unitDir: string;
  logDir: string;
  env: Record<string, string>;
  pid: number;
  systemctl(...args: string[]): Promise<Exec>;
  /** `systemctl --user show -p …`, as a record (timestamps in UTC, see parseTimestamp). */
  show(unit: string, ...props: string[]): Promise<Record<string, string>>;
  /** Adds the logging drop-in to every service in the unit directory and reloads. */
  reload(): Promise<void>;
  /** Compiles a definitions directory straight into the unit directory and reloads. */
  compile(definitionsDir: string, extra?: string[]): Promise<Exec>;
  log(unit: string): string;
  stop(): Promise<void>;
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A timestamp as `systemctl show` prints it with TZ=UTC, e.g. `Fri 2026-11-27 21:45:00 UTC`. */
export function parseTimestamp(text: string | undefined): number | undefined {
  const m = /^\w{3} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/.exec((text ?? '').trim());
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function startUserManager(name: string): Promise<UserManager> {
  // systemd only behaves as a service manager when it believes systemd booted the machine.
  mkdirSync('/run/systemd/system', { recursive: true });
  const root = join(tmpdir(), `acore-e2e-${name}-${process.pid}-${Date.now()}`);
  rmSync(root, { recursive: true, force: true });
  const runtimeDir = join(root, 'run');
  const configHome = join(root, 'config');
  const dataHome = join(root, 'data');
  const unitDir = join(configHome, 'systemd', 'user');
  const logDir = join(root, 'logs');
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  for (const d of [unitDir, dataHome, logDir]) mkdirSync(d, { recursive: true });
  const env: Record<string, string> = {
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dataHome,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    SYSTEMD_PAGER: '',
    SYSTEMD_COLORS: '0',
  };
  const child: ChildProcess = spawn('/lib/systemd/systemd', ['--user'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  child.unref();
  const pid = child.pid!;
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  const systemctl = (...args: string[]) => run('systemctl', ['--user', '--no-ask-password', ...args], env);
  try {
    await waitFor('the user manager', async () => {
      if (exited) throw new Error('the user manager exited at start');
      const r = await systemctl('is-system-running');
      return ['running', 'degraded'].includes(r.stdout.trim()) ? true : undefined;
    });
  } catch (e) {
    process.kill(pid, 'SIGKILL');
    throw e;
  }

  const manager: UserManager = {
    root,
    runtimeDir,
    configHome,
    dataHome,
    unitDir,
    logDir,
    env,
    pid,
    systemctl,
    async show(unit, ...props) {
      const r = await systemctl('show', unit, ...props.flatMap((p) => ['-p', p]));
      return Object.fromEntries(
        r.stdout
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    },
    async reload() {
      for (const f of readdirSync(unitDir)) {
        if (!f.endsWith('.service')) continue;
        const dropIn = join(unitDir, `${f}.d`);
        mkdirSync(dropIn, { recursive: true });
        const log = join(logDir, `${f}.log`);
        writeFileSync(join(dropIn, 'zz-test-log.conf'), `[Service]\nStandardOutput=append:${log}\nStandardError=append:${log}\n`);
      }
      const r = await systemctl('daemon-reload');
      if (r.code !== 0) throw new Error(`daemon-reload failed: ${r.stderr}`);
    },
    async compile(definitionsDir, extra = []) {
      const r = await acore(['compile', '--target', 'systemd', '--definitions', definitionsDir, '--out', unitDir, ...extra]);
      const cli = { code: r.code, stdout: r.stdout, stderr: r.stderr };
      if (r.code === 0) await manager.reload();
      return cli;
    },
    log(unit) {
      const p = join(logDir, `${unit}.log`);
      return existsSync(p) ? readFileSync(p, 'utf8') : '';
    },
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      await waitFor('the user manager to exit', () => (exited ? true : undefined), 10_000).catch(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      });
      rmSync(root, { recursive: true, force: true });
    },
  };
  return manager;
}

/** A stand-in for the state hub's /state/health, whose answer a test can change at any time. */
export interface FakeHub {
  url: string;
  mode: 'ok' | 'degraded' | 'error' | 'slow' | 'not-json';
  requests: number;
  close(): Promise<void>;
}

export async function startFakeHub(): Promise<FakeHub> {
  const hub = { mode: 'ok', requests: 0 } as FakeHub;
  const server: Server = createServer((req, res) => {
    hub.requests++;
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (hub.mode) {
      case 'ok':
        return send(200, JSON.stringify({ status: 'ok', db: 'up' }));
      case 'degraded':
        return send(200, JSON.stringify({ status: 'degraded', db: 'down' }));
      case 'error':
        return send(503, JSON.stringify({ status: 'starting' }));
      case 'not-json':
        return send(200, '<html>proxy error</html>');
      case 'slow':
        setTimeout(() => send(200, JSON.stringify({ status: 'ok' })), 4000).unref();
        return;
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  hub.url = `http://127.0.0.1:${port}/state/health`;
  hub.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return hub;
}

/** Writes definitions (file name → YAML) into a fresh directory under the manager's root. */
export function writeDefinitions(manager: UserManager, name: string, files: Record<string, string>): string {
  const dir = join(manager.root, 'definitions', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

/** Lines a job appended to a file: `<label> <epoch seconds.fraction>`. */
export function readStamps(path: string): { label: string; at: number }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [label, at] = l.split(' ');
      return { label: label!, at: Number(at) };
    });
}

/** Starts a oneshot service, waits until it is no longer activating, and returns how it ended. */
export async function runUnit(m: UserManager, unit: string) {
  await m.systemctl('start', unit);
  await waitFor(`${unit} to finish`, async () => {
    const s = await m.show(unit, 'ActiveState');
    return s.ActiveState === 'activating' ? undefined : true;
  });
  return m.show(unit, 'ActiveState', 'Result', 'ExecMainStatus');
}
