/**
 * What a simulated vendor endpoint is to the server: how it is reached, how it reads its input, and
 * what it answers.
 */
import type { IncomingMessage } from 'node:http';
import type { SimVendor } from './options.js';
import type { SimDirectives } from './directives.js';
import type { ResolvedSettings } from './options.js';
import type { SimEndpoint } from './stats.js';
import type { TemplateStore } from './templates.js';

/** An HTTP answer with a JSON body. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request read and understood, waiting for the server to decide whether to answer it normally. */
export interface Prepared {
  /** sha256 hex of the screened media, for `callsByMediaSha256`; `null` when none or not a screening call. */
  readonly mediaSha256: string | null;
  /** Builds the normal answer. */
  answer(): Reply;
}

/** Shared state a route may use. */
export interface RouteContext {
  readonly settings: () => ResolvedSettings;
  readonly templates: TemplateStore;
  /** The directives of media with these bytes: a per-media script's (testing kit), else those in the bytes. */
  readonly directivesOf: (bytes: Buffer, sha256: string) => SimDirectives | null;
  /** A vendor's deepfake score as the settings move it (`scoreShift`, `scoreNoise`). */
  readonly moveScore: (vendor: SimVendor, score: number) => number;
}

export interface VendorRoute {
  readonly vendor: SimVendor;
  readonly endpoint: SimEndpoint;
  /** Path without query, e.g. `/api/v1.0/deepfake`. */
  readonly path: string;
  prepare(req: IncomingMessage, query: URLSearchParams, ctx: RouteContext): Promise<Prepared>;
}

/** A vendor's protocol around its endpoints: authentication and its generic error answers. */
export interface VendorProtocol {
  readonly vendor: SimVendor;
  /** Path prefix of the vendor's API, e.g. `/api/v1.0/`. */
  readonly prefix: string;
  authorized(req: IncomingMessage, settings: ResolvedSettings): boolean;
  unauthorized(): Reply;
  /** 429; `retryAfterMs` is what is left of the quota window. */
  rateLimited(retryAfterMs: number): Reply;
  serverError(status: 500 | 503): Reply;
  notFound(): Reply;
  /** Headers every answer of this vendor carries (GLAIR: a fresh `Request-Id`). */
  commonHeaders(): Record<string, string> | undefined;
}

/** One vendor as the simulator plays it: its protocol (auth, errors) and its endpoints. */
export interface SimulatedVendor {
  readonly protocol: VendorProtocol;
  readonly routes: readonly VendorRoute[];
}
