import { describe, expect, it } from 'vitest';
import { ConfigError, redactUrl } from '../../../src/config/config.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { parseRateLimit } from '../../../src/config/rate-limit.js';

describe('parseRateLimit', () => {
  it.each([
    ['15/s', { max: 15, durationMs: 1000 }],
    ['600/m', { max: 600, durationMs: 60_000 }],
    [' 2 / h ', { max: 2, durationMs: 3_600_000 }],
  ])('reads %s', (text, expected) => {
    expect(parseRateLimit(text)).toEqual(expected);
  });
  it.each(['', '15', '0/s', '-1/s', '1.5/s', '15/d', 's/15', '15/sec'])('refuses %j', (text) => {
    expect(parseRateLimit(text)).toBeUndefined();
  });
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.redisUrlExplicit).toBe(false);
    expect(c.prefix).toBe('rescreen');
    expect(c.vendors.ooto?.baseUrl).toBe('https://cloud.ooto-ai.com');
    expect(c.vendors.glair?.baseUrl).toBe('https://api.vision.glair.ai');
    expect(c.identifyMatchThreshold).toBe(0.75);
    expect(c.logLevel).toBe('info');
    expect(c.vendors.ooto?.rateLimit).toBeUndefined();
    // A dead worker's jobs come back within lock + stalled interval (≤ 45 s); BullMQ renews a live one's lock.
    expect(c.worker.lockDurationMs + c.worker.stalledIntervalMs).toBeLessThanOrEqual(45_000);
    expect(c.worker.concurrencyAuto).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://:pw@10.0.0.1:6380/2',
      RESCREEN_PREFIX: 'rs',
      OOTO_BASE_URL: 'http://127.0.0.1:4010/',
      OOTO_APP_ID: 'app-id',
      OOTO_APP_KEY: 'app-key',
      OOTO_RATE_LIMIT: '15/s',
      GLAIR_BASE_URL: 'http://127.0.0.1:4010',
      GLAIR_USERNAME: 'user',
      GLAIR_PASSWORD: 'pass',
      GLAIR_API_KEY: 'api-key',
      GLAIR_RATE_LIMIT: '600/m',
      IDENTIFY_MATCH_THRESHOLD: '0.8',
      LOG_LEVEL: 'DEBUG',
    });
    expect(c.redisUrlExplicit).toBe(true);
    expect(c.vendors.ooto).toMatchObject({ baseUrl: 'http://127.0.0.1:4010', credentials: { appId: 'app-id', appKey: 'app-key' }, rateLimit: { max: 15, durationMs: 1000 } });
    expect(c.vendors.ooto?.quota?.text).toBe('15/s');
    expect(c.vendors.glair?.rateLimit).toEqual({ max: 600, durationMs: 60_000 });
    expect(c.identifyMatchThreshold).toBe(0.8);
    expect(c.logLevel).toBe('debug');
  });

  it.each([
    ['OOTO_RATE_LIMIT', 'fast'],
    ['GLAIR_RATE_LIMIT', '10'],
    ['IDENTIFY_MATCH_THRESHOLD', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['REDIS_URL', 'http://x'],
    ['OOTO_BASE_URL', 'not a url'],
    ['RESCREEN_CONCURRENCY', '0'],
  ])('names the bad variable %s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('never echoes a secret-bearing URL password', () => {
    expect(redactUrl('redis://:hunter2@host:6379')).not.toContain('hunter2');
  });
});
