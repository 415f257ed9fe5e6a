import { describe, expect, it } from 'vitest';
import { countedWindows, isQuotaError, parseQuota, spacingWindow, steadyPerSecond, type Quota } from '../../../src/quota/spec.js';

function ok(text: string): Quota {
  const q = parseQuota(text);
  if (isQuotaError(q)) throw new Error(q.error);
  return q;
}

describe('parseQuota', () => {
  it('reads one window, spaced with no burst', () => {
    const q = ok('15/s');
    expect(q).toMatchObject({ burst: 1, auto: false, text: '15/s' });
    expect(q.windows).toEqual([{ max: 15, unit: 's', durationMs: 1000, calendar: false }]);
    expect(steadyPerSecond(q)).toBe(15);
  });

  it('reads several windows and a burst, in any order and case', () => {
    const q = ok(' 50000/d , 15/S,800/m burst 5');
    expect(q.text).toBe('15/s,800/m,50000/d burst 5');
    expect(q.burst).toBe(5);
    // Spacing follows the slowest of the rolling /s and /m windows; /h and /d are counted.
    expect(spacingWindow(q)).toMatchObject({ unit: 'm', max: 800 });
    expect(countedWindows(q).map((w) => [w.unit, w.calendar])).toEqual([['d', true]]);
    expect(steadyPerSecond(q)).toBeCloseTo(800 / 60);
  });

  it('takes burst as its own part too', () => {
    expect(ok('15/s,burst 5').burst).toBe(5);
  });

  it('reads auto, with a ceiling and a budget', () => {
    const q = ok('auto,max 50/s,50000/d');
    expect(q).toMatchObject({ auto: true, autoMaxPerSecond: 50, text: 'auto,max 50/s,50000/d' });
    expect(countedWindows(q)).toHaveLength(1);
    expect(ok('auto').autoMaxPerSecond).toBeUndefined();
    expect(ok('auto, max 120/m').autoMaxPerSecond).toBe(2);
  });

  it('has no spacing for budgets alone', () => {
    const q = ok('1000/h,5000/d');
    expect(spacingWindow(q)).toBeUndefined();
    expect(countedWindows(q).map((w) => w.unit)).toEqual(['h', 'd']);
  });

  it.each(['', 'fast', '15', '0/s', '1.5/s', '15/w', '15/s,20/s', 'max 5/s', '15/s burst 0', 'auto,max 0/s', '15/s burst'])('refuses %j with a message', (text) => {
    const q = parseQuota(text);
    expect(isQuotaError(q)).toBe(true);
    if (isQuotaError(q)) expect(q.error.length).toBeGreaterThan(3);
  });
});
