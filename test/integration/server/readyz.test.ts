/**
 * /readyz when Redis does not answer: 503 naming the failing checks, never a URL or a trace, and
 * /healthz still 200 (the process is up). A real ioredis client on a port where nothing listens.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Metrics, type Runtime } from '../../../src/app/index.js';
import { buildOpsServer } from '../../../src/server/index.js';
import { RedisResultStore } from '../../../src/store/redis-result-store.js';

const dead = new Redis('redis://:hunter2-password@127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
dead.on('error', () => undefined);
afterAll(() => dead.disconnect());

describe('/readyz', () => {
  it('answers 503 with the failing checks when Redis is gone, while /healthz stays 200', async () => {
    const runtime = { redis: dead, store: new RedisResultStore(dead, 'readyz'), log: pino({ level: 'silent' }) } as unknown as Runtime;
    const app = await buildOpsServer(runtime, new Metrics(() => dead.ping().then(() => { throw new Error('unreachable'); })));
    try {
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const body = res.json<{ ready: boolean; checks: Record<string, { ok: boolean; error?: string }> }>();
      expect(body.ready).toBe(false);
      expect(body.checks.redis!.ok).toBe(false);
      expect(body.checks.store!.ok).toBe(false);
      expect(res.body).not.toContain('hunter2');
      expect(res.body).not.toMatch(/\n\s+at /);
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
      // Metrics still answer: the counters, and a gauge saying the fleet state could not be read.
      const metrics = await app.inject({ url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('rescreen_state_read_ok 0');
      expect(metrics.body).toContain('rescreen_vendor_requests_total');
      expect((await app.inject({ url: '/api/batches' })).statusCode).toBe(404); // the worker's server has no API
    } finally {
      await app.close();
    }
  });
});
