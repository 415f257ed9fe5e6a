/** Runs the built `rescreen` CLI (bin/rescreen.js → dist/) as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/rescreen.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The runner's faked clock, when the suite runs under libfaketime (`.ci/run --clock-ahead`): passed
 * on to every process a test starts, so they all read the same (shifted) time as the test does.
 */
const FAKED_CLOCK = /^(FAKETIME\w*|LD_PRELOAD|DONT_FAKE_MONOTONIC)$/;

function fakedClock(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => FAKED_CLOCK.test(e[0]) && e[1] !== undefined));
}

/**
 * The runner's environment without a faked clock, for the servers a test starts (redis-server,
 * PostgreSQL): servers keep the real time, as the machine's own do (and redis-server cannot run
 * under libfaketime at all).
 */
export function realClockEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !FAKED_CLOCK.test(k)));
}

/**
 * A clean environment: PATH and HOME only (and the runner's faked clock), plus what the test gives
 * (no leaking of the runner's env). A test that gives its own FAKETIME ({@link clockAt}) replaces the
 * runner's clock whole (its FAKETIME_SHARED start time would shift an `@` time).
 */
export function cleanEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...('FAKETIME' in env ? {} : fakedClock()), ...env };
}

/** libfaketime as Debian installs it (`apt-get install faketime`); the dynamic loader expands `$LIB`. */
const LIBFAKETIME = '/usr/$LIB/faketime/libfaketime.so.1';

/** Whether libfaketime is installed (where `$LIB` points on this machine's Debian layouts). */
export function haveLibfaketime(): boolean {
  return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((dir) => existsSync(`${dir}/faketime/libfaketime.so.1`));
}

/**
 * The variables that start a child process's clock at `at` (ms since the epoch) and run it on from
 * there at the real pace (libfaketime's `@` form; the monotonic clock stays real): a process started
 * "a day later". `at` is from the test's own clock, so it holds under `.ci/run --clock-ahead` too.
 */
export function clockAt(at: number): Record<string, string> {
  return { FAKETIME: `@${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}`, LD_PRELOAD: LIBFAKETIME, DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' };
}

export function startCli(args: readonly string[], env: Record<string, string>, cwd?: string): ChildProcess & { output(): { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

export async function runCli(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000, cwd?: string): Promise<CliRun> {
  const child = startCli(args, env, cwd);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { code, signal, ...child.output() };
}

/** A word for `sh -c`, quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the CLI under a real pseudo-terminal (util-linux `script`), as on a user's terminal:
 * stdout/stderr are TTYs, and `ctrlC()` types Ctrl-C, which the terminal turns into SIGINT.
 */
export function startCliInPty(args: readonly string[], env: Record<string, string>): ChildProcess & {
  output(): string;
  ctrlC(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  // `exec`: script runs the command through /bin/sh, and dash stays as node's parent; on Ctrl-C it
  // gets the SIGINT too and ends itself with 130 whatever node's exit code was.
  const command = `exec ${[process.execPath, BIN, ...args].map(shellWord).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: cleanEnv({ TERM: 'xterm', ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return Object.assign(child, { output: () => output, ctrlC: () => child.stdin.write('\x03'), exited });
}

/** The last line a terminal shows: after the last CR/LF, without escape sequences and the terminal's `^C` echo. */
export function lastScreenLine(output: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\^C/g, '');
  const lines = plain.split(/\r?\n/).map((l) => l.slice(l.lastIndexOf('\r') + 1)).filter((l) => l.trim() !== '');
  return lines.at(-1) ?? '';
}
