/** A vendor's base URL (origin and path prefix) and its keep-alive dispatcher. */
import { Pool } from 'undici';
import { DEFAULT_CONNECTIONS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from '../config/defaults.js';

/** A vendor base URL split into what undici needs: the origin and an optional path prefix. */
export interface VendorEndpoint {
  /** `scheme://host[:port]`. */
  readonly origin: string;
  /** Path prefix without a trailing slash, `''` when none (e.g. `/ooto` for `http://127.0.0.1:4010/ooto`). */
  readonly basePath: string;
}

/** Splits a base URL (which may carry a path prefix) into origin and prefix. Throws TypeError when not a URL. */
export function parseBaseUrl(baseUrl: string): VendorEndpoint {
  const url = new URL(baseUrl);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

/**
 * Joins the base path prefix and an endpoint path, with an optional query (`undefined` values are
 * left out). `joinPath('/ooto', '/api/v1.0/identify', {check_liveness: 'true'})` →
 * `/ooto/api/v1.0/identify?check_liveness=true`.
 */
export function joinPath(basePath: string, path: string, query?: Readonly<Record<string, string | undefined>>): string {
  const joined = `${basePath.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  if (query === undefined) return joined;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.append(name, value);
  }
  const search = params.toString();
  return search === '' ? joined : `${joined}?${search}`;
}

export interface VendorDispatcherOptions {
  /** Most concurrent sockets to the vendor origin. Default 16. */
  readonly connections?: number;
  /** Time limit to establish a TCP/TLS connection, ms. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** How long an idle keep-alive socket stays open, ms. Default 30000 (the server's hint may shorten it). */
  readonly keepAliveTimeoutMs?: number;
}

/** A keep-alive undici Pool to the origin of `baseUrl` (any path prefix is ignored here). */
export function createVendorDispatcher(baseUrl: string, options: VendorDispatcherOptions = {}): Pool {
  const { origin } = parseBaseUrl(baseUrl);
  return new Pool(origin, {
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  });
}
