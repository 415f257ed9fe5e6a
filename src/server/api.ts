/**
 * `/api`: one encapsulated Fastify plugin carrying its own access rule. With tokens configured every
 * route in it needs `Authorization: Bearer <token>` (401 without; 403 for a read-only token on a
 * state-changing route), an unknown `/api/…` path included (it answers 404 only to a caller who may
 * ask); the routes outside it (/healthz, /readyz, /metrics, the dashboard, /openapi.json) never see
 * the hook.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { TokenVerifier, type Caller } from './auth.js';
import { problem, sendProblem } from './problem.js';
import { batchRoutes } from './routes/batches.js';
import type { RouteContext } from './routes/context.js';
import { lookupRoutes } from './routes/lookups.js';
import { caseRoutes } from './routes/cases.js';
import { driftRoutes } from './routes/drift.js';
import { mediaRoutes } from './routes/media.js';
import { ringRoutes } from './routes/rings.js';
import type { ApiToken } from '../config/server.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** Methods that change state: a read-only token may not use them. */
export const STATE_CHANGING: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The state-changing routes a `reviewer` token may use: the review queue's (claim, decide, release). */
export function isReviewRoute(url: string | undefined): boolean {
  return url !== undefined && /\/cases(\/|$)/.test(url);
}

export interface ApiOptions {
  readonly tokens: readonly ApiToken[];
  readonly ctx: RouteContext;
}

/** The `/api` plugin: register it with `{ prefix: '/api' }`. */
export const apiPlugin: FastifyPluginAsync<ApiOptions> = async (api: FastifyInstance, { tokens, ctx }) => {
  const verifier = new TokenVerifier(tokens);
  api.addHook('onRequest', async (request, reply) => {
    const caller = verifier.verify(request.headers.authorization);
    if (!caller) {
      reply.header('www-authenticate', 'Bearer realm="rescreen"');
      return sendProblem(reply, problem(401, 'UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)'));
    }
    request.caller = caller;
    if (STATE_CHANGING.has(request.method) && caller.role === 'read') {
      return sendProblem(reply, problem(403, 'FORBIDDEN', `token "${caller.name}" is read-only`));
    }
    // A reviewer reads and decides; pausing, cancelling, raising, enqueueing and retrying are an operator's (403, audit-logged).
    if (STATE_CHANGING.has(request.method) && caller.role === 'reviewer' && !isReviewRoute(request.routeOptions.url)) {
      return sendProblem(reply, problem(403, 'FORBIDDEN', `token "${caller.name}" is a reviewer's: it may read and decide review cases only`));
    }
  });
  // In the plugin, so an unknown /api path passes the access rule first.
  api.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));
  batchRoutes(api, ctx);
  lookupRoutes(api, ctx);
  caseRoutes(api, ctx);
  driftRoutes(api, ctx);
  mediaRoutes(api, ctx);
  ringRoutes(api, ctx);
  return Promise.resolve();
};
