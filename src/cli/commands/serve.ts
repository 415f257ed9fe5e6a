/** `rescreen serve` (the HTTP API and dashboard), `rescreen webhooks`, and `work --metrics-port`'s server. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createMetrics, DELIVERY_STATES, webhookDeliveries, type DeliveryState, type Metrics, type Runtime } from '../../app/index.js';
import { ConfigError, loadServerConfig } from '../../config/config.js';
import { buildOpsServer, buildServer, isLoopbackBind } from '../../server/index.js';
import { CliError, ExitCode } from '../cli-error.js';
import { withRuntime } from '../context.js';
import { table } from '../format.js';

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError('must be a port number 0–65535');
  return Number(value);
}

/** Resolves on the first SIGINT/SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (name: NodeJS.Signals) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(name);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

const hostPort = (host: string, p: number) => `${host.includes(':') ? `[${host}]` : host}:${p}`;

/** `rescreen serve`: listens until SIGINT/SIGTERM, then finishes in-flight requests and exits 0. */
export async function serve(runtime: Runtime, options: { port: number; host: string; version: string; queuesUi: boolean }): Promise<number> {
  let server;
  try {
    server = loadServerConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
  if (server.tokens.length === 0 && !isLoopbackBind(options.host)) {
    throw new CliError(
      `refusing to serve on ${options.host} without a token: anyone who can reach it could enqueue and read records; set RESCREEN_API_TOKEN (or RESCREEN_API_TOKENS), or bind 127.0.0.1`,
      ExitCode.USAGE,
    );
  }
  const metrics = createMetrics(runtime);
  const app = await buildServer({ runtime, server, metrics, version: options.version, queuesUi: options.queuesUi });
  const address = await app.listen({ port: options.port, host: options.host });
  const roles = server.tokens.map((t) => `${t.name} (${t.role})`).join(', ');
  const base = address.replace(/^http:\/\/[^/]+/, `http://${hostPort(options.host, (app.server.address() as { port: number }).port)}`);
  process.stderr.write(
    `rescreen serve: listening on ${base} — ` +
      (server.tokens.length === 0 ? 'no RESCREEN_API_TOKEN: no authentication, loopback only\n' : `bearer tokens required for /api/*: ${roles}\n`),
  );
  if (options.queuesUi) {
    const operators = server.tokens.filter((t) => t.role === 'operator').length;
    process.stderr.write(`rescreen serve: Bull Board (read-only) at ${base}/queues — ${server.tokens.length === 0 ? 'open (no token configured)' : `operator tokens only (${operators}); browsers log in at ${base}/queues/login`}\n`);
  }
  const signal = await untilSignal();
  process.stderr.write(`rescreen serve: ${signal}: finishing requests in flight\n`);
  await app.close();
  return ExitCode.OK;
}

/** Starts `work --metrics-port`'s /healthz, /readyz, /metrics server; returns its closer. */
export async function startMetricsServer(runtime: Runtime, metrics: Metrics, metricsPort: number, host = '127.0.0.1'): Promise<() => Promise<void>> {
  const app = await buildOpsServer(runtime, metrics);
  await app.listen({ port: metricsPort, host });
  process.stderr.write(`rescreen work: /metrics, /healthz, /readyz on http://${hostPort(host, (app.server.address() as { port: number }).port)}\n`);
  return () => app.close();
}

/** `rescreen webhooks`: the completion-webhook deliveries per batch. */
export async function webhooks(runtime: Runtime, options: { limit: number; state?: DeliveryState; json?: boolean }): Promise<void> {
  const view = await webhookDeliveries(runtime, { limit: options.limit, ...(options.state ? { state: options.state } : {}) });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(view)}\n`);
    return;
  }
  if (!view.configured) process.stdout.write('RESCREEN_WEBHOOK_URL is not set here: no new deliveries are made (earlier ones are listed)\n');
  process.stdout.write(`pending ${view.counts.pending}, delivered ${view.counts.delivered}, failed ${view.counts.failed}\n`);
  if (view.deliveries.length === 0) return;
  const rows = view.deliveries.map((d) => [d.batch, d.state, String(d.attempts), d.updatedAt, d.lastError ? `${d.lastError.code}: ${d.lastError.message}`.slice(0, 80) : '']);
  process.stdout.write(`${table(['batch', 'state', 'attempts', 'updated', 'last error'], rows)}\n`);
}

/** Registers `serve` and `webhooks`. */
export function registerServeCommands(program: Command, version: string, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('the HTTP API (OpenAPI at /openapi.json), the dashboard at /, /metrics, /healthz, /readyz')
    .option('--port <n>', 'port (0: any free one)', port, 8080)
    .option('--host <host>', 'address to bind; anything but loopback needs RESCREEN_API_TOKEN(S)', '127.0.0.1')
    .option('--queues-ui', "Bull Board at /queues over rescreen's queues: operator tokens only, read-only", false)
    .action(async (opts: { port: number; host: string; queuesUi: boolean }) => {
      setExit(await withRuntime((runtime) => serve(runtime, { ...opts, version }), undefined, { survivesRedisRestarts: true }));
    });
  program
    .command('webhooks')
    .description('completion-webhook deliveries per batch: pending, delivered, failed (newest first)')
    .option('--limit <n>', 'at most this many', (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
      return Number(v);
    }, 50)
    .option('--state <state>', `only one state (${DELIVERY_STATES.join(', ')})`, (v) => {
      if (!(DELIVERY_STATES as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${DELIVERY_STATES.join(', ')}`);
      return v as DeliveryState;
    })
    .option('--json', 'as one JSON object')
    .action(async (opts: { limit: number; state?: DeliveryState; json?: boolean }) => {
      await withRuntime((runtime) => webhooks(runtime, opts));
    });
}
