/**
 * How rescreen tells its own simulator from any other server on a base URL (a local egress proxy, a
 * vendor's sandbox): `GET <base>/__sim/identity` answers {@link SIMULATOR_IDENTITY}. Only then may a
 * worker without credentials use the simulator's test credentials (config.ts `withSimulatorCredentials`).
 */
import { request } from 'undici';

/** The identity endpoint, under the simulator's admin prefix (no authentication, latency or failures apply). */
export const SIMULATOR_IDENTITY_PATH = '/__sim/identity';

/** What the simulator answers there: a fixed JSON object. */
export const SIMULATOR_IDENTITY = Object.freeze({ service: 'rescreen-simulator' });

/** Most bytes of an identity answer read: anything longer is not the simulator. */
const MAX_IDENTITY_BYTES = 4_096;

/**
 * True when `baseUrl` answers the simulator's identity, within `timeoutMs`. One GET without any
 * credential; a refused connection, a timeout, another status or another body: false. Never throws.
 */
export async function answersAsSimulator(baseUrl: string, timeoutMs = 1_500): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const { statusCode, body } = await request(`${baseUrl.replace(/\/+$/, '')}${SIMULATOR_IDENTITY_PATH}`, {
      method: 'GET',
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      headers: { accept: 'application/json', 'user-agent': 'rescreen' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > MAX_IDENTITY_BYTES) {
        body.destroy();
        return false;
      }
      chunks.push(chunk);
    }
    if (statusCode !== 200) return false;
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && (parsed as { service?: unknown }).service === SIMULATOR_IDENTITY.service;
  } catch {
    return false;
  }
}
