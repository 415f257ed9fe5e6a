/**
 * The main path end to end, in-process: manifest → producer → BullMQ → worker → vendor simulator →
 * result store, for all four checks, with a real Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { STORE_KINDS, createHarness, runToEnd, sha256, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
let runtime: Runtime;


async function records(batch: string): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

function runBatch(manifest: string, batch: string) {
  return runToEnd(runtime, manifest, batch);
}

describe.each(STORE_KINDS)('a mixed-check batch (%s store)', (store) => {
  beforeEach(async () => {
    h = await createHarness('mixed', {}, {}, { store });
    runtime = await h.openRuntime();
  });
  afterEach(async () => {
    await h.close();
  });

  it('ends every line as exactly one correct record', async () => {
    const noFace = sampleJpeg({ seed: 3, directives: 'noface' });
    await h.file('genuine.jpg', sampleJpeg({ seed: 1, directives: 'genuine,score=0.97' }));
    await h.file('fake.png', samplePng({ seed: 2, directives: 'fake,score=0.12' }));
    await h.file('noface.jpg', noFace);
    await h.file('alice-probe.jpg', sampleJpeg({ seed: 4, directives: 'face=alice' }));
    await h.file('bob.png', samplePng({ seed: 5, directives: 'face=bob' }));
    await h.file('real.mp4', sampleMp4({ seed: 6, directives: 'genuine' }));
    await h.file('fake.mp4', sampleMp4({ seed: 7, directives: 'fake' }));
    await h.file('huge.mp4', sampleMp4({ seed: 8, padToBytes: 7 * 1024 * 1024 }));
    await h.file('f/1.jpg', sampleJpeg({ seed: 9, directives: 'genuine' }));
    await h.file('f/2.png', samplePng({ seed: 10 }));
    await h.file('empty.jpg', Buffer.alloc(0));
    await h.file('not-an-image.jpg', 'GIF89a this is not a jpeg');
    h.sim.addTemplate(sampleJpeg({ seed: 100, directives: 'face=alice' }), 'tmpl-alice');
    const manifest = await h.manifest('batch.jsonl', [
      { ref: 'genuine.jpg', check: 'ooto-deepfake', subject: 's1' },
      { ref: 'fake.png', check: 'ooto-deepfake', subject: 's2' },
      { ref: 'noface.jpg', check: 'ooto-deepfake', subject: 's3' },
      { ref: 'alice-probe.jpg', check: 'ooto-identify', subject: 's4', options: { checkLiveness: true, checkDeepfake: true } },
      { ref: 'bob.png', check: 'ooto-identify', subject: 's5' },
      { ref: 'real.mp4', check: 'glair-video', subject: 's6' },
      { ref: 'fake.mp4', check: 'glair-video', subject: 's7' },
      { ref: 'huge.mp4', check: 'glair-video', subject: 's8' },
      { frames: ['f/1.jpg', 'f/2.png'], check: 'glair-frames', subject: 's9' },
      { ref: 'empty.jpg', check: 'ooto-deepfake', subject: 's10' },
      { ref: 'not-an-image.jpg', check: 'ooto-deepfake', subject: 's11' },
      { ref: 'missing.jpg', check: 'ooto-deepfake', subject: 's12' },
      { ref: 'genuine.jpg', check: 'no-such-check', subject: 's13' },
    ]);

    expect(runtime.storeKind).toBe(store);
    const enq = await runBatch(manifest, 'mixed-1');
    expect(enq).toMatchObject({ lines: 13, enqueued: 12, invalid: 1 });

    const all = await records('mixed-1');
    expect(all.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const by = (line: number) => all[line - 1]!;
    expect(by(1)).toMatchObject({ status: 'completed', verdict: 'genuine', score: 0.97, subject: 's1', error: null });
    expect(by(2)).toMatchObject({ status: 'completed', verdict: 'deepfake', score: 0.12 });
    expect(by(3)).toMatchObject({ status: 'rejected', verdict: null, score: null, error: { code: 5 } });
    expect(by(4)).toMatchObject({ status: 'completed', verdict: 'match', templateId: 'tmpl-alice' });
    expect(by(4).score).toBeGreaterThanOrEqual(0.9);
    expect(by(4).response).toMatchObject({ result: { face: { liveness: {}, deepfake: {} } } });
    expect(by(5)).toMatchObject({ status: 'completed', verdict: 'no-match' });
    expect(by(6)).toMatchObject({ status: 'completed', verdict: 'genuine' });
    expect(by(7)).toMatchObject({ status: 'completed', verdict: 'deepfake' });
    expect(by(7).score).toBeLessThan(0.5);
    expect(by(8)).toMatchObject({ status: 'rejected', transactionId: null, error: { code: 'MEDIA_TOO_LARGE' } });
    expect(by(9)).toMatchObject({ status: 'completed', check: 'glair-frames', frames: ['f/1.jpg', 'f/2.png'] });
    expect(by(10)).toMatchObject({ status: 'rejected', transactionId: null, error: { code: 'MEDIA_EMPTY' } });
    expect(by(11)).toMatchObject({ status: 'rejected', transactionId: null, error: { code: 'MEDIA_UNSUPPORTED_TYPE' } });
    expect(by(12)).toMatchObject({ status: 'failed', transactionId: null, error: { code: 'MEDIA_NOT_FOUND' } });
    expect(by(13)).toMatchObject({ status: 'failed', transactionId: null, attempts: 0, error: { code: 'INVALID_LINE' } });

    // Every vendor answer carries its transaction id, and each is retrievable.
    for (const r of all.filter((x) => x.status === 'completed' || x.error?.code === 5)) {
      expect(r.transactionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await runtime.store.byTransactionId(r.transactionId!)).toEqual(r);
    }
    // No paid call for media the vendor would refuse anyway: 8 calls for 8 sendable lines.
    expect(h.sim.stats().totalCalls).toBe(8);
    // Engine code 5: called once, rejected with its code and transaction id.
    expect(h.sim.stats().callsByMediaSha256[sha256(noFace)]).toBe(1);
    expect(by(3).transactionId).toMatch(/^[0-9a-f-]{36}$/);

    const summary = await runtime.store.summary('mixed-1');
    expect(summary).toMatchObject({ total: 13, recorded: 13, byStatus: { completed: 7, rejected: 4, failed: 2 } });
    expect((await runtime.store.bySubject('s4')).map((r) => r.line)).toEqual([4]);

    // Finished jobs left Redis: the store is the record of truth.
    const counts = await runtime.queues.ooto!.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('re-running enqueue on a finished batch adds nothing and calls no vendor', async () => {
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    await h.file('b.mp4', sampleMp4({ seed: 2 }));
    const manifest = await h.manifest('m.jsonl', [
      { ref: 'a.jpg', check: 'ooto-deepfake' },
      { ref: 'b.mp4', check: 'glair-video' },
      { ref: 'a.jpg', check: 'bogus' },
    ]);
    await runBatch(manifest, 'again');
    const before = await records('again');
    const calls = h.sim.stats().totalCalls;
    expect(calls).toBe(2);

    const second = await runBatch(manifest, 'again');
    expect(second).toMatchObject({ enqueued: 0, alreadyRecorded: 3 });
    expect(h.sim.stats().totalCalls).toBe(calls);
    expect(await records('again')).toEqual(before);
  });

  it('transient failures are retried and end completed; a vendor that never recovers ends failed', async () => {
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    await h.file('b.jpg', sampleJpeg({ seed: 2 }));
    // 500s spend attempts (a gateway's 503 would not: see ../outage/vendor-storm.test.ts).
    h.sim.failNext(3, '500', 'ooto');
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    await runBatch(manifest, 'flaky');
    const [a] = await records('flaky');
    expect(a).toMatchObject({ status: 'completed' });
    expect(a!.attempts).toBeGreaterThanOrEqual(2);

    h.sim.configure({ failureRate: 1, failureKinds: ['500'] });
    const manifest2 = await h.manifest('m2.jsonl', [{ ref: 'b.jpg', check: 'ooto-deepfake' }]);
    await runBatch(manifest2, 'dead');
    const [b] = await records('dead');
    // Each attempt's 500 is a call that reached the vendor: the line stops at its call budget
    // (RESCREEN_MAX_CALLS_PER_LINE, default 4) rather than at the last of its 5 attempts.
    // The code is the cause (the last 500); the budget that ended the line is stoppedBy.
    expect(b).toMatchObject({ status: 'failed', attempts: 4, stoppedBy: 'call-budget', error: { code: 'HTTP_500' } });
    expect(b!.error!.message).toMatch(/^OOTO server error \(HTTP 500\).*; 4 vendor calls made for this line without a usable answer; the limit is RESCREEN_MAX_CALLS_PER_LINE=4$/);
  });
});
