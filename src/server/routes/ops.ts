/** Open routes: /healthz, /readyz, /metrics (also served by `work --metrics-port`), and the dashboard's files. */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/**
 * The d3 modules the batch page's drift chart draws its SVG with (dependencies in package.json), in
 * the order their UMD builds need each other: each adds itself to the page's `window.d3`.
 */
export const CHART_MODULES = ['d3-array', 'd3-color', 'd3-interpolate', 'd3-format', 'd3-time', 'd3-time-format', 'd3-scale', 'd3-path', 'd3-shape', 'd3-selection', 'd3-axis'] as const;

/** The d3 modules' UMD builds (their own licence lines kept), one script for `/vendor/d3.js`: served from here, never a CDN. */
export async function chartLibrary(): Promise<Buffer> {
  const require = createRequire(import.meta.url);
  const parts = await Promise.all(
    CHART_MODULES.map(async (name) => {
      // Each package's `exports` has a `umd` entry (dist/<name>.min.js); its main entry sits in dist/ too.
      const dist = dirname(require.resolve(name));
      return readFile(join(dist, `${name}.min.js`));
    }),
  );
  return Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));
}

/** The dashboard: its static files (index.html at /, its ES modules and style sheets; no build step) and the chart library, read once. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const root = webRoot();
  const files = (await readdir(root)).filter((f) => /^[a-z0-9-]+\.(js|css)$/.test(f));
  const d3 = await chartLibrary();
  for (const [url, file] of [['/', 'index.html'], ['/vendor/d3.js', 'd3.js'], ...files.map((f) => [`/${f}`, f])] as const) {
    const body = url === '/vendor/d3.js' ? d3 : await readFile(join(root, file));
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
