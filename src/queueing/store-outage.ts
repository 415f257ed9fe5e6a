/**
 * A result store that does not answer (PostgreSQL restarting, a network cut) is an outage, not the
 * failure of the line whose job met it. Left to BullMQ, the job would spend its attempts within the
 * outage, and a job out of attempts ends without a record: a lost line. So the worker process that
 * meets it stops taking jobs, sends the job back without spending an attempt, and looks at the store
 * every second until it answers. (A Redis store needs none of this: its commands wait for Redis.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

/** What the guard pauses: a BullMQ Worker. */
export interface Pausable {
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): void;
}

export interface StoreOutageOptions {
  /** The workers to stop taking jobs now (those still working). */
  readonly workers: () => Pausable[];
  /** Whether a worker may take jobs again (not stopped for another reason meanwhile). */
  readonly mayResume: (worker: Pausable) => boolean;
  /** True once the pool is closing: stop looking. */
  readonly closing: () => boolean;
  readonly log: Logger;
  /** How often the store is looked at, ms. Default 1000. */
  readonly probeMs?: number;
}

export class StoreOutage {
  #waiting: Promise<void> | undefined;

  constructor(private readonly o: StoreOutageOptions) {}

  /**
   * After a job failed outside the line's own outcome: true when the store does not answer `probe`
   * (a read of the job's line) — then the workers stop taking jobs until it does, once per outage
   * however many jobs meet it. False when it answers: the failure is the job's own.
   */
  async down(probe: () => Promise<unknown>): Promise<boolean> {
    if (!(await failing(probe))) return false;
    if (this.#waiting === undefined) this.#waiting = this.#wait(probe).finally(() => (this.#waiting = undefined));
    return true;
  }

  async #wait(probe: () => Promise<unknown>): Promise<void> {
    const { o } = this;
    const paused = o.workers();
    o.log.warn('the result store does not answer: this worker takes no job until it does; the jobs wait, no attempt spent');
    await Promise.all(paused.map((w) => w.pause(true).catch(() => undefined)));
    const started = Date.now();
    while (!o.closing() && (await failing(probe))) await sleep(o.probeMs ?? 1_000);
    if (o.closing()) return;
    for (const w of paused) if (o.mayResume(w)) w.resume();
    o.log.warn({ downMs: Date.now() - started }, 'the result store answers again: taking jobs');
  }
}

async function failing(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return false;
  } catch {
    return true;
  }
}
