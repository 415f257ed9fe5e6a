/** What the outage tests share: polling through an outage, a batch's lines, stopping a child for sure. */
import type { ChildProcess } from 'node:child_process';
import type { ResultStore } from '../../../src/store/types.js';

/**
 * Polls `probe` every 200 ms until `check` holds; a probe that throws (its server is away) counts as
 * "not yet". Throws after `timeoutMs` with the last value or error.
 */
export async function until<T>(probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (check(value)) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? `error: ${error.message}` : error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The line numbers of a batch's records, in store order (each line once if nothing was duplicated). */
export async function batchLines(store: ResultStore, batch: string): Promise<number[]> {
  const lines: number[] = [];
  for await (const r of store.stream(batch)) lines.push(r.line);
  return lines;
}

/** The lines of a batch whose record took more than `max` attempts. */
export async function attemptsAbove(store: ResultStore, batch: string, max: number): Promise<number[]> {
  const lines: number[] = [];
  for await (const r of store.stream(batch)) if (r.attempts > max) lines.push(r.line);
  return lines;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone (at once if it already is). */
export async function stopChild(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
