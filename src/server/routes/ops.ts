/** Open routes: /healthz, /readyz, /metrics (also served by `work --metrics-port`), and the dashboard's files. */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { METRICS_CONTENT_TYPE, readiness, type Metrics, type Runtime } from '../../app/index.js';

const Check = z.object({ ok: z.boolean(), error: z.string().optional() });
const ReadySchema = z.object({
  ready: z.boolean(),
  checks: z.object({ redis: Check, store: Check, vendors: Check }),
});

/** /healthz (the process answers), /readyz (Redis and the store answer, no vendor unreachable past the alert: 200, else 503), /metrics. */
export function healthRoutes(app: FastifyInstance, runtime: Runtime, metrics: Metrics): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: z.object({ ok: z.literal(true) }) } } }, () => Promise.resolve({ ok: true as const }));
  r.get('/readyz', { schema: { tags: ['operations'], summary: 'Redis and the store answer, and no vendor has been unreachable longer than RESCREEN_BREAKER_ALERT_MS (503 when not)', response: { 200: ReadySchema, 503: ReadySchema } } }, async (_req, reply) => {
    const ready = await readiness(runtime);
    return reply.code(ready.ready ? 200 : 503).send(ready);
  });
  r.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: z.string() } } } } } }, async (_req, reply) =>
    reply.type(METRICS_CONTENT_TYPE).send(await metrics.text()),
  );
}

/** The folder of the dashboard's static files (web/ at the package root, from src/ or dist/src/). */
export function webRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'web', 'index.html'))) return join(dir, 'web');
    dir = dirname(dir);
  }
  throw new Error('dashboard files (web/) not found');
}

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The dashboard: its static files (index.html at /, its ES modules and style sheets; no build step), read once. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const root = webRoot();
  const files = (await readdir(root)).filter((f) => /^[a-z0-9-]+\.(js|css)$/.test(f));
  for (const [url, file] of [['/', 'index.html'], ...files.map((f) => [`/${f}`, f])] as const) {
    const body = await readFile(join(root, file));
    const type = TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream';
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
        .send(body),
    );
  }
}
