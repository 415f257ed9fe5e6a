/**
 * A vendor stand-in that is not our simulator: a raw node:http server answering both vendors'
 * deepfake endpoints with the seeds' sample answers (test/fixtures/vendor-samples.ts), a fresh
 * transaction id each time. A storm on one vendor answers every call of it, for a while, with a
 * 503 or a socket destroyed before any answer byte (alternately), as a failing gateway does; cut
 * answers stop halfway through the body (a reset once the answer had begun). It checks nothing else (no credentials, no media): it is the outside world, not a contract test.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GLAIR_FRAMES_200, GLAIR_REAL_200, OOTO_DEEPFAKE_200 } from '../fixtures/vendor-samples.js';

export type StandInVendor = 'ooto' | 'glair';

/** One request the stand-in received, and how it answered. */
export interface StandInCall {
  readonly vendor: StandInVendor;
  /** When it arrived, ms since the epoch. */
  readonly at: number;
  readonly outcome: 200 | 503 | 'reset' | 'cut';
}

export interface VendorStandIn {
  /** `http://127.0.0.1:<port>`: the base URL of both vendors. */
  readonly url: string;
  /** Every vendor call so far (a POST to one of the vendors' endpoints). */
  calls(): readonly StandInCall[];
  /**
   * Every other request so far, `GET /__sim/identity` and the like, answered 404: not vendor calls
   * (a worker without credentials asks whether the base URL is our simulator), so kept out of calls().
   */
  others(): readonly string[];
  /** From now, for `ms`, every call of `vendor` fails at the gateway. Returns the storm's window. */
  storm(vendor: StandInVendor, ms: number): { readonly from: number; readonly to: number };
  /** Answers of `vendor` take this long, ms (default 0). */
  latency(vendor: StandInVendor, ms: number): void;
  /** From now on, every answer of `vendor` is cut: its status and headers, half its body, then the socket destroyed. */
  cutAnswers(vendor: StandInVendor): void;
  close(): Promise<void>;
}

const ROUTES: Readonly<Record<string, { vendor: StandInVendor; body: string }>> = {
  '/api/v1.0/deepfake': { vendor: 'ooto', body: OOTO_DEEPFAKE_200 },
  '/face/v1/deepfake': { vendor: 'glair', body: GLAIR_REAL_200 },
  '/face/v1/deepfake/images': { vendor: 'glair', body: GLAIR_FRAMES_200 },
};

export async function startVendorStandIn(): Promise<VendorStandIn> {
  const calls: StandInCall[] = [];
  const others: string[] = [];
  const storms = new Map<StandInVendor, { from: number; to: number; n: number }>();
  const latencies = new Map<StandInVendor, number>();
  const cut = new Set<StandInVendor>();
  const server: Server = createServer((req, res) => {
    // The whole request first, as a gateway in front of a vendor reads it before failing.
    req.resume();
    req.on('end', () => {
      const route = ROUTES[(req.url ?? '').split('?')[0] ?? ''];
      const at = Date.now();
      if (req.method !== 'POST' || route === undefined) {
        others.push(`${req.method ?? '?'} ${req.url ?? ''}`);
        res.writeHead(404).end();
        return;
      }
      const storm = storms.get(route.vendor);
      if (storm !== undefined && at >= storm.from && at < storm.to) {
        storm.n += 1;
        if (storm.n % 2 === 0) {
          calls.push({ vendor: route.vendor, at, outcome: 'reset' });
          req.socket.destroy();
          return;
        }
        calls.push({ vendor: route.vendor, at, outcome: 503 });
        res.writeHead(503, { 'content-type': 'text/html', connection: 'close' }).end('<html><body><h1>503 Service Unavailable</h1></body></html>');
        return;
      }
      if (cut.has(route.vendor)) {
        calls.push({ vendor: route.vendor, at, outcome: 'cut' });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(route.body.length) });
        res.write(route.body.slice(0, route.body.length >> 1), () => setTimeout(() => req.socket.destroy(), 20));
        return;
      }
      const id = randomUUID();
      const answer = () => {
        calls.push({ vendor: route.vendor, at, outcome: 200 });
        if (route.vendor === 'ooto') {
          const body = JSON.stringify({ ...(JSON.parse(route.body) as object), transactionId: id });
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'Request-Id': id }).end(route.body);
        }
      };
      const delay = latencies.get(route.vendor) ?? 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    others: () => others,
    storm: (vendor, ms) => {
      const from = Date.now();
      storms.set(vendor, { from, to: from + ms, n: 0 });
      return { from, to: from + ms };
    },
    latency: (vendor, ms) => void latencies.set(vendor, ms),
    cutAnswers: (vendor) => void cut.add(vendor),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
