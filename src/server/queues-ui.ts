/**
 * `/queues` (`serve --queues-ui`): Bull Board over rescreen's queues (src/app/queue-views.ts), in an
 * encapsulated plugin carrying its own access rule. Operators only: without a token 401 (a browser
 * gets the login form), a read or reviewer token 403. The token comes as `Authorization: Bearer`,
 * or once through the login form, which answers with a session cookie (./session-cookie.ts). The
 * board's page, its static files and its /queues/api/* routes all pass the same rule.
 *
 * Read-only, always: every queue is given to Bull Board with `readOnlyMode`, and this plugin refuses
 * any method but GET and HEAD (login and logout aside) before Bull Board sees it. Retrying, cleaning
 * or pausing a job behind rescreen's back would skip what its own commands keep (the result store,
 * the call ledger, the batch's budget and state): `rescreen batch pause|cancel`, `retry` and `purge` do it.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { openQueueViews, type Runtime } from '../app/index.js';
import type { ApiToken } from '../config/server.js';
import { TokenVerifier, type Caller } from './auth.js';
import { problem, sendProblem, type Problem } from './problem.js';
import { loginPage, safeNext } from './queues-login.js';
import { SessionCookies } from './session-cookie.js';

export const QUEUES_UI_PATH = '/queues';

export interface QueuesUiOptions {
  readonly tokens: readonly ApiToken[];
  readonly runtime: Runtime;
}

const READING: ReadonlySet<string> = new Set(['GET', 'HEAD']);
const LOGIN = `${QUEUES_UI_PATH}/login`;
const LOGOUT = `${QUEUES_UI_PATH}/logout`;

// The board's own inline styles need 'unsafe-inline' for styles; scripts are its files only. No
// third-party request (its Google Fonts link is refused: the system font is used), no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

/** Served over https (directly, or by a proxy that says so): the cookie is then marked Secure. */
function overHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || first === 'https';
}

/** A page a browser navigates to: it gets HTML (the login form), anything else problem+json. */
function wantsPage(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

function refuse(request: FastifyRequest, reply: FastifyReply, p: Problem): FastifyReply {
  if (p.status === 401) reply.header('www-authenticate', 'Bearer realm="rescreen"');
  if (!wantsPage(request)) return sendProblem(reply, p);
  return reply.code(p.status).type('text/html; charset=utf-8').send(loginPage({ message: p.detail, next: request.url.split('?')[0] }));
}

/** The `/queues` plugin: register it with `{ prefix: '/queues' }`. */
export const queuesUiPlugin: FastifyPluginAsync<QueuesUiOptions> = async (ui, { tokens, runtime }) => {
  const verifier = new TokenVerifier(tokens);
  const sessions = new SessionCookies(tokens);
  const { views, close } = openQueueViews(runtime);
  ui.addHook('onClose', () => close());

  // The login form's body (a browser's form post); URLSearchParams never throws, so nothing of it is ever echoed.
  ui.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, new URLSearchParams(String(body)));
  });
  ui.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
  });
  ui.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === LOGIN || route === LOGOUT) return;
    const header = request.headers.authorization;
    const caller: Caller | undefined = header !== undefined || verifier.open ? verifier.verify(header) : sessions.verify(SessionCookies.read(request.headers.cookie));
    if (!caller) return refuse(request, reply, problem(401, 'UNAUTHORIZED', 'an operator token is required: log in at /queues/login, or send Authorization: Bearer <token>'));
    request.caller = caller;
    if (caller.role !== 'operator') return refuse(request, reply, problem(403, 'FORBIDDEN', `token "${caller.name}" is not an operator's: the queue UI is for operators`));
    if (!READING.has(request.method)) {
      return sendProblem(reply, problem(403, 'FORBIDDEN', "the queue UI is read-only: change batches with rescreen's commands (batch pause|resume|cancel, retry, purge)"));
    }
  });

  ui.get('/login', { schema: { hide: true } }, async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    if (verifier.open) return reply.redirect(next, 303);
    return reply.type('text/html; charset=utf-8').send(loginPage({ next }));
  });
  ui.post('/login', { schema: { hide: true } }, async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const next = safeNext(form.get('next'));
    const token = form.get('token') ?? undefined;
    const caller = verifier.verifyToken(token);
    const page = (status: number, message: string) => reply.code(status).type('text/html; charset=utf-8').send(loginPage({ message, next }));
    if (!caller) return page(401, 'That token is not valid.');
    request.caller = caller;
    if (caller.role !== 'operator') return page(403, `Token "${caller.name}" is not an operator's: the queue UI is for operators.`);
    if (verifier.open) return reply.redirect(next, 303);
    return reply.header('set-cookie', SessionCookies.header(sessions.issue(token!), { secure: overHttps(request) })).redirect(next, 303);
  });
  // Logging out forgets the cookie (a GET too: the board's menu has links only, and it changes nothing else).
  ui.route({
    method: ['GET', 'POST'],
    url: '/logout',
    schema: { hide: true },
    handler: async (request, reply) => reply.header('set-cookie', SessionCookies.header('', { secure: overHttps(request), maxAge: 0 })).redirect(LOGIN, 303),
  });
  // In the plugin, so an unknown /queues path passes the access rule first.
  ui.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  const board = new FastifyAdapter();
  board.setBasePath(QUEUES_UI_PATH);
  createBullBoard({
    queues: views.map((v) => new BullMQAdapter(v.queue, { readOnlyMode: true, description: v.description })),
    serverAdapter: board,
    options: {
      uiConfig: {
        boardTitle: 'rescreen queues',
        // A band over the board: which prefix (one Redis may host several), and that it only looks.
        environment: { label: `prefix ${runtime.config.prefix} · read-only`, color: '#2d4a6b', textColor: '#ffffff' },
        miscLinks: [{ text: 'Log out', url: LOGOUT }],
        hideDocsLink: true,
        sortQueues: false,
      },
    },
  });
  await ui.register(board.registerPlugin());
};
