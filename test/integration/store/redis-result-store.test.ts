import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { RedisResultStore } from '../../../src/store/redis-result-store.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let store: RedisResultStore;

beforeEach(() => {
  redis = redisClient();
  prefix = freshPrefix('store');
  store = new RedisResultStore(redis, prefix);
});

afterEach(async () => {
  await dropPrefix(redis, prefix);
  await redis.quit();
});

function record(over: Partial<ResultRecord> & Pick<ResultRecord, 'batch' | 'line'>): ResultRecord {
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

describe('RedisResultStore', () => {
  it('stores a record exactly as given, under the prefix', async () => {
    const r = record({ batch: 'b1', line: 3, templateId: null, response: { ü: 'ünïcode', big: 12345678901234, f: 0.1 } });
    await store.put(r);
    expect(await store.get('b1', 3)).toEqual(r);
    expect(await store.get('b1', 4)).toBeNull();
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`${prefix}:store:`)).toBe(true);
  });

  it('replacing a record moves its counts instead of doubling them', async () => {
    await store.beginBatch('b1', 'm.jsonl');
    await store.put(record({ batch: 'b1', line: 1 }));
    await store.put(record({ batch: 'b1', line: 2, verdict: 'deepfake' }));
    await store.put(
      record({ batch: 'b1', line: 1, status: 'failed', verdict: null, score: null, transactionId: null, error: { code: 'X', message: 'm' } }),
    );
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
  });

  it('concurrent puts of the same line leave one record and counts that add up', async () => {
    const clients = Array.from({ length: 8 }, () => redisClient());
    try {
      const stores = clients.map((c) => new RedisResultStore(c, prefix));
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
      expect(await redis.hlen(`${prefix}:store:tx`)).toBe(1);
      const subjectHits = await Promise.all(['s-0', 's-1', 's-2', 's-3'].map((s) => store.bySubject(s)));
      expect(subjectHits.flat()).toEqual([final]);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
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
    await store.putMany(records);
    await store.putMany([]);
    expect((await store.summary('many'))?.byStatus).toEqual({ completed: 0, rejected: 0, failed: 250 });
  });

  it('streams records in line order, in chunks, skipping missing lines', async () => {
    const small = new RedisResultStore(redis, prefix, { streamChunkSize: 3 });
    const lines = [9, 2, 14, 1, 5, 11, 3];
    await store.putMany(lines.map((line) => record({ batch: 's', line })));
    const seen: number[] = [];
    for await (const r of small.stream('s')) seen.push(r.line);
    expect(seen).toEqual([1, 2, 3, 5, 9, 11, 14]);
    const none: ResultRecord[] = [];
    for await (const r of store.stream('missing')) none.push(r);
    expect(none).toEqual([]);
  });

  it('a stream of a running batch picks up records that arrive while it reads', async () => {
    const small = new RedisResultStore(redis, prefix, { streamChunkSize: 2 });
    await store.putMany([1, 2, 3, 4].map((line) => record({ batch: 'live', line })));
    const seen: number[] = [];
    for await (const r of small.stream('live')) {
      seen.push(r.line);
      if (r.line === 2) await store.putMany([record({ batch: 'live', line: 7 }), record({ batch: 'live', line: 6 })]);
    }
    expect(seen).toEqual([1, 2, 3, 4, 6, 7]);
  });

  it('finds a record by transaction id, and forgets an id its record no longer carries', async () => {
    await store.put(record({ batch: 'b', line: 1, transactionId: 'tx-old' }));
    expect((await store.byTransactionId('tx-old'))?.line).toBe(1);
    await store.put(record({ batch: 'b', line: 1, transactionId: 'tx-new' }));
    expect(await store.byTransactionId('tx-old')).toBeNull();
    expect((await store.byTransactionId('tx-new'))?.transactionId).toBe('tx-new');
    expect(await store.byTransactionId('nope')).toBeNull();
    expect(await store.byTransactionId('')).toBeNull();
  });

  it('lists a subject across batches oldest first, and follows a subject change on replace', async () => {
    await store.put(record({ batch: 'b2', line: 1, subject: 'alice', finishedAt: '2024-05-03T00:00:00.000Z' }));
    await store.put(record({ batch: 'b1', line: 9, subject: 'alice', finishedAt: '2024-05-01T00:00:00.000Z' }));
    await store.put(record({ batch: 'b1', line: 2, subject: 'alice', finishedAt: '2024-05-02T00:00:00.000Z' }));
    await store.put(record({ batch: 'b1', line: 3, subject: null }));
    expect((await store.bySubject('alice')).map((r) => `${r.batch}/${r.line}`)).toEqual(['b1/9', 'b1/2', 'b2/1']);
    expect((await store.bySubject('alice', 2)).map((r) => `${r.batch}/${r.line}`)).toEqual(['b1/9', 'b1/2']);
    await store.put(record({ batch: 'b1', line: 2, subject: 'bob' }));
    expect((await store.bySubject('alice')).map((r) => `${r.batch}/${r.line}`)).toEqual(['b1/9', 'b2/1']);
    expect((await store.bySubject('bob')).map((r) => `${r.batch}/${r.line}`)).toEqual(['b1/2']);
    expect(await store.bySubject('nobody')).toEqual([]);
  });

  it('a batch finishes once: the write that records its last line, after the producer is done, says so', async () => {
    const finished: string[] = [];
    const announcing = new RedisResultStore(redis, prefix, { onBatchFinished: async (b) => void finished.push(b) });
    await announcing.beginBatch('f', null);
    await announcing.put(record({ batch: 'f', line: 1 }));
    await announcing.finishBatch('f', { total: 2, maxLine: 2 });
    expect(finished).toEqual([]);
    await announcing.putMany([record({ batch: 'f', line: 2 })]);
    expect(finished).toEqual(['f']);
    expect((await announcing.summary('f'))?.finishedAt).toMatch(/^\d{4}-/);
    // Replacing a record (retry) or enqueueing again does not finish it a second time.
    await announcing.put(record({ batch: 'f', line: 2, status: 'failed' }));
    await announcing.beginBatch('f', null);
    await announcing.finishBatch('f', { total: 2, maxLine: 2 });
    expect(finished).toEqual(['f']);
    // A producer that finishes after the last record finishes the batch itself.
    await announcing.beginBatch('g', null);
    await announcing.put(record({ batch: 'g', line: 1 }));
    await announcing.finishBatch('g', { total: 1, maxLine: 1 });
    expect(finished).toEqual(['f', 'g']);
  });

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
    await store.finishBatch('b', { total: 10, maxLine: 12 });
    expect(await store.summary('b')).toMatchObject({ producerDone: true, total: 10, maxLine: 12, recorded: 1, finishedAt: null });
    // A second enqueue keeps the first createdAt and says the producer is reading again.
    await new Promise((r) => setTimeout(r, 5));
    await store.beginBatch('b', 'data/m.csv');
    const again = await store.summary('b');
    expect(again?.createdAt).toBe(fresh?.createdAt);
    expect(again?.producerDone).toBe(false);
  });

  it('lists batches newest first, including batches first seen through put', async () => {
    await store.beginBatch('first', null);
    await new Promise((r) => setTimeout(r, 5));
    await store.put(record({ batch: 'second', line: 1 }));
    await new Promise((r) => setTimeout(r, 5));
    await store.beginBatch('third', null);
    await store.beginBatch('first', null);
    expect(await store.listBatches()).toEqual(['third', 'second', 'first']);
    expect(await store.listBatches(2)).toEqual(['third', 'second']);
    expect((await store.summary('second'))?.manifest).toBeNull();
  });

  it('batch ids with ":" (timestamps) do not collide with other batches', async () => {
    await store.put(record({ batch: '2024-05-01T10:00:00Z', line: 1 }));
    await store.put(record({ batch: '2024-05-01T10:00:00Z:records', line: 1, subject: 'other' }));
    expect((await store.get('2024-05-01T10:00:00Z', 1))?.subject).toBe('cust-1');
    expect((await store.summary('2024-05-01T10:00:00Z'))?.recorded).toBe(1);
  });
});
