/**
 * The simulator's own endpoints under `/__sim/`, for tests and tools in another process. No
 * authentication, latency or failures apply to them.
 *
 * - `GET /__sim/health` → `{"ok":true}`
 * - `GET /__sim/identity` → {@link SIMULATOR_IDENTITY}: how a worker tells this simulator from any
 *   other server on a loopback base URL before it uses the simulator's test credentials
 * - `GET /__sim/stats` → {@link SimulatorStats}
 * - `GET /__sim/arrivals` → `{ooto: number[], glair: number[]}`: epoch ms of the calls each vendor's
 *   quota let through (the last 200,000), for measuring how a client spaces its calls
 * - `POST /__sim/reset-stats` → 204
 * - `POST /__sim/configure` with JSON {@link SimulatorSettings} (seed templates by `face` only) → 200
 *   with the settings in force (credentials left out); 400 with the problems otherwise.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { readBody } from './body.js';
import { SIMULATOR_IDENTITY } from './identity.js';
import type { FailureKind, ResolvedSettings, SimulatorSettings } from './options.js';
import type { Reply } from './route.js';
import type { SimulatorStats } from './stats.js';

export const ADMIN_PREFIX = '/__sim/';

/** What the admin endpoints act on. */
export interface AdminTarget {
  stats(): SimulatorStats;
  arrivals(): Record<string, number[]>;
  resetStats(): void;
  configure(patch: SimulatorSettings): void;
  settings(): ResolvedSettings;
}

const rateLimitSchema = z
  .object({
    max: z.number().int().positive(),
    durationMs: z.number().positive(),
    window: z.enum(['fixed', 'first-call', 'wall-clock', 'sliding', 'token-bucket']).optional(),
    burst: z.number().int().positive().optional(),
  })
  .strict()
  .nullable()
  .optional();

const settingsSchema = z
  .object({
    latencyMs: z.number().nonnegative().optional(),
    latencyJitterMs: z.number().nonnegative().optional(),
    failureRate: z.number().min(0).max(1).optional(),
    failureKinds: z.array(z.enum(['500', '503', 'reset', 'timeout'] satisfies FailureKind[])).min(1).optional(),
    rateLimit: z.object({ ooto: rateLimitSchema, glair: rateLimitSchema }).strict().optional(),
    credentials: z
      .object({
        ooto: z.object({ appId: z.string(), appKey: z.string() }).strict().optional(),
        glair: z.object({ username: z.string(), password: z.string(), apiKey: z.string() }).strict().optional(),
      })
      .strict()
      .optional(),
    glairLegacyShape: z.boolean().optional(),
    seedTemplates: z.array(z.object({ face: z.string().min(1), templateId: z.string().min(1).optional() }).strict()).optional(),
    randomSeed: z.number().int().optional(),
  })
  .strict();

export async function handleAdmin(req: IncomingMessage, path: string, target: AdminTarget): Promise<Reply> {
  const route = `${req.method ?? 'GET'} ${path}`;
  switch (route) {
    case 'GET /__sim/health':
      return { status: 200, body: { ok: true } };
    case 'GET /__sim/identity':
      return { status: 200, body: SIMULATOR_IDENTITY };
    case 'GET /__sim/stats':
      return { status: 200, body: target.stats() };
    case 'GET /__sim/arrivals':
      return { status: 200, body: target.arrivals() };
    case 'POST /__sim/reset-stats':
      target.resetStats();
      return { status: 204, body: null };
    case 'POST /__sim/configure': {
      const body = await readBody(req, 1024 * 1024);
      let json: unknown;
      try {
        json = JSON.parse(body.bytes.toString('utf8'));
      } catch {
        return { status: 400, body: { error: 'body is not JSON' } };
      }
      const parsed = settingsSchema.safeParse(json);
      if (!parsed.success) return { status: 400, body: { error: 'invalid settings', issues: parsed.error.issues } };
      try {
        target.configure(withoutUndefined(parsed.data) as SimulatorSettings);
      } catch (error) {
        return { status: 400, body: { error: error instanceof Error ? error.message : String(error) } };
      }
      const { credentials: _hidden, ...shown } = target.settings();
      return { status: 200, body: shown };
    }
    default:
      return { status: 404, body: { error: `no simulator endpoint ${route}` } };
  }
}

/** Drops `undefined` properties (zod's optional output) so the patch fits exact optional types. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, withoutUndefined(v)]),
  );
}
