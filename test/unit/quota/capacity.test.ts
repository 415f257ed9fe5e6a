import { describe, expect, it } from 'vitest';
import { autoConcurrency, capacityShortfall, type Heartbeat } from '../../../src/quota/capacity.js';

const beat = (concurrency: number, latencyMs: number | undefined, auto = false): Heartbeat => ({
  id: `w${concurrency}-${latencyMs}`,
  at: Date.now(),
  vendors: { ooto: { concurrency, latencyMs, auto } },
});

describe('enough in flight', () => {
  it('says when a fixed concurrency cannot reach the quota, in the words of the README', () => {
    expect(capacityShortfall('ooto', 15, [beat(16, 1400)])).toBe(
      'ooto: 16 in flight × 1.4 s latency ≈ 11/s, below the 15/s quota: raise RESCREEN_CONCURRENCY',
    );
  });

  it('counts the whole fleet, and says nothing when it can reach the quota or nothing is known', () => {
    expect(capacityShortfall('ooto', 15, [beat(16, 1400), beat(16, 1400)])).toBeUndefined();
    expect(capacityShortfall('ooto', undefined, [beat(1, 5000)])).toBeUndefined();
    expect(capacityShortfall('ooto', 15, [beat(1, undefined)])).toBeUndefined();
    expect(capacityShortfall('glair', 15, [beat(1, 5000)])).toBeUndefined();
  });

  it('auto sizes a share of rate × latency with headroom, within bounds', () => {
    expect(autoConcurrency(15, 1400, 1)).toBe(Math.ceil(21 * 1.5) + 2);
    expect(autoConcurrency(15, 1400, 3)).toBe(Math.ceil(7 * 1.5) + 2);
    expect(autoConcurrency(1, 10, 1)).toBe(4);
    expect(autoConcurrency(10_000, 5000, 1)).toBe(256);
  });
});
