import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { scheduledTimeOf } from '../../../src/schedules/worker.js';

type FiringJob = Pick<Job, 'id' | 'repeatJobKey' | 'opts' | 'timestamp' | 'delay'>;
const job = (patch: Partial<FiringJob>): FiringJob => ({ opts: {}, timestamp: 1_000, delay: 0, ...patch });

describe('scheduledTimeOf (the slot of a firing job)', () => {
  it('reads the slot from the scheduler job id, whatever opts.prevMillis says (every-schedulers leave it unset)', () => {
    expect(scheduledTimeOf(job({ id: 'repeat:nightly:1748743200000', repeatJobKey: 'nightly', timestamp: 5, delay: 7 }))).toBe(1_748_743_200_000);
    expect(scheduledTimeOf(job({ id: 'repeat:a.b-c:1748743200123', repeatJobKey: 'a.b-c', opts: { prevMillis: 42 } }))).toBe(1_748_743_200_123);
  });

  it('falls back to opts.prevMillis, then timestamp + delay', () => {
    expect(scheduledTimeOf(job({ id: 'dup-1', opts: { prevMillis: 1_748_743_200_000 } }))).toBe(1_748_743_200_000);
    expect(scheduledTimeOf(job({ id: 'repeat:other:123', repeatJobKey: 'nightly', timestamp: 10_000, delay: 500 }))).toBe(10_500);
  });
});
