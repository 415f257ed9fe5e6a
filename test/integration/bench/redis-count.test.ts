/**
 * The bench's Redis counter (bench/redis-count.ts), against a real Redis: what it calls one round
 * trip (a lone command, a pipeline, a MULTI/EXEC, a script), how it names them, and that the
 * server-side figures include the commands a script runs. The counts feed bench (b)'s report, so
 * a miscount would mislead whoever folds round trips.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRedis, genericKey, startRedisMeter, total } from '../../../bench/redis-count.js';
import { startPrivateRedis, type PrivateRedis } from '../../helpers/private-redis.js';
import { dropPrefix, freshPrefix, redisClient } from '../../helpers/redis.js';

interface Scripted {
  benchTestIncr(key: string, field: string): Promise<number>;
}

describe('bench Redis counter (client-side)', () => {
  const clients: Redis[] = [];
  let prefix = '';
  afterEach(async () => {
    const cleaner = redisClient();
    await dropPrefix(cleaner, prefix);
    await cleaner.quit();
    await Promise.all(clients.splice(0).map((c) => c.quit()));
  });
  const client = (): Redis => {
    const c = redisClient();
    clients.push(c);
    return c;
  };

  it('counts a lone command as one round trip, a pipeline and a MULTI/EXEC as one each, every command of them as a command', async () => {
    prefix = freshPrefix('count');
    const redis = client();
    await redis.ping(); // connected before the count starts
    const count = countRedis(genericKey(prefix, { batch: 'b-1' }));
    await redis.hget(`${prefix}:store:batch:b-1:records`, '7');
    await redis.pipeline().rpush(`${prefix}:l`, 'x').hset(`${prefix}:h`, 'f', 'v').sadd(`${prefix}:s:42`, 'm').exec();
    await redis.multi().hincrby(`${prefix}:h`, 'a', 1).hincrby(`${prefix}:h`, 'b', 1).exec();
    const tally = count.stop();
    expect(tally.roundTrips).toBe(3);
    // 1 + 3 + (MULTI, 2 × HINCRBY, EXEC)
    expect(tally.commands).toBe(8);
    expect(Object.fromEntries(tally.byRoundTrip)).toEqual({
      'HGET <p>:store:batch:<batch>:records': 1,
      'pipeline: RPUSH <p>:l, HSET <p>:h, SADD <p>:s:<n>': 1,
      'MULTI/EXEC: HINCRBY <p>:h ×2': 1,
    });
  });

  it('names a script round trip after its defineCommand name (a BullMQ-style version tail dropped), on every connection', async () => {
    prefix = freshPrefix('count');
    const a = client();
    const b = client();
    for (const c of [a, b]) c.defineCommand('benchTestIncr:5.81.5', { numberOfKeys: 1, lua: "return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)" });
    const incr = (c: Redis) => (c as unknown as Record<string, Scripted['benchTestIncr']>)['benchTestIncr:5.81.5']!.bind(c);
    await a.ping();
    await b.ping();
    const count = countRedis(genericKey(prefix));
    // The first call on a connection goes out as EVAL (the script text), later ones as EVALSHA: one name.
    await incr(a)(`${prefix}:h`, 'x');
    await incr(a)(`${prefix}:h`, 'x');
    await incr(b)(`${prefix}:h`, 'x');
    const tally = count.stop();
    expect(Object.fromEntries(tally.byRoundTrip)).toEqual({ 'EVALSHA benchTestIncr': 3 });
    expect(tally.roundTrips).toBe(3);
    expect(Number(await a.hget(`${prefix}:h`, 'x'))).toBe(3);
  });

  it('counts nothing outside a count, and refuses a second count while one runs', async () => {
    prefix = freshPrefix('count');
    const redis = client();
    await redis.set(`${prefix}:before`, '1');
    const count = countRedis(genericKey(prefix));
    expect(() => countRedis(genericKey(prefix))).toThrow(/already under way/);
    await redis.get(`${prefix}:before`);
    const tally = count.stop();
    await redis.set(`${prefix}:after`, '1');
    expect(tally.roundTrips).toBe(1);
    expect(tally.commands).toBe(1);
    expect([...tally.byRoundTrip.keys()]).toEqual(['GET <p>:before']);
    // Stopped: a new count may start, and starts from zero.
    const next = countRedis(genericKey(prefix));
    expect(next.stop().commands).toBe(0);
  });
});

describe('bench Redis meter (server-side, private redis-server)', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('reports the commands Redis ran, those inside a script too, without its own INFO calls', async () => {
    const stats = new Redis(server.url);
    const redis = new Redis(server.url);
    try {
      redis.defineCommand('benchTestTwice', { numberOfKeys: 1, lua: "redis.call('HINCRBY', KEYS[1], 'a', 1) redis.call('HINCRBY', KEYS[1], 'b', 1) return 1" });
      await redis.ping();
      await stats.ping();
      const meter = await startRedisMeter(stats, genericKey('k'));
      for (let i = 0; i < 5; i++) await (redis as unknown as Record<string, (key: string) => Promise<number>>).benchTestTwice!('k:h');
      await redis.hget('k:h', 'a');
      const use = await meter.stop();
      expect(use.client.roundTrips).toBe(6);
      // 5 scripts (the first one as EVAL) + their 10 HINCRBY + 1 HGET; no INFO.
      expect(Object.fromEntries(use.server)).toEqual({ eval: 1, evalsha: 4, hincrby: 10, hget: 1 });
      expect(total(use.server)).toBe(16);
      expect(use.processCpuMs).toBeGreaterThanOrEqual(0);
      expect(use.redisCpuMs).toBeGreaterThanOrEqual(0);
      // Idempotent: a second stop answers the same figures.
      expect(await meter.stop()).toBe(use);
    } finally {
      await Promise.all([stats.quit(), redis.quit()]);
    }
  });
});
