import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StoreOutage, type Pausable } from '../../../src/queueing/store-outage.js';

class FakeWorker implements Pausable {
  pauses = 0;
  resumes = 0;
  pause(): Promise<void> {
    this.pauses += 1;
    return Promise.resolve();
  }
  resume(): void {
    this.resumes += 1;
  }
}

function setUp(options: { stopped?: FakeWorker[] } = {}) {
  const a = new FakeWorker();
  const b = new FakeWorker();
  const stopped = new Set(options.stopped ?? []);
  let closing = false;
  let up = false;
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) });
  const outage = new StoreOutage({
    workers: () => [a, b].filter((w) => !stopped.has(w)),
    mayResume: (w) => !stopped.has(w as FakeWorker),
    closing: () => closing,
    log,
    probeMs: 5,
  });
  const probe = () => (up ? Promise.resolve(null) : Promise.reject(new Error('connect ECONNREFUSED')));
  return { a, b, stopped, outage, probe, lines, back: () => (up = true), close: () => (closing = true) };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('a result store that does not answer', () => {
  it('is not the job’s failure when it answers: nothing paused', async () => {
    const t = setUp();
    t.back();
    expect(await t.outage.down(t.probe)).toBe(false);
    expect([t.a.pauses, t.b.pauses]).toEqual([0, 0]);
  });

  it('pauses every worker once however many jobs meet it, and resumes them when it answers', async () => {
    const t = setUp();
    expect(await Promise.all([t.outage.down(t.probe), t.outage.down(t.probe), t.outage.down(t.probe)])).toEqual([true, true, true]);
    await settle();
    expect([t.a.pauses, t.b.pauses, t.a.resumes]).toEqual([1, 1, 0]);
    t.back();
    await settle();
    expect([t.a.resumes, t.b.resumes]).toEqual([1, 1]);
    expect(t.lines).toEqual([
      'the result store does not answer: this worker takes no job until it does; the jobs wait, no attempt spent',
      'the result store answers again: taking jobs',
    ]);
    // A later outage is a new one.
    expect(await t.outage.down(() => Promise.reject(new Error('again')))).toBe(true);
    await settle();
    expect(t.a.pauses).toBe(2);
    t.close();
  });

  it('never resumes a worker stopped for another reason meanwhile, nor any once the pool closes', async () => {
    const t = setUp();
    await t.outage.down(t.probe);
    await settle();
    t.stopped.add(t.a);
    t.back();
    await settle();
    expect([t.a.resumes, t.b.resumes]).toEqual([0, 1]);

    const u = setUp();
    await u.outage.down(u.probe);
    await settle();
    u.close();
    u.back();
    await settle();
    expect([u.a.resumes, u.b.resumes]).toEqual([0, 0]);
  });
});
