/** The store, cluster and window settings: parsed once, refused with the variable's name. */
import { describe, expect, it } from 'vitest';
import { parseBefore } from '../../../src/app/store-ops.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { assertClusterSafePrefix, isClusterUrl } from '../../../src/redis/connect.js';
import { pgTarget } from '../../../src/store/postgres/connection.js';

describe('store settings', () => {
  it('defaults: results in Redis, minimal answers, a 100k window', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ storeUrl: undefined, keepResponse: 'minimal', maxQueued: 100_000 });
  });

  it('takes a postgres URL with a schema, full answers and a window', () => {
    const c = loadConfig({ RESCREEN_STORE_URL: ' postgresql://u:p@db:5432/r?schema=audit_1 ', RESCREEN_KEEP_RESPONSE: 'FULL', RESCREEN_MAX_QUEUED: '5000' });
    expect(c).toMatchObject({ storeUrl: 'postgresql://u:p@db:5432/r?schema=audit_1', keepResponse: 'full', maxQueued: 5000 });
    expect(pgTarget(c.storeUrl!)).toEqual({ connectionString: 'postgresql://u:p@db:5432/r', schema: 'audit_1' });
    expect(pgTarget('postgres://db/r').schema).toBe('rescreen');
  });

  it('refuses what it cannot use, naming the variable', () => {
    expect(() => loadConfig({ RESCREEN_STORE_URL: 'mysql://db/x' })).toThrow(/RESCREEN_STORE_URL must be a postgres:\/\/ URL/);
    expect(() => loadConfig({ RESCREEN_STORE_URL: 'postgres://db/x?schema=Bad-Name' })).toThrow(/RESCREEN_STORE_URL \?schema= must be a lower-case SQL identifier/);
    expect(() => loadConfig({ RESCREEN_KEEP_RESPONSE: 'some' })).toThrow(/RESCREEN_KEEP_RESPONSE must be full or minimal/);
    expect(() => loadConfig({ RESCREEN_MAX_QUEUED: '0' })).toThrow(/RESCREEN_MAX_QUEUED/);
  });
});

describe('Redis Cluster settings', () => {
  it('a ?cluster=true URL is a cluster; a prefix needs a non-empty hash tag', () => {
    expect(isClusterUrl('redis://n:7000/?cluster=true')).toBe(true);
    expect(isClusterUrl('redis://n:7000/?cluster=1')).toBe(true);
    expect(isClusterUrl('redis://n:6379')).toBe(false);
    expect(() => assertClusterSafePrefix('{rescreen}')).not.toThrow();
    expect(() => assertClusterSafePrefix('team-{a}')).not.toThrow();
    expect(() => assertClusterSafePrefix('rescreen')).toThrow(/set RESCREEN_PREFIX=\{rescreen\}/);
    expect(() => assertClusterSafePrefix('{}x')).toThrow(/set RESCREEN_PREFIX=\{x\}/);
    expect(() => assertClusterSafePrefix('}{')).toThrow(/PREFIX|Cluster/);
  });
});

describe('purge --before', () => {
  it('reads a date (midnight UTC) or a date-time, and refuses anything else', () => {
    expect(parseBefore('2024-05-01').toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseBefore('2024-05-01T12:30:00+02:00').toISOString()).toBe('2024-05-01T10:30:00.000Z');
    for (const bad of ['yesterday', '', '2024-13-45', '1714557600']) expect(() => parseBefore(bad)).toThrow(/--before must be an ISO 8601 date/);
  });
});
