/**
 * Vitest global set-up: find a real Redis once for the whole run (never a mock):
 * REDIS_URL → 127.0.0.1:6379 → a redis-server started here → testcontainers.
 * Every test then works under its own key prefix (test/helpers/redis.ts).
 */
import type { TestProject } from 'vitest/node';
import { locateRedis, RedisUnavailableError, type LocatedRedis } from '../../src/redis/locate.js';

let located: LocatedRedis | undefined;
let container: { stop(): Promise<unknown> } | undefined;

async function viaTestcontainers(): Promise<string> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const started = await new RedisContainer('redis:7-alpine').start();
  container = started;
  return started.getConnectionUrl();
}

export async function setup(project: TestProject): Promise<void> {
  let url: string;
  try {
    located = await locateRedis(process.env.REDIS_URL || undefined);
    url = located.url;
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    url = await viaTestcontainers();
  }
  process.env.REDIS_URL = url;
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await located?.stop();
  await container?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
