/**
 * The simulator's test credentials (RESCREEN_SIMULATOR_CREDENTIALS): which vendors may get them, and
 * a configuration with them. A vendor's definition names them (`simulatorCredentials`); a real
 * vendor, or a proxy that is not the simulator, never gets them.
 */
import type { Config } from './config.js';
import { isLoopbackHost } from './hosts.js';
import { hasNoCredential } from './vendor-settings.js';

function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * The vendors that may use the simulator's test credentials once their base URL answers as the
 * rescreen simulator (RESCREEN_SIMULATOR_CREDENTIALS=auto): no credential of theirs is set and the
 * base URL is a loopback address. A real vendor, or a proxy that is not the simulator, never gets them.
 */
export function simulatorCandidates(config: Config): string[] {
  if (config.simulatorCredentials !== 'auto') return [];
  return Object.values(config.vendors)
    .filter((s) => s.spec.simulatorCredentials !== undefined && hasNoCredential(s.credentials) && isLoopbackUrl(s.baseUrl))
    .map((s) => s.name);
}

/** `config` with the simulator's test credentials for `vendors` (those whose base URL answered as the simulator). */
export function withSimulatorCredentials(config: Config, vendors: readonly string[]): Config {
  if (vendors.length === 0) return config;
  const updated = Object.fromEntries(
    Object.entries(config.vendors).map(([name, s]) => [
      name,
      vendors.includes(name) && s.spec.simulatorCredentials !== undefined ? { ...s, credentials: { ...s.credentials, ...s.spec.simulatorCredentials } } : s,
    ]),
  );
  return { ...config, vendors: updated };
}
