/**
 * Child processes of the benchmark: one-shot children that print one JSON document on stdout
 * (enqueue sides), and long-lived ones that print one JSON line once ready (the simulator).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Absolute path of a compiled sibling script (`dist/bench/<name>.js`). */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** Runs `node <script> <args>` to its end and parses its stdout as JSON. Rejects on a non-zero exit. */
export async function runJsonChild<T>(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const out = Buffer.concat(chunks).toString('utf8');
  if (code !== 0) throw new Error(`${script} exited with ${String(code)}: ${out.slice(0, 500)}`);
  return JSON.parse(out) as T;
}

/** A child that stays up; `ready` is the first line it printed, parsed. */
export interface LongChild<T> {
  readonly ready: T;
  readonly process: ChildProcess;
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export async function startLongChild<T>(script: string, args: readonly string[]): Promise<LongChild<T>> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)} before it was ready`)));
  });
  lines.close();
  child.stdout.resume();
  return {
    ready: JSON.parse(first) as T,
    process: child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
