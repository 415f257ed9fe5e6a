/** An in-process `rescreen serve` on a harness's Redis and prefix, its log lines captured. */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createMetrics, openRuntime, type Metrics, type Runtime } from '../../src/app/index.js';
import { loadConfig } from '../../src/runtime/built-ins.js';
import { parseServerEnv, type ServerConfig } from '../../src/config/server.js';
import { buildServer } from '../../src/server/index.js';
import type { Harness } from './pipeline.js';

export interface TestServer {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  /** Every log line written so far (JSON text). */
  readonly logs: string[];
  close(): Promise<void>;
}

export function serverConfig(env: Record<string, string>): ServerConfig {
  const parsed = parseServerEnv(env);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return parsed;
}

/** `options.queuesUi`: mount Bull Board at /queues (`serve --queues-ui`). */
export async function startTestServer(h: Harness, serverEnv: Record<string, string>, env: Record<string, string> = {}, options: { queuesUi?: boolean } = {}): Promise<TestServer> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      logs.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const config = loadConfig({ ...h.env, ...env });
  const runtime = await openRuntime(config, pino({ level: 'debug' }, sink));
  const metrics = createMetrics(runtime);
  const app = await buildServer({ runtime, server: serverConfig(serverEnv), metrics, version: '0.0.0-test', queuesUi: options.queuesUi === true });
  await app.ready();
  return {
    app,
    runtime,
    metrics,
    logs,
    close: async () => {
      await app.close();
      await runtime.close();
    },
  };
}
