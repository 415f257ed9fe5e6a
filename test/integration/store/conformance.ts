/**
 * The result store conformance suite: the contract of src/store/types.ts, tested once for every
 * backend (modelled on BullMQ's adapter-conformance suite). A backend's test file calls
 * `describeResultStore(name, makeBackend)`; a new backend only has to pass it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { runSettingsHash, type RunSettings } from '../../../src/store/run-settings.js';
import type { AttemptRow, BatchDistribution, BatchWrite, ResultStore, ResultStoreOptions } from '../../../src/store/types.js';

/** One backend's data, for one test. */
export interface StoreBackend {
  /**
   * A store handle on this backend's data. Handles opened on one backend share the data, as
   * separate processes share one Redis (a backend may give each its own connection).
   */
  open(options?: ResultStoreOptions): ResultStore;
  /** Drops every piece of data of this backend and closes its connections. */
  close(): Promise<void>;
}

/** A record of (batch, line) with sensible defaults. */
export function record(over: Partial<ResultRecord> & Pick<ResultRecord, 'batch' | 'line'>): ResultRecord {
  return {
    subject: 'cust-1',
    ref: `media/${over.line}.jpg`,
    check: 'ooto-deepfake',
    status: 'completed',
    transactionId: `tx-${over.batch}-${over.line}`,
    verdict: 'genuine',
    score: 0.93,
    error: null,
    attempts: 1,
    finishedAt: '2024-05-01T10:00:00.000Z',
    response: { result: { deepfake: { fine: true, score: 0.93 } }, nested: [1, 'two', { three: null }] },
    ...over,
  };
}

/** An attempt-log row of (batch, line) with sensible defaults. */
export function attempt(over: Partial<AttemptRow> & Pick<AttemptRow, 'batch' | 'line'>): AttemptRow {
  return {
    subject: 'cust-1',
    check: 'ooto-deepfake',
    vendor: 'ooto',
    attempt: 1,
    transactionId: `atx-${over.batch}-${over.line}`,
    httpStatus: 200,
    code: null,
    durationMs: 12,
    at: '2024-05-01T10:00:00.000Z',
    worker: 'host:1',
    ...over,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<T = ResultRecord>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

const where = (records: readonly ResultRecord[]) => records.map((r) => `${r.batch}/${r.line}`);

/** Runs the contract against the backend `makeBackend` builds (a fresh one per test). */
export function describeResultStore(name: string, makeBackend: () => StoreBackend | Promise<StoreBackend>): void {
  describe(`${name} (result store contract)`, () => {
    let backend: StoreBackend;
    let store: ResultStore;

    beforeEach(async () => {
      backend = await makeBackend();
      store = backend.open();
    });

    afterEach(async () => {
      await backend.close();
    });

    describe('one record per (batch, line)', () => {
      it('stores a record exactly as given and gets it back', async () => {
        const r = record({ batch: 'b1', line: 3, templateId: null, response: { ü: 'ünïcode', big: 12345678901234, f: 0.1 } });
        expect(await store.put(r)).toEqual({ created: true, finishedBatch: false });
        expect(await store.get('b1', 3)).toEqual(r);
        expect(await store.get('b1', 4)).toBeNull();
        expect(await store.get('b2', 3)).toBeNull();
      });

      it('a returned record is a copy: changing it changes nothing stored', async () => {
        await store.put(record({ batch: 'b', line: 1 }));
        const got = (await store.get('b', 1)) as { subject: string | null };
        got.subject = 'changed';
        expect((await store.get('b', 1))?.subject).toBe('cust-1');
      });

      it('replacing a record keeps one record and moves its counts instead of doubling them', async () => {
        await store.beginBatch('b1', 'm.jsonl');
        await store.put(record({ batch: 'b1', line: 1 }));
        await store.put(record({ batch: 'b1', line: 2, verdict: 'deepfake' }));
        const failed = record({
          batch: 'b1',
          line: 1,
          status: 'failed',
          verdict: null,
          score: null,
          transactionId: null,
          error: { code: 'X', message: 'm' },
        });
        expect(await store.put(failed)).toEqual({ created: false, finishedBatch: false });
        await store.put(record({ batch: 'b1', line: 1, status: 'rejected', verdict: null, score: null, error: { code: 3, message: 'no face' } }));
        const summary = await store.summary('b1');
        expect(summary).toMatchObject({
          batch: 'b1',
          manifest: 'm.jsonl',
          recorded: 2,
          maxLine: 2,
          byStatus: { completed: 1, rejected: 1, failed: 0 },
          byVerdict: { genuine: 0, deepfake: 1, match: 0, 'no-match': 0 },
        });
        expect((await store.get('b1', 1))?.status).toBe('rejected');
        expect(where(await collect(store.stream('b1')))).toEqual(['b1/1', 'b1/2']);
      });

      it('50 concurrent puts of the same line leave one record, one "created", and counts of one', async () => {
        const statuses = ['completed', 'rejected', 'failed'] as const;
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => {
            const status = statuses[i % 3]!;
            return store.put(record({ batch: 'race50', line: 2, status, verdict: status === 'completed' ? 'genuine' : null, transactionId: `t-${i}` }));
          }),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const summary = (await store.summary('race50'))!;
        expect(summary.recorded).toBe(1);
        expect(Object.values(summary.byStatus).reduce((a, b) => a + b, 0)).toBe(1);
        const final = (await store.get('race50', 2))!;
        expect(summary.byStatus[final.status]).toBe(1);
        expect(summary.byVerdict.genuine).toBe(final.status === 'completed' ? 1 : 0);
      });

      it('concurrent puts of the same line from many handles leave one record and counts that add up', async () => {
        const stores = Array.from({ length: 8 }, () => backend.open());
        const statuses = ['completed', 'rejected', 'failed'] as const;
        await Promise.all(
          Array.from({ length: 120 }, (_, i) => {
            const status = statuses[i % 3]!;
            return stores[i % stores.length]!.put(
              record({
                batch: 'race',
                line: 5,
                status,
                verdict: status === 'completed' ? 'match' : null,
                transactionId: `tx-${i}`,
                subject: `s-${i % 4}`,
              }),
            );
          }),
        );
        const summary = await store.summary('race');
        expect(summary?.recorded).toBe(1);
        const total = Object.values(summary!.byStatus).reduce((a, b) => a + b, 0);
        expect(total).toBe(1);
        const final = (await store.get('race', 5))!;
        expect(summary!.byStatus[final.status]).toBe(1);
        expect(summary!.byVerdict.match).toBe(final.status === 'completed' ? 1 : 0);
        // Only the surviving record's transaction id and subject are indexed.
        expect(await store.byTransactionId(final.transactionId!)).toEqual(final);
        const txHits = await Promise.all(Array.from({ length: 120 }, (_, i) => store.byTransactionId(`tx-${i}`)));
        expect(txHits.filter((r) => r !== null)).toEqual([final]);
        const subjectHits = await Promise.all(['s-0', 's-1', 's-2', 's-3'].map((s) => store.bySubject(s)));
        expect(subjectHits.flat()).toEqual([final]);
      });

      it('has() answers for many lines in one call', async () => {
        await store.putMany([record({ batch: 'b', line: 1 }), record({ batch: 'b', line: 3 })]);
        expect(await store.has('b', [1, 2, 3, 4])).toEqual([true, false, true, false]);
        expect(await store.has('b', [])).toEqual([]);
        expect(await store.has('other', [1])).toEqual([false]);
      });

      it('putMany stores all records and counts them', async () => {
        const records = Array.from({ length: 250 }, (_, i) =>
          record({ batch: 'many', line: i + 1, status: 'failed', verdict: null, score: null, transactionId: null }),
        );
        expect(await store.putMany(records)).toEqual({ finishedBatch: false, finishedBatches: [] });
        expect(await store.putMany([])).toEqual({ finishedBatch: false, finishedBatches: [] });
        expect((await store.summary('many'))?.byStatus).toEqual({ completed: 0, rejected: 0, failed: 250 });
        expect((await store.summary('many'))?.recorded).toBe(250);
      });

      it('an invalid record is a TypeError and nothing of that call is written', async () => {
        const bad = { ...record({ batch: 'v', line: 2 }), line: 0 };
        await expect(store.put(bad)).rejects.toThrow(TypeError);
        await expect(store.put({ ...record({ batch: 'v', line: 1 }), batch: 'a\nb' })).rejects.toThrow(TypeError);
        await expect(store.put({ ...record({ batch: 'v', line: 1 }), status: 'done' as never })).rejects.toThrow(TypeError);
        await expect(store.putMany([record({ batch: 'v', line: 1 }), bad])).rejects.toThrow(TypeError);
        expect(await store.has('v', [1, 2])).toEqual([false, false]);
        expect(await store.summary('v')).toBeNull();
      });

      it('batch ids with ":" (timestamps) do not collide with other batches', async () => {
        await store.put(record({ batch: '2024-05-01T10:00:00Z', line: 1 }));
        await store.put(record({ batch: '2024-05-01T10:00:00Z:records', line: 1, subject: 'other' }));
        expect((await store.get('2024-05-01T10:00:00Z', 1))?.subject).toBe('cust-1');
        expect((await store.summary('2024-05-01T10:00:00Z'))?.recorded).toBe(1);
      });
    });

    describe('indexes', () => {
      it('finds a record by transaction id, and forgets an id its record no longer carries', async () => {
        await store.put(record({ batch: 'b', line: 1, transactionId: 'tx-old' }));
        expect((await store.byTransactionId('tx-old'))?.line).toBe(1);
        await store.put(record({ batch: 'b', line: 1, transactionId: 'tx-new' }));
        expect(await store.byTransactionId('tx-old')).toBeNull();
        expect((await store.byTransactionId('tx-new'))?.transactionId).toBe('tx-new');
        expect(await store.byTransactionId('nope')).toBeNull();
        expect(await store.byTransactionId('')).toBeNull();
        // A replacement without a transaction id drops it too.
        await store.put(record({ batch: 'b', line: 1, transactionId: null }));
        expect(await store.byTransactionId('tx-new')).toBeNull();
      });

      it('an id carried by two records finds the later one; once that one drops it, the id finds nothing', async () => {
        await store.put(record({ batch: 'b', line: 1, transactionId: 'dup' }));
        await store.put(record({ batch: 'c', line: 7, transactionId: 'dup' }));
        expect(where([(await store.byTransactionId('dup'))!])).toEqual(['c/7']);
        // The earlier carrier dropping the id does not unindex the later one.
        await store.put(record({ batch: 'b', line: 1, transactionId: 'other' }));
        expect(where([(await store.byTransactionId('dup'))!])).toEqual(['c/7']);
        // The index holds one record per id: when its record drops the id, the id finds nothing.
        await store.put(record({ batch: 'b', line: 1, transactionId: 'dup' }));
        await store.put(record({ batch: 'b', line: 2, transactionId: 'dup' }));
        await store.put(record({ batch: 'b', line: 2, transactionId: 'gone' }));
        expect(await store.byTransactionId('dup')).toBeNull();
      });

      it('lists a subject across batches oldest first, and follows a subject change on replace', async () => {
        await store.put(record({ batch: 'b2', line: 1, subject: 'alice', finishedAt: '2024-05-03T00:00:00.000Z' }));
        await store.put(record({ batch: 'b1', line: 9, subject: 'alice', finishedAt: '2024-05-01T00:00:00.000Z' }));
        await store.put(record({ batch: 'b1', line: 2, subject: 'alice', finishedAt: '2024-05-02T00:00:00.000Z' }));
        await store.put(record({ batch: 'b1', line: 3, subject: null }));
        expect(where(await store.bySubject('alice'))).toEqual(['b1/9', 'b1/2', 'b2/1']);
        expect(where(await store.bySubject('alice', 2))).toEqual(['b1/9', 'b1/2']);
        expect(await store.bySubject('alice', 0)).toEqual([]);
        await store.put(record({ batch: 'b1', line: 2, subject: 'bob' }));
        expect(where(await store.bySubject('alice'))).toEqual(['b1/9', 'b2/1']);
        expect(where(await store.bySubject('bob'))).toEqual(['b1/2']);
        expect(await store.bySubject('nobody')).toEqual([]);
        expect(await store.bySubject('')).toEqual([]);
      });

      it('a replacement with a later finishedAt moves the record to its new place in the subject list', async () => {
        await store.put(record({ batch: 'b', line: 1, subject: 'carol', finishedAt: '2024-05-01T00:00:00.000Z' }));
        await store.put(record({ batch: 'b', line: 2, subject: 'carol', finishedAt: '2024-05-02T00:00:00.000Z' }));
        await store.put(record({ batch: 'b', line: 1, subject: 'carol', finishedAt: '2024-05-03T00:00:00.000Z', attempts: 2 }));
        const list = await store.bySubject('carol');
        expect(where(list)).toEqual(['b/2', 'b/1']);
        expect(list[1]?.attempts).toBe(2);
      });
    });

    describe('stream', () => {
      it('streams records in line order, in chunks, skipping missing lines', async () => {
        const small = backend.open({ streamChunkSize: 3 });
        const lines = [9, 2, 14, 1, 5, 11, 3];
        await store.putMany(lines.map((line) => record({ batch: 's', line })));
        expect((await collect(small.stream('s'))).map((r) => r.line)).toEqual([1, 2, 3, 5, 9, 11, 14]);
        expect(await collect(store.stream('missing'))).toEqual([]);
      });

      it('crosses chunk boundaries exactly (lines on, before and after each boundary)', async () => {
        const small = backend.open({ streamChunkSize: 4 });
        const lines = Array.from({ length: 17 }, (_, i) => i + 1);
        await store.putMany([...lines].reverse().map((line) => record({ batch: 'edge', line })));
        await store.put(record({ batch: 'other', line: 5 }));
        const seen = await collect(small.stream('edge'));
        expect(seen.map((r) => r.line)).toEqual(lines);
        expect(new Set(seen.map((r) => r.batch))).toEqual(new Set(['edge']));
        expect(seen[7]).toEqual(record({ batch: 'edge', line: 8 }));
      });

      it('a stream of a running batch picks up records that arrive while it reads', async () => {
        const small = backend.open({ streamChunkSize: 2 });
        await store.putMany([1, 2, 3, 4].map((line) => record({ batch: 'live', line })));
        const seen: number[] = [];
        for await (const r of small.stream('live')) {
          seen.push(r.line);
          if (r.line === 2) await store.putMany([record({ batch: 'live', line: 7 }), record({ batch: 'live', line: 6 })]);
        }
        expect(seen).toEqual([1, 2, 3, 4, 6, 7]);
      });
    });

    describe('batches', () => {
      it('summary: null for an unknown batch, every status and verdict present, producer fields', async () => {
        expect(await store.summary('unknown')).toBeNull();
        await store.beginBatch('b', 'data/m.csv');
        const fresh = await store.summary('b');
        expect(fresh).toEqual({
          batch: 'b',
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          manifest: 'data/m.csv',
          finishedAt: null,
          producerDone: false,
          total: 0,
          maxLine: 0,
          recorded: 0,
          byStatus: { completed: 0, rejected: 0, failed: 0 },
          byVerdict: { genuine: 0, deepfake: 0, match: 0, 'no-match': 0 },
        });
        await store.put(record({ batch: 'b', line: 4 }));
        expect(await store.finishBatch('b', { total: 10, maxLine: 12 })).toEqual({ finishedBatch: false });
        expect(await store.summary('b')).toMatchObject({ producerDone: true, total: 10, maxLine: 12, recorded: 1, finishedAt: null });
        // A second enqueue keeps the first createdAt and says the producer is reading again.
        await sleep(5);
        await store.beginBatch('b', 'data/m.csv');
        const again = await store.summary('b');
        expect(again?.createdAt).toBe(fresh?.createdAt);
        expect(again?.producerDone).toBe(false);
        // A beginBatch without a manifest keeps the one recorded.
        await store.beginBatch('b', null);
        expect((await store.summary('b'))?.manifest).toBe('data/m.csv');
      });

      it('failures: failed records by (code, stoppedBy), most first, moving with a replacement and an erasure', async () => {
        const failed = (line: number, code: string | number, stoppedBy?: ResultRecord['stoppedBy'], subject = 'cust-1') =>
          record({ batch: 'f', line, subject, status: 'failed', verdict: null, score: null, transactionId: null, error: { code, message: 'm' }, ...(stoppedBy ? { stoppedBy } : {}) });
        await store.put(failed(1, 'VENDOR_TIMEOUT', 'call-budget'));
        await store.put(failed(2, 'VENDOR_TIMEOUT', 'call-budget', 'cust-2'));
        await store.put(failed(3, 'VENDOR_CONNECTION', 'call-budget'));
        await store.put(failed(4, 'VENDOR_TIMEOUT', 'attempts'));
        await store.putMany([failed(5, 'MEDIA_NOT_FOUND'), failed(6, 5)]);
        // Neither a rejected record nor a completed one counts.
        await store.put(record({ batch: 'f', line: 7, status: 'rejected', verdict: null, score: null, error: { code: 5, message: 'no face' } }));
        await store.put(record({ batch: 'f', line: 8 }));
        // The record keeps its stoppedBy as given.
        expect(await store.get('f', 1)).toEqual(failed(1, 'VENDOR_TIMEOUT', 'call-budget'));
        expect((await store.summary('f'))?.failures).toEqual([
          { code: 'VENDOR_TIMEOUT', stoppedBy: 'call-budget', count: 2 },
          { code: '5', stoppedBy: null, count: 1 },
          { code: 'MEDIA_NOT_FOUND', stoppedBy: null, count: 1 },
          { code: 'VENDOR_CONNECTION', stoppedBy: 'call-budget', count: 1 },
          { code: 'VENDOR_TIMEOUT', stoppedBy: 'attempts', count: 1 },
        ]);
        // A replacement moves the line's failure (a retry that completed, one that failed otherwise).
        await store.put(record({ batch: 'f', line: 1 }));
        await store.put(failed(4, 'HTTP_500', 'call-budget'));
        await store.put(failed(3, 'VENDOR_CONNECTION', 'call-budget'));
        // An erasure takes the subject's failure out (line 2).
        await store.forgetSubject('cust-2');
        expect((await store.summary('f'))?.failures).toEqual([
          { code: '5', stoppedBy: null, count: 1 },
          { code: 'HTTP_500', stoppedBy: 'call-budget', count: 1 },
          { code: 'MEDIA_NOT_FOUND', stoppedBy: null, count: 1 },
          { code: 'VENDOR_CONNECTION', stoppedBy: 'call-budget', count: 1 },
        ]);
        // Once none is left, the summary has no failures at all.
        for (const line of [3, 4, 5, 6]) await store.put(record({ batch: 'f', line }));
        const summary = await store.summary('f');
        expect(summary?.byStatus.failed).toBe(0);
        expect(summary && 'failures' in summary).toBe(false);
      });

      it('a put registers its batch; maxLine follows the highest line put', async () => {
        await store.put(record({ batch: 'p', line: 8 }));
        await store.put(record({ batch: 'p', line: 3 }));
        expect(await store.summary('p')).toMatchObject({
          batch: 'p',
          createdAt: expect.stringMatching(/^\d{4}-/),
          manifest: null,
          producerDone: false,
          maxLine: 8,
          recorded: 2,
        });
      });

      it('lists batches newest first, including batches first seen through put', async () => {
        await store.beginBatch('first', null);
        await sleep(5);
        await store.put(record({ batch: 'second', line: 1 }));
        await sleep(5);
        await store.beginBatch('third', null);
        await store.beginBatch('first', null);
        expect(await store.listBatches()).toEqual(['third', 'second', 'first']);
        expect(await store.listBatches(2)).toEqual(['third', 'second']);
        expect(await store.listBatches(0)).toEqual([]);
        expect((await store.summary('second'))?.manifest).toBeNull();
      });
    });

    describe('a batch is announced finished exactly once', () => {
      it('the write that records its last line, after the producer is done, says so', async () => {
        const finished: string[] = [];
        const announcing = backend.open({ onBatchFinished: async (b) => void finished.push(b) });
        await announcing.beginBatch('f', null);
        expect(await announcing.put(record({ batch: 'f', line: 1 }))).toEqual({ created: true, finishedBatch: false });
        expect(await announcing.finishBatch('f', { total: 2, maxLine: 2 })).toEqual({ finishedBatch: false });
        expect(finished).toEqual([]);
        expect(await announcing.putMany([record({ batch: 'f', line: 2 })])).toEqual({ finishedBatch: true, finishedBatches: ['f'] });
        expect(finished).toEqual(['f']);
        expect((await announcing.summary('f'))?.finishedAt).toMatch(/^\d{4}-/);
        // Replacing a record (retry) or enqueueing again does not finish it a second time.
        expect(await announcing.put(record({ batch: 'f', line: 2, status: 'failed' }))).toEqual({ created: false, finishedBatch: false });
        await announcing.beginBatch('f', null);
        expect(await announcing.finishBatch('f', { total: 2, maxLine: 2 })).toEqual({ finishedBatch: false });
        expect(finished).toEqual(['f']);
        // A producer that finishes after the last record finishes the batch itself.
        await announcing.beginBatch('g', null);
        await announcing.put(record({ batch: 'g', line: 1 }));
        expect(await announcing.finishBatch('g', { total: 1, maxLine: 1 })).toEqual({ finishedBatch: true });
        expect(finished).toEqual(['f', 'g']);
      });

      it('finishedAt stays once set, and a store without a hook still answers finishedBatch', async () => {
        await store.beginBatch('h', null);
        await store.put(record({ batch: 'h', line: 1 }));
        expect(await store.finishBatch('h', { total: 1, maxLine: 1 })).toEqual({ finishedBatch: true });
        const first = (await store.summary('h'))?.finishedAt;
        expect(first).toMatch(/^\d{4}-/);
        await sleep(5);
        await store.beginBatch('h', null);
        await store.put(record({ batch: 'h', line: 1, attempts: 3 }));
        await store.finishBatch('h', { total: 1, maxLine: 1 });
        expect((await store.summary('h'))?.finishedAt).toBe(first);
      });

      it('under concurrent last puts from many handles, exactly one call finishes the batch', async () => {
        const finished: string[] = [];
        const hook = { onBatchFinished: async (b: string) => void finished.push(b) };
        const stores = Array.from({ length: 6 }, () => backend.open(hook));
        const lines = Array.from({ length: 12 }, (_, i) => i + 1);
        await store.beginBatch('last', null);
        await store.finishBatch('last', { total: lines.length, maxLine: lines.length });
        // Every line put three times, from different handles, all at once.
        const writes = lines.flatMap((line) => [0, 1, 2].map((k) => stores[(line + k) % stores.length]!.put(record({ batch: 'last', line, attempts: k + 1 }))));
        const results = await Promise.all(writes);
        expect(results.filter((r) => r.finishedBatch)).toHaveLength(1);
        expect(results.filter((r) => r.created)).toHaveLength(lines.length);
        expect(finished).toEqual(['last']);
        expect(await store.summary('last')).toMatchObject({ recorded: lines.length, finishedAt: expect.stringMatching(/^\d{4}-/) });
      });

      it('when the producer\'s finishBatch races the last put, exactly one of them finishes the batch', async () => {
        const finished: string[] = [];
        const hook = { onBatchFinished: async (b: string) => void finished.push(b) };
        const producer = backend.open(hook);
        const worker = backend.open(hook);
        const batches = Array.from({ length: 20 }, (_, i) => `race-${i}`);
        for (const batch of batches) {
          await store.beginBatch(batch, null);
          await store.put(record({ batch, line: 1 }));
        }
        const outcomes = await Promise.all(
          batches.map(async (batch): Promise<BatchWrite[]> =>
            Promise.all([producer.finishBatch(batch, { total: 2, maxLine: 2 }), worker.put(record({ batch, line: 2 }))]),
          ),
        );
        for (const pair of outcomes) expect(pair.filter((w) => w.finishedBatch)).toHaveLength(1);
        expect([...finished].sort()).toEqual([...batches].sort());
      });

      it('a failing hook fails the write that finished the batch, and is not called again', async () => {
        let calls = 0;
        const failing = backend.open({
          onBatchFinished: () => {
            calls += 1;
            return Promise.reject(new Error('webhook queue down'));
          },
        });
        await failing.beginBatch('x', null);
        await failing.finishBatch('x', { total: 1, maxLine: 1 });
        await expect(failing.put(record({ batch: 'x', line: 1 }))).rejects.toThrow('webhook queue down');
        expect(await failing.put(record({ batch: 'x', line: 1 }))).toEqual({ created: false, finishedBatch: false });
        expect(calls).toBe(1);
        expect((await store.summary('x'))?.finishedAt).toMatch(/^\d{4}-/);
      });
    });
    describe('the attempt log', () => {
      it('appends rows, never replaces one, and finds a row by any transaction id', async () => {
        const first = attempt({ batch: 'a', line: 1, transactionId: 'tx-1', httpStatus: 500, code: 'HTTP_500', endpoint: 'http://127.0.0.1:4010' });
        const second = attempt({ batch: 'a', line: 1, attempt: 2, transactionId: 'tx-2' });
        await store.appendAttempts([first]);
        await store.appendAttempts([second, attempt({ batch: 'a', line: 2, transactionId: null, httpStatus: 429, code: 'HTTP_429' })]);
        await store.appendAttempts([]);
        await store.put(record({ batch: 'a', line: 1, transactionId: 'tx-2' }));
        expect(await store.attemptsOf('a', 1)).toEqual([first, second]);
        expect(await store.attemptsOf('a', 3)).toEqual([]);
        expect((await collect(store.streamAttempts('a'))).map((r) => `${r.line}/${r.httpStatus}`)).toEqual(['1/500', '1/200', '2/429']);
        expect(await collect(store.streamAttempts('none'))).toEqual([]);
        // The record carries only its last call's id; the first call's id still leads to the line.
        expect(await store.byTransactionId('tx-1')).toBeNull();
        const row = await store.attemptByTransactionId('tx-1');
        expect(row).toEqual(first);
        expect((await store.get(row!.batch, row!.line))?.transactionId).toBe('tx-2');
        expect(await store.attemptByTransactionId('nope')).toBeNull();
        expect(await store.attemptByTransactionId('')).toBeNull();
      });

      it('streams a long log in chunks, in append order', async () => {
        const small = backend.open({ streamChunkSize: 7 });
        const rows = Array.from({ length: 30 }, (_, i) => attempt({ batch: 'long', line: (i % 5) + 1, attempt: i + 1 }));
        await store.appendAttempts(rows);
        expect((await collect(small.streamAttempts('long'))).map((r) => r.attempt)).toEqual(rows.map((r) => r.attempt));
      });
    });

    describe('run settings', () => {
      const sim: RunSettings = {
        rescreenVersion: '1.2.3',
        vendor: 'ooto',
        baseUrl: 'http://127.0.0.1:4010',
        simulator: true,
        identifyMatchThreshold: 0.75,
        keepResponse: 'minimal',
        maxResponseBytes: 65_536,
      };
      const real: RunSettings = { ...sim, baseUrl: 'https://api.ooto.example', simulator: false };

      it('keeps each distinct configuration once per batch, the first time it was seen, oldest first', async () => {
        expect(await store.runSettings('s')).toEqual([]);
        expect(await store.recordRunSettings('s', real, '2024-05-01T10:00:02.000Z')).toBe(true);
        expect(await store.recordRunSettings('s', sim, '2024-05-01T10:00:01.000Z')).toBe(true);
        // Equal settings, from another handle (another worker) and later: nothing changes.
        expect(await backend.open().recordRunSettings('s', { ...sim }, '2024-05-01T10:00:09.000Z')).toBe(false);
        // Fields beyond the settings are not part of them.
        expect(await store.recordRunSettings('s', { ...real, extra: 'x' } as RunSettings, '2024-05-01T10:00:09.000Z')).toBe(false);
        expect(await store.recordRunSettings('s', { ...sim, identifyMatchThreshold: 0.8 }, '2024-05-01T10:00:03.000Z')).toBe(true);
        expect(await store.recordRunSettings('other', sim, '2024-05-01T10:00:05.000Z')).toBe(true);
        const entries = await store.runSettings('s');
        expect(entries.map((e) => [e.baseUrl, e.identifyMatchThreshold, e.firstSeenAt])).toEqual([
          ['http://127.0.0.1:4010', 0.75, '2024-05-01T10:00:01.000Z'],
          ['https://api.ooto.example', 0.75, '2024-05-01T10:00:02.000Z'],
          ['http://127.0.0.1:4010', 0.8, '2024-05-01T10:00:03.000Z'],
        ]);
        expect(entries[0]).toEqual({ ...sim, hash: runSettingsHash(sim), firstSeenAt: '2024-05-01T10:00:01.000Z' });
        expect(new Set(entries.map((e) => e.hash)).size).toBe(3);
        expect(await store.runSettings('other')).toHaveLength(1);
      });

      it('go with their batch on purge, and stay on forget', async () => {
        for (const batch of ['old', 'running']) {
          await store.beginBatch(batch, null);
          await store.put(record({ batch, line: 1, subject: 'gone' }));
          await store.recordRunSettings(batch, sim, '2024-05-01T10:00:00.000Z');
        }
        await store.finishBatch('old', { total: 1, maxLine: 1 });
        await store.forgetSubject('gone');
        expect(await store.runSettings('old')).toHaveLength(1);
        await store.purgeFinishedBefore(new Date(Date.now() + 60_000));
        expect(await store.runSettings('old')).toEqual([]);
        expect(await store.runSettings('running')).toHaveLength(1);
      });
    });

    describe('erasure', () => {
      it('forgetSubject erases the records and attempt rows of one subject, across batches, and moves the counts', async () => {
        await store.beginBatch('e1', null);
        await store.put(record({ batch: 'e1', line: 1, subject: 'gone', transactionId: 'g1' }));
        await store.put(record({ batch: 'e1', line: 2, subject: 'kept', verdict: 'deepfake' }));
        await store.put(record({ batch: 'e2', line: 1, subject: 'gone', status: 'failed', verdict: null, transactionId: 'g2' }));
        await store.appendAttempts([
          attempt({ batch: 'e1', line: 1, subject: 'gone', transactionId: 'g1' }),
          attempt({ batch: 'e1', line: 2, subject: 'kept', transactionId: 'k1' }),
          attempt({ batch: 'e2', line: 1, subject: 'gone', transactionId: 'g2a' }),
          attempt({ batch: 'e2', line: 1, subject: 'gone', transactionId: 'g2' }),
        ]);
        expect(await store.forgetSubject('gone')).toEqual({ records: 2, attempts: 3 });
        expect(await store.bySubject('gone')).toEqual([]);
        expect(await store.get('e1', 1)).toBeNull();
        expect(await store.byTransactionId('g1')).toBeNull();
        expect(await store.attemptByTransactionId('g2a')).toBeNull();
        expect(await store.attemptByTransactionId('k1')).not.toBeNull();
        expect(await store.summary('e1')).toMatchObject({ recorded: 1, byStatus: { completed: 1, rejected: 0, failed: 0 }, byVerdict: { deepfake: 1, genuine: 0 } });
        expect(await store.summary('e2')).toMatchObject({ recorded: 0, byStatus: { completed: 0, rejected: 0, failed: 0 } });
        expect((await collect(store.streamAttempts('e1'))).map((r) => r.subject)).toEqual(['kept']);
        expect(await store.forgetSubject('gone')).toEqual({ records: 0, attempts: 0 });
        expect(await store.forgetSubject('')).toEqual({ records: 0, attempts: 0 });
      });

      it('purgeFinishedBefore drops whole finished batches before the date, and nothing else', async () => {
        for (const batch of ['old', 'running']) {
          await store.beginBatch(batch, null);
          await store.put(record({ batch, line: 1, subject: `s-${batch}`, transactionId: `t-${batch}` }));
          await store.appendAttempts([attempt({ batch, line: 1, subject: `s-${batch}`, transactionId: `a-${batch}` })]);
        }
        await store.finishBatch('old', { total: 1, maxLine: 1 });
        const cut = new Date(Date.now() + 60_000);
        expect(await store.purgeFinishedBefore(new Date(Date.now() - 60_000))).toEqual({ batches: 0, records: 0, attempts: 0 });
        expect(await store.purgeFinishedBefore(cut)).toEqual({ batches: 1, records: 1, attempts: 1 });
        expect(await store.summary('old')).toBeNull();
        expect(await store.listBatches()).toEqual(['running']);
        expect(await store.byTransactionId('t-old')).toBeNull();
        expect(await store.attemptByTransactionId('a-old')).toBeNull();
        expect(await store.bySubject('s-old')).toEqual([]);
        expect((await store.get('running', 1))?.subject).toBe('s-running');
        expect(await store.attemptByTransactionId('a-running')).not.toBeNull();
      });
    });

    describe('score distributions (drift)', () => {
      const dist = (scored: number): BatchDistribution => ({
        signature: `sig-${scored}`,
        computedAt: '2024-05-01T10:00:00.000Z',
        byCheck: { 'ooto-deepfake': { scored, bins: Array.from({ length: 20 }, (_, i) => (i === 19 ? scored : 0)), verdicts: { genuine: scored } } },
        canaryLines: { from: 3, to: 4 },
      });

      it('keeps a batch\'s distributions as given, replaces them, and keeps nothing for an unknown batch', async () => {
        expect(await store.distribution('d')).toBeNull();
        await store.keepDistribution('d', dist(1));
        expect(await store.distribution('d')).toBeNull();
        expect(await store.summary('d')).toBeNull();
        await store.beginBatch('d', 'm.jsonl');
        await store.keepDistribution('d', dist(1));
        expect(await store.distribution('d')).toEqual(dist(1));
        await store.keepDistribution('d', dist(2));
        expect(await store.distribution('d')).toEqual(dist(2));
        expect(await store.summary('d')).toMatchObject({ batch: 'd', recorded: 0 });
        expect(await store.summary('d')).not.toHaveProperty('failures');
        // Another handle sees it (another process).
        expect(await backend.open().distribution('d')).toEqual(dist(2));
      });

      it('purge drops the distributions with their batch', async () => {
        await store.beginBatch('old', null);
        await store.put(record({ batch: 'old', line: 1 }));
        await store.finishBatch('old', { total: 1, maxLine: 1 });
        await store.keepDistribution('old', dist(1));
        await store.purgeFinishedBefore(new Date(Date.now() + 60_000));
        expect(await store.distribution('old')).toBeNull();
        await store.beginBatch('old', null);
        expect(await store.distribution('old')).toBeNull();
      });
    });
  });
}
