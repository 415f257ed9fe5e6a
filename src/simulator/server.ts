/**
 * The vendor simulator: one node:http server answering both vendors' endpoints as their documents
 * describe them (OOTO under `/api/v1.0/`, GLAIR under `/face/v1/`), with knobs for latency, failures
 * and quotas. Used by the demo, the tests and the benchmark; `rescreen simulator` serves it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimVendor } from './options.js';
import { ADMIN_PREFIX, handleAdmin } from './admin-routes.js';
import { parseDirectives } from './directives.js';
import { Faults, randomFor } from './faults.js';
import { moveScore } from './outcomes.js';
import { applySettings, defaultSettings, type FailureKind, type ResolvedSettings, type SeedTemplate, type SimulatorOptions, type SimulatorSettings } from './options.js';
import type { Reply, RouteContext, SimulatedVendor, VendorProtocol, VendorRoute } from './route.js';
import { GLAIR_SIMULATION } from './glair-routes.js';
import { OOTO_SIMULATION } from './ooto-routes.js';
import { StatsRecorder, type SimulatorStats } from './stats.js';
import { TemplateStore, identityOf } from './templates.js';

export { SIM_CREDENTIALS } from './options.js';
export type { FailureKind, SeedTemplate, SimulatorOptions, SimulatorSettings } from './options.js';
export type { SimulatorStats } from './stats.js';

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** Base URL for the OOTO client (same as `url`). */
  readonly ootoBaseUrl: string;
  /** Base URL for the GLAIR client (same as `url`). */
  readonly glairBaseUrl: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** A snapshot of the counters. */
  stats(): SimulatorStats;
  /** Epoch ms of the calls each vendor's quota let through (the last 200,000). */
  arrivals(): Record<SimVendor, number[]>;
  /** Zeroes the counters. */
  resetStats(): void;
  /** Changes knobs at run time; each given key replaces its current value. Throws RangeError for bad values. */
  configure(patch: SimulatorSettings): void;
  /** The settings in force. */
  settings(): ResolvedSettings;
  /**
   * Enrols a photo in the OOTO 1:N database in-process (no engine checks), as `POST /api/v1.0/add`
   * would: identity = its `face=<id>` directive, else its sha256. Returns the template id (a fresh
   * UUID unless given; an existing id is replaced).
   */
  addTemplate(bytes: Uint8Array, templateId?: string): string;
  /** Enrols an identity key directly (the `face=<id>` of future probes). Returns the template id. */
  addIdentity(face: string, templateId?: string): string;
  /**
   * The next `count` vendor calls (of `vendor`, or any) fail with `kind`, whatever `failureRate` says;
   * applied after authentication and rate limiting, in order of the calls.
   */
  failNext(count: number, kind: FailureKind, vendor?: SimVendor): void;
  /** Stops listening and closes every connection (idle keep-alive and held ones too). */
  close(): Promise<void>;
}

// The vendors the simulator plays (a test vendor brings its own endpoint).
const SIMULATED: readonly SimulatedVendor[] = [OOTO_SIMULATION, GLAIR_SIMULATION];
const ROUTES: ReadonlyMap<string, VendorRoute> = new Map(SIMULATED.flatMap((s) => s.routes).map((r) => [r.path, r]));
const PROTOCOLS: ReadonlyMap<SimVendor, VendorProtocol> = new Map(SIMULATED.map((s) => [s.protocol.vendor, s.protocol]));

/** Starts a simulator (default `127.0.0.1`, a free port). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  let settings = applySettings(defaultSettings(), options);
  const stats = new StatsRecorder();
  const templates = new TemplateStore();
  const faults = new Faults(settings, options.randomSeed);
  const script = options.script;
  /** sha256 of media whose outcome the script decided (for the call log's `scripted`). */
  const scriptedMedia = new Set<string>();
  // Its own draws: noise must not change which calls the failure draws pick.
  let noiseRandom = randomFor(options.randomSeed === undefined ? undefined : options.randomSeed ^ 0x5eed);
  const ctx: RouteContext = {
    settings: () => settings,
    templates,
    moveScore: (vendor, score) => moveScore(score, settings.scoreShift[vendor], settings.scoreNoise, noiseRandom),
    directivesOf: (bytes, sha256) => {
      const scripted = script?.directivesFor?.(bytes, sha256);
      if (scripted === undefined) return parseDirectives(bytes);
      scriptedMedia.add(sha256);
      return scripted;
    },
  };
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let closing = false;

  const addTemplate = (bytes: Uint8Array, templateId?: string): string => {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sha256 = createHash('sha256').update(buf).digest('hex');
    return templates.add(identityOf(parseDirectives(buf)?.face, sha256), sha256, templateId);
  };
  const addIdentity = (face: string, templateId?: string): string => templates.add(identityOf(face, ''), null, templateId);
  const seed = (list: readonly SeedTemplate[] | undefined): void => {
    for (const t of list ?? []) {
      if ('bytes' in t) addTemplate(t.bytes, t.templateId);
      else addIdentity(t.face, t.templateId);
    }
  };
  seed(options.seedTemplates);

  const configure = (patch: SimulatorSettings): void => {
    settings = applySettings(settings, patch);
    faults.update(settings, patch.rateLimit !== undefined, patch.randomSeed);
    if (patch.randomSeed !== undefined) noiseRandom = randomFor(patch.randomSeed ^ 0x5eed);
    seed(patch.seedTemplates);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (closing) {
        resolve();
        return;
      }
      const entry = {
        timer: setTimeout(() => {
          waits.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      waits.add(entry);
    });

  const snapshot = (): SimulatorStats => ({
    ...stats.snapshot(),
    maxInWindow: { ooto: faults.arrivals('ooto').maxInWindow, glair: faults.arrivals('glair').maxInWindow },
  });
  const resetStats = (): void => {
    stats.reset();
    faults.resetArrivals();
  };
  const arrivals = (): Record<SimVendor, number[]> => ({ ooto: faults.arrivals('ooto').list(), glair: faults.arrivals('glair').list() });
  const admin = { stats: snapshot, arrivals, resetStats, configure, settings: () => settings };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path.startsWith(ADMIN_PREFIX)) {
      send(res, await handleAdmin(req, path, admin));
      return;
    }
    const route = ROUTES.get(path);
    if (route === undefined || req.method !== 'POST') {
      const protocol = SIMULATED.find((s) => path.startsWith(s.protocol.prefix))?.protocol;
      if (protocol === undefined) send(res, { status: 404, body: { error: 'not found' } });
      else send(res, protocol.notFound(), protocol.commonHeaders());
      return;
    }
    const protocol = PROTOCOLS.get(route.vendor)!;
    stats.call(route.endpoint);
    let mediaSha256: string | null = null;
    let scripted = false;
    let extraDelayMs = 0;
    const logCall = (status: number | 'reset' | 'timeout'): void =>
      script?.onCall?.({ at: Date.now(), vendor: route.vendor, endpoint: route.endpoint, sha256: mediaSha256, status, scripted });
    const answer = async (reply: Reply): Promise<void> => {
      const delay = faults.delay() + extraDelayMs;
      if (delay > 0) await sleep(delay);
      stats.response(reply.status);
      logCall(reply.status);
      send(res, reply, protocol.commonHeaders());
    };
    const current = settings;
    if (!protocol.authorized(req, current)) {
      await answer(protocol.unauthorized());
      return;
    }
    const wait = faults.rateLimit(route.vendor, performance.timeOrigin + performance.now());
    if (wait > 0) {
      stats.rateLimited();
      await answer(protocol.rateLimited(wait));
      return;
    }
    const prepared = await route.prepare(req, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), ctx);
    mediaSha256 = prepared.mediaSha256;
    if (prepared.mediaSha256 !== null) stats.media(prepared.mediaSha256);
    const perMedia = prepared.mediaSha256 === null ? undefined : script?.callFor?.(prepared.mediaSha256, route.vendor, route.endpoint);
    extraDelayMs = perMedia?.latencyMs ?? 0;
    scripted = perMedia?.failure !== undefined || (mediaSha256 !== null && scriptedMedia.has(mediaSha256));
    let failure: FailureKind | '429' | null = perMedia?.failure?.kind ?? null;
    if (failure === '429') {
      stats.rateLimited();
      await answer(withRetryAfter(protocol.rateLimited(1_000), perMedia?.failure?.retryAfterSeconds));
      return;
    }
    failure ??= faults.failure(route.vendor);
    if (failure === null) {
      await answer(prepared.answer());
      return;
    }
    stats.failureInjected();
    switch (failure) {
      case '500':
      case '503':
        await answer(protocol.serverError(failure === '500' ? 500 : 503));
        return;
      case 'reset': {
        const delay = faults.delay() + extraDelayMs;
        if (delay > 0) await sleep(delay);
        stats.response('reset');
        logCall('reset');
        req.socket.destroy();
        return;
      }
      case 'timeout':
        // Never answer: the client gives up, or close() ends the connection.
        stats.response('timeout');
        logCall('timeout');
        return;
    }
  }

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, { status: 500, body: { error: 'simulator failure', message: error instanceof Error ? error.message : String(error) } });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const base = `http://${hostForUrl(address)}:${address.port}`;

  return {
    url: base,
    ootoBaseUrl: base,
    glairBaseUrl: base,
    port: address.port,
    stats: snapshot,
    arrivals,
    resetStats,
    configure,
    settings: () => settings,
    addTemplate,
    addIdentity,
    failNext: (count, kind, vendor) => faults.failNext(count, kind, vendor),
    close: async () => {
      if (closing) return;
      closing = true;
      for (const w of waits) {
        clearTimeout(w.timer);
        w.resolve();
      }
      waits.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(res: ServerResponse, reply: Reply, common?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  if (reply.status === 204) {
    res.writeHead(204, { ...common, ...reply.headers });
    res.end();
    return;
  }
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...common,
    ...reply.headers,
  });
  res.end(body);
}

/** A 429 with the `Retry-After` a script asked for: `undefined` keeps the vendor's manner, `null` removes it. */
function withRetryAfter(reply: Reply, seconds: number | null | undefined): Reply {
  if (seconds === undefined) return reply;
  const headers = Object.fromEntries(Object.entries(reply.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'retry-after'));
  return { ...reply, headers: seconds === null ? headers : { ...headers, 'Retry-After': String(Math.max(0, Math.ceil(seconds))) } };
}

function hostForUrl(address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return '127.0.0.1';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
