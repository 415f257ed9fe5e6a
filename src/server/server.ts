/**
 * `rescreen serve`: the HTTP API (Fastify 5, zod schemas → validation, types and OpenAPI 3.1 at
 * /openapi.json), the dashboard at /, and /healthz, /readyz, /metrics. Every route calls the
 * application layer the CLI uses.
 *
 * Access: with tokens configured, /api/* needs `Authorization: Bearer <token>` (401 without; 403 for
 * a read-only token on a state-changing route); /healthz, /readyz, /metrics, / and /openapi.json stay
 * open. With `queuesUi`, Bull Board at /queues, for operator tokens only (./queues-ui.ts). Every
 * state-changing request is logged with who, what and when (`audit: true`).
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Metrics, Runtime } from '../app/index.js';
import type { ServerConfig } from '../config/server.js';
import { apiPlugin, STATE_CHANGING } from './api.js';
import { finishDocument } from './openapi-doc.js';
import { QUEUES_UI_PATH, queuesUiPlugin } from './queues-ui.js';
import { problem, sendProblem, toProblem } from './problem.js';
import { MANIFEST_TYPES } from './routes/batches.js';
import { dashboardRoutes, healthRoutes } from './routes/ops.js';

export interface ServerOptions {
  readonly runtime: Runtime;
  readonly server: ServerConfig;
  readonly metrics: Metrics;
  /** The package version, in the OpenAPI document. */
  readonly version: string;
  /** `--queues-ui`: Bull Board at /queues, operators only, read-only (./queues-ui.ts). */
  readonly queuesUi?: boolean;
}

/** pino's Logger as Fastify's base logger type (the instance is the same). */
function fastifyLogger(runtime: Runtime): FastifyBaseLogger {
  return runtime.log;
}

/** Builds the server (not listening: `listen` it, or `inject` requests in tests). */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { runtime, metrics } = options;
  const app = Fastify({
    loggerInstance: fastifyLogger(runtime),
    // Our own lines instead: one per response at debug, an audit line per state-changing request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.server.bodyLimitBytes,
    // Slow or stalled clients do not hold sockets for ever.
    requestTimeout: 120_000,
    connectionTimeout: 0,
    keepAliveTimeout: 10_000,
    routerOptions: { maxParamLength: 1000 },
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // A manifest upload reaches the route as a stream (written to a file with a byte limit), never buffered.
  app.addContentTypeParser(MANIFEST_TYPES, (_req, payload, done) => done(null, payload));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'rescreen',
        version: options.version,
        description: 'Batches, results and operations of rescreen. Errors are application/problem+json with the CLI’s codes.',
        // package.json says UNLICENSED: proprietary, no licence granted.
        license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
      },
      // Relative: the server this document was fetched from.
      servers: [{ url: '/', description: 'this rescreen serve' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => {
      const result = jsonSchemaTransformObject(doc);
      const out = result as { paths?: Record<string, Record<string, Record<string, unknown>>> };
      // The upload body is a raw stream (no zod schema can validate a stream): described here.
      const post = out.paths?.['/api/batches']?.post;
      if (post) {
        post.requestBody = {
          required: true,
          content: {
            'application/json': { schema: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } } },
            ...Object.fromEntries(MANIFEST_TYPES.map((t) => [t, { schema: { type: 'string' } }])),
          },
        };
      }
      // A retry without a body retries every failed line.
      const retry = out.paths?.['/api/batches/{id}/retry']?.post?.requestBody as { required?: boolean } | undefined;
      if (retry) retry.required = false;
      for (const open of ['/healthz', '/readyz', '/metrics']) {
        const get = out.paths?.[open]?.get;
        if (get) get.security = [];
      }
      finishDocument(out);
      return result;
    },
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(reply, toProblem(error, request)));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  app.addHook('onResponse', async (request, reply) => {
    const what = { method: request.method, route: request.routeOptions.url ?? null, params: request.params, query: request.query, status: reply.statusCode };
    if (STATE_CHANGING.has(request.method)) {
      // The audit trail: who (token name, never the token), what, when, from where, and the answer.
      request.log.info({ audit: true, who: request.caller?.name ?? 'unauthenticated', ...what, at: new Date().toISOString(), from: request.ip, ms: Math.round(reply.elapsedTime) }, 'api action');
    } else {
      request.log.debug({ ...what, ms: Math.round(reply.elapsedTime) }, 'api request');
    }
  });

  const ctx = { runtime, manifestRoot: options.server.manifestRoot, bodyLimitBytes: options.server.bodyLimitBytes };
  healthRoutes(app, runtime, metrics);
  // The API, with its access rule, in a plugin of its own: the hook never reaches the open routes.
  await app.register(apiPlugin, { prefix: '/api', tokens: options.server.tokens, ctx });
  if (options.queuesUi === true) await app.register(queuesUiPlugin, { prefix: QUEUES_UI_PATH, tokens: options.server.tokens, runtime });
  await dashboardRoutes(app);
  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));
  return app;
}

/**
 * The small server of `rescreen work --metrics-port`: /healthz, /readyz and /metrics only (no API,
 * no dashboard), so an orchestrator can probe and scrape a worker.
 */
export async function buildOpsServer(runtime: Runtime, metrics: Metrics): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: fastifyLogger(runtime), logController: new LogController({ disableRequestLogging: true }), return503OnClosing: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(reply, toProblem(error, request)));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));
  healthRoutes(app, runtime, metrics);
  return app;
}
