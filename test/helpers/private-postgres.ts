/**
 * A private PostgreSQL server for tests that crash it: `initdb` into a temp folder, trust auth,
 * listening on 127.0.0.1 at a free port, started and stopped with `pg_ctl` (Debian's server binaries,
 * /usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root, so under root every server
 * command runs as the `postgres` user (`runuser`). `stop()` leaves nothing behind: the server is
 * stopped (killed if need be) and the folder removed.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { realClockEnv } from './cli.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** The newest server binaries folder, or undefined when no PostgreSQL server is installed. */
function binaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** The uid/gid to run the server as when we are root (PostgreSQL will not run as root). */
function serverUser(): { uid: number; gid: number } | undefined | 'missing' {
  if (userInfo().uid !== 0) return undefined;
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : '';
  const fields = passwd.split('\n').find((l) => l.startsWith('postgres:'))?.split(':');
  if (fields === undefined) return 'missing';
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Why a private PostgreSQL cannot run here (the test says so and skips), or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  if (binaries() === undefined) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  if (serverUser() === 'missing') return 'running as root and there is no postgres user to run the server as';
  if (userInfo().uid === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return 'running as root without runuser (util-linux)';
  return undefined;
}

export interface PrivatePostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  /** `pg_ctl stop -m immediate`: every backend killed at once, no checkpoint (a crash, as far as clients see). */
  crash(): Promise<void>;
  /** Starts it again (crash recovery from the WAL); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (immediately) and removes its folder. Safe to call twice, and after a failed start. */
  stop(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const unavailable = privatePostgresUnavailable();
  if (unavailable !== undefined) throw new Error(unavailable);
  const bin = binaries()!;
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'rescreen-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asServer = async (command: string, args: string[], timeout = 60_000): Promise<void> => {
    const file = join(bin, command);
    const options = { timeout, cwd: dir, env: realClockEnv() };
    if (typeof user === 'object') await run('runuser', ['-u', 'postgres', '--', file, ...args], options);
    else await run(file, args, options);
  };
  const port = await freePort();
  let stopped = false;

  const pgCtl = (...args: string[]) => asServer('pg_ctl', ['-D', data, '-l', logFile, ...args]);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await pgCtl('stop', '-m', 'immediate', '-w', '-t', '30').catch(() => undefined);
    // A server pg_ctl could not stop (or a half-started one) is killed by its pid file.
    const pid = await readFile(join(data, 'postmaster.pid'), 'utf8').then((t) => Number(t.split('\n')[0]), () => NaN);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    if (typeof user === 'object') await chown(dir, user.uid, user.gid);
    await asServer('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    await appendFile(
      join(data, 'postgresql.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        // Nothing here outlives the test; a crash is of the server process, not of the machine.
        'fsync = off',
        'max_connections = 60',
        'shared_buffers = 16MB',
        '',
      ].join('\n'),
    );
    const server: PrivatePostgres = {
      port,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      crash: () => pgCtl('stop', '-m', 'immediate', '-w', '-t', '30'),
      start: async () => {
        await pgCtl('start', '-w', '-t', '60');
        await waitUntilAccepting(server.url);
      },
      stop,
    };
    await server.start();
    return server;
  } catch (error) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    throw new Error(`the private PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}\n${log.slice(-2000)}`);
  }
}

async function waitUntilAccepting(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
