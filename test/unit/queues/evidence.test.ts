/** The evidence trail: attempt rows and media digests from vendor calls, refs without secrets, safe CSV, minimal answers. */
import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { attemptCsvRow, csvColumns, csvRow, csvSafe } from '../../../src/app/csv.js';
import type { ProcessorDeps } from '../../../src/checks/processor.js';
import type { JobPayload } from '../../../src/checks/types.js';
import { ConnectionError, VendorRejectedError } from '../../../src/errors/errors.js';
import { recordRefs } from '../../../src/media/refs.js';
import type { MediaBlob } from '../../../src/media/types.js';
import { CallTrail } from '../../../src/records/call-trail.js';
import { CheckRegistry } from '../../../src/checks/registry.js';
import { runJob } from '../../../src/queueing/job-runner.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { minimiseResponse } from '../../../src/records/stored-response.js';
import type { AttemptRow } from '../../../src/store/types.js';
import { MemoryStore } from '../../helpers/memory-store.js';

const payload: JobPayload = { batch: 'b', line: 2, check: 'glair-frames', subject: 's', frames: ['1.jpg', '2.png'], baseDir: '/m' };
const blob = (text: string, mime: MediaBlob['mime']): MediaBlob => ({ bytes: Buffer.from(text), mime, filename: 'x' });
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

interface FramesClient {
  frames(frames: readonly MediaBlob[]): Promise<{ status: number; transactionId: string | null }>;
  close(): Promise<void>;
}

function fakeDeps(glairFrames: (frames: readonly MediaBlob[]) => Promise<unknown>): ProcessorDeps<FramesClient> {
  return {
    media: {} as ProcessorDeps['media'],
    client: { frames: glairFrames, close: () => Promise.resolve() } as unknown as FramesClient,
    identifyMatchThreshold: 0.75,
  };
}

describe('CallTrail', () => {
  it('logs each answered call (success and refusal), not a call without an HTTP answer, and digests every frame sent', async () => {
    const answers: (() => Promise<unknown>)[] = [
      () => Promise.reject(new VendorRejectedError({ vendor: 'glair', status: 400, headers: {}, body: null, transactionId: 'rid-1', message: 'no', code: 'FAILED' })),
      () => Promise.reject(new ConnectionError('glair', 'reset', { requestSent: true })),
      () => Promise.resolve({ status: 200, transactionId: 'rid-2', result: {}, body: {} }),
    ];
    const trail = new CallTrail(payload, 3, 'host:9', () => new Date('2026-01-01T00:00:00Z'));
    const deps = trail.observe(fakeDeps(() => answers.shift()!()), 'glair') as ProcessorDeps<FramesClient>;
    const frames = [blob('one', 'image/jpeg'), blob('two!', 'image/png')];
    await expect(deps.client.frames(frames)).rejects.toBeInstanceOf(VendorRejectedError);
    await expect(deps.client.frames(frames)).rejects.toBeInstanceOf(ConnectionError);
    await deps.client.frames(frames);
    const appended: AttemptRow[] = [];
    await trail.flush({ appendAttempts: async (rows) => void appended.push(...rows) });
    expect(appended.map((r) => [r.httpStatus, r.transactionId, r.code])).toEqual([
      [400, 'rid-1', 'FAILED'],
      [200, 'rid-2', null],
    ]);
    expect(appended[0]).toMatchObject({ batch: 'b', line: 2, subject: 's', check: 'glair-frames', vendor: 'glair', attempt: 3, worker: 'host:9', at: '2026-01-01T00:00:00.000Z' });
    expect(trail.mediaField()).toEqual({
      media: [
        // Not pictures: digested, and `notHashed` with the decoder's reason (the line goes on).
        { sha256: sha('one'), bytes: 3, type: 'image/jpeg', notHashed: expect.stringMatching(/^undecodable image: /) as string },
        { sha256: sha('two!'), bytes: 4, type: 'image/png', notHashed: expect.stringMatching(/^undecodable image: /) as string },
      ],
    });
    // A second flush has nothing new to append.
    await trail.flush({ appendAttempts: async (rows) => void appended.push(...rows) });
    expect(appended).toHaveLength(2);
  });

  it('runJob appends the attempt rows before the record, which carries the media digest', async () => {
    const store = new MemoryStore();
    const order: string[] = [];
    const append = store.appendAttempts.bind(store);
    store.appendAttempts = async (rows) => {
      order.push('attempts');
      return append(rows);
    };
    const put = store.put.bind(store);
    store.put = async (r) => {
      order.push('record');
      return put(r);
    };
    const processorDeps = fakeDeps(() => Promise.resolve({ status: 200, transactionId: 'rid-9', result: {}, body: {} }));
    const processor = async (_p: JobPayload, d: ProcessorDeps<FramesClient>) => {
      const a = await d.client.frames([blob('f', 'image/jpeg')]);
      return { verdict: 'genuine' as const, score: 0.9, transactionId: a.transactionId, response: { age: 40, result: { value: 'real' }, landmarks: [[1, 2]] } };
    };
    await runJob(
      { payload: { ...payload, frames: ['https://cdn.example/f.jpg?X-Amz-Signature=SECRET#x'] }, attempt: 1, maxAttempts: 3 },
      {
        store,
        checks: new CheckRegistry(BUILT_INS.checks.modules.map((m) => ({ ...m, processor: processor as never })), BUILT_INS.vendors),
        depsFor: () => processorDeps,
        maxRateLimited: 1,
        rateLimitBackoff: { baseMs: 1, maxMs: 1 },
        redact: (t) => t,
        keepResponse: 'minimal',
      },
    );
    expect(order).toEqual(['attempts', 'record']);
    const record = (await store.get('b', 2))!;
    expect(record.media).toEqual([{ sha256: sha('f'), bytes: 1, type: 'image/jpeg', notHashed: expect.stringMatching(/^undecodable image: /) as string }]);
    expect(record.frames).toEqual(['https://cdn.example/f.jpg']);
    expect(record.refHadQuery).toBe(true);
    expect(JSON.stringify(record)).not.toContain('SECRET');
    expect(record.response).toEqual({ result: { value: 'real' } });
    expect((await store.attemptsOf('b', 2)).map((r) => r.transactionId)).toEqual(['rid-9']);
  });
});

describe('refs in records', () => {
  it('drop query string, fragment and user-info, and say one was there', () => {
    expect(recordRefs({ ref: 'https://u:pw@cdn.example/a/b.jpg?token=SECRET&x=1#f' })).toEqual({ ref: 'https://cdn.example/a/b.jpg', refHadQuery: true });
    expect(recordRefs({ ref: 'media/a.jpg' })).toEqual({ ref: 'media/a.jpg' });
    expect(recordRefs({ ref: 'https://cdn.example/a.jpg' })).toEqual({ ref: 'https://cdn.example/a.jpg' });
    expect(recordRefs({ frames: ['f/1.jpg', 'http://h/2.png?sig=1'] })).toEqual({ frames: ['f/1.jpg', 'http://h/2.png'], refHadQuery: true });
  });
});

describe('CSV-injection escaping', () => {
  it('prefixes text cells a spreadsheet would run as a formula, and leaves numbers alone', () => {
    for (const bad of ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', '\rx']) expect(csvSafe(bad)).toBe(`'${bad}`);
    for (const ok of ['a=b', 'plain', '', "'already"]) expect(csvSafe(ok)).toBe(ok);
    const record = {
      batch: 'b',
      line: 1,
      subject: '=HYPERLINK("http://evil","x")',
      ref: '@evil.jpg',
      check: 'ooto-deepfake' as const,
      status: 'completed' as const,
      transactionId: '-tx',
      verdict: 'genuine' as const,
      score: -0.5,
      error: null,
      attempts: 1,
      finishedAt: '2024-01-01T00:00:00.000Z',
      response: null,
    };
    const row = csvRow(record, BUILT_INS.checks.recordFields);
    expect(row).toMatchObject({ subject: `'=HYPERLINK("http://evil","x")`, ref: "'@evil.jpg", transactionId: "'-tx", score: -0.5, line: 1 });
    const text = stringify([row], { header: true, columns: csvColumns(BUILT_INS.checks.recordFields) });
    for (const cell of text.split('\n')[1]!.split(',')) expect(cell).not.toMatch(/^"?[=+@\t\r]/);
    expect(attemptCsvRow({ batch: 'b', line: 1, subject: '+x', check: null, vendor: 'ooto', attempt: 1, transactionId: null, httpStatus: 400, code: -1, durationMs: 3, at: 'now', worker: 'w' })).toMatchObject({
      subject: "'+x",
      code: "'-1",
      httpStatus: 400,
    });
  });
});

describe('RESCREEN_KEEP_RESPONSE=minimal', () => {
  it('drops demography and landmarks at any depth, keeps verdict, scores, box and ids', () => {
    const answer = {
      transactionId: 't',
      result: { deepfake: { score: 0.9, fine: true }, demography: { age: 59, gender: 'male', race: 'x' }, box: { x: 1 }, landmarks: [[1, 2]] },
      faces: [{ Age: 3, emotion: 'happy', similarity: 0.8 }],
    };
    expect(minimiseResponse(answer)).toEqual({ transactionId: 't', result: { deepfake: { score: 0.9, fine: true }, box: { x: 1 } }, faces: [{ similarity: 0.8 }] });
    expect(answer.result.demography.age).toBe(59);
    expect(minimiseResponse(null)).toBeNull();
    expect(minimiseResponse('text')).toBe('text');
  });
});
