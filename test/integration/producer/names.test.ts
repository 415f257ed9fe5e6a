import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultJobOptions, jobId, parseJobId, queueName } from '../../../src/queueing/names.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';

describe('queue names and job ids', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    redis = redisClient();
    prefix = freshPrefix('names');
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('one queue per vendor', () => {
    expect(queueName('ooto')).toBe('ooto');
    expect(queueName('glair')).toBe('glair');
  });

  it('job ids are deterministic, one-to-one, free of ":" and never integer-like', () => {
    const batches = ['b', '123', '2024-05-01T10:00:00+07:00', 'a:b:c', 'x%3Ay', 'x:y', 'odd#name'];
    const ids = new Set<string>();
    for (const batch of batches) {
      for (const line of [1, 2, 10, 12345678]) {
        const id = jobId(batch, line);
        expect(id).toBe(jobId(batch, line));
        expect(id).not.toContain(':');
        expect(`${Number.parseInt(id, 10)}`).not.toBe(id);
        expect(parseJobId(id)).toEqual({ batch, line });
        ids.add(id);
      }
    }
    expect(ids.size).toBe(batches.length * 4);
    expect(jobId('2024-05-01T10:00:00Z', 7)).toBe('2024-05-01T10%3A00%3A00Z#7');
    expect(parseJobId('no-line')).toBeNull();
  });

  it('BullMQ accepts the ids and the default options (exponential backoff with jitter)', async () => {
    const queue = new Queue('ooto', { connection: redis, prefix, defaultJobOptions: defaultJobOptions({ attempts: 4, backoffMs: 250 }) });
    try {
      const job = await queue.add('ooto-deepfake', { x: 1 }, { jobId: jobId('2024-05-01T10:00:00+07:00', 42) });
      expect(job.id).toBe('2024-05-01T10%3A00%3A00+07%3A00#42');
      const again = await queue.add('ooto-deepfake', { x: 2 }, { jobId: jobId('2024-05-01T10:00:00+07:00', 42) });
      expect(again.id).toBe(job.id);
      expect(await queue.count()).toBe(1);
      const stored = await queue.getJob(job.id!);
      expect(stored?.opts).toMatchObject({
        attempts: 4,
        backoff: { type: 'exponential', delay: 250, jitter: 0.5 },
        removeOnComplete: true,
        removeOnFail: true,
      });
    } finally {
      await queue.close();
    }
  });
});
