/**
 * Each input is read once (issue 17): an override text is parsed once however often the fleet reads
 * it, the quota in force is worked out when the overrides are read (not on every vendor call), and
 * the CLI reads its environment once per process.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { cliConfig } from '../../../src/cli/context.js';
import { parseOverride, QuotaWatcher } from '../../../src/quota/limits.js';
import { isQuotaError, parseQuota } from '../../../src/quota/spec.js';

describe('parse once', () => {
  it('an override text is parsed once: the same text gives the same quota object', () => {
    const first = parseOverride('15/s,800/m burst 5');
    expect(first).toMatchObject({ quota: { text: '15/s,800/m burst 5', burst: 5 } });
    expect(parseOverride('15/s,800/m burst 5')).toBe(first);
    expect(parseOverride('none')).toEqual({ quota: undefined });
    expect(parseOverride('15/x')).toMatchObject({ error: expect.stringContaining('must read') });
  });

  it('QuotaWatcher.current() looks the quota up: no Redis read and no parse per call', async () => {
    const env = parseQuota('10/s');
    if (isQuotaError(env)) throw new Error(env.error);
    let reads = 0;
    const overrides = { ooto: JSON.stringify({ text: '20/s', setAt: '2024-01-01T00:00:00Z' }) };
    const redis = { hgetall: async () => (reads++, overrides) } as never;
    const watcher = new QuotaWatcher(redis, 'p', { ooto: env, glair: undefined }, pino({ level: 'silent' }), 60_000);
    await watcher.refresh();
    const quota = watcher.current('ooto');
    expect(quota?.text).toBe('20/s');
    for (let i = 0; i < 1000; i++) expect(watcher.current('ooto')).toBe(quota);
    expect(watcher.current('glair')).toBeUndefined();
    expect(reads).toBe(1);
    // A new override text is seen at the next read, not before.
    overrides.ooto = JSON.stringify({ text: 'none', setAt: '2024-01-01T00:00:01Z' });
    expect(watcher.current('ooto')).toBe(quota);
    await watcher.refresh();
    expect(watcher.current('ooto')).toBeUndefined();
  });

  it('the CLI reads its environment once per process', () => {
    expect(cliConfig()).toBe(cliConfig());
  });
});
