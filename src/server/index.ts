/** The HTTP surface: `rescreen serve` (API, dashboard, OpenAPI, metrics) and the worker's metrics server. */
export { buildOpsServer, buildServer, type ServerOptions } from './server.js';
export { isLoopbackBind } from './auth.js';
